import assert from "node:assert/strict";
import { test } from "node:test";

import { formatUnits, jsonInteger, parseUnits } from "../src/lib/money";

test("exact decimal text round-trips through integer base units", () => {
  for (const text of ["0", "2.01", "0.000001", "10000", "123456789.123456789", "-1.5"]) {
    const parsed = parseUnits(text, 9);
    assert.ok(parsed.ok);
    assert.equal(formatUnits(parsed.units, 9), text);
  }
  assert.equal(formatUnits(10n ** 18n + 1n, 18), "1.000000000000000001");
});

test("text Python's Decimal reads but a person would not type is refused", () => {
  for (const text of ["1_000", "١٢", "１２", "0x10", "1 000", "1e1000000000"]) {
    assert.equal(parseUnits(text, 6).ok, false, text);
  }
});

test("integers from JSON are exact or refused", () => {
  assert.equal(jsonInteger(2010000), 2010000n);
  assert.equal(jsonInteger("1000000000000000000000"), 10n ** 21n);
  assert.equal(jsonInteger(0.5), null);
  assert.equal(jsonInteger(2 ** 60), null);
});
