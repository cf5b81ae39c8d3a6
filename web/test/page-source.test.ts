// The page inserts every value as text: no HTML string is ever parsed, nothing is eval'd
// (a strict Content-Security-Policy would refuse it anyway).

import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";

const SRC = resolve(process.cwd(), "src");
const FORBIDDEN =
  /\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(|setTimeout\(\s*["'`]|createContextualFragment|srcdoc/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

test("no module parses HTML or evaluates strings", () => {
  const files = sources(SRC).filter((f) => /\.(ts|html)$/.test(f));
  assert.ok(files.length > 10);
  for (const file of files) {
    assert.doesNotMatch(readFileSync(file, "utf8"), FORBIDDEN, file);
  }
});

test("the page's HTML has no inline script, style or event handler", () => {
  const html = readFileSync(join(SRC, "index.html"), "utf8");
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)/);
  assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i);
});
