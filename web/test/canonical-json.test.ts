import assert from "node:assert/strict";
import { test } from "node:test";

import { pythonJson } from "../src/lib/canonical-json";

test("compact, key-sorted, ASCII-escaped like Python's json.dumps", () => {
  assert.equal(pythonJson({ b: 1, a: "x", c: [true, null, 2n] }), '{"a":"x","b":1,"c":[true,null,2]}');
  assert.equal(pythonJson("é中😀"), '"\\u00e9\\u4e2d\\ud83d\\ude00"');
  assert.equal(
    pythonJson('"\\\b\f\n\r\t\u0000\u001f\u007f~ '),
    '"\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001f\\u007f~ "',
  );
});

test("keys are sorted by code point, not by UTF-16 unit", () => {
  // U+FF61 sorts after U+1F600's high surrogate (U+D83D) as UTF-16, before it as code points.
  assert.equal(pythonJson({ "😀": 1, "｡": 2 }), '{"\\uff61":2,"\\ud83d\\ude00":1}');
});

test("refuses numbers Python would print as floats", () => {
  assert.throws(() => pythonJson(1.5));
  assert.throws(() => pythonJson(2 ** 53));
  assert.equal(pythonJson(2n ** 64n), "18446744073709551616");
});
