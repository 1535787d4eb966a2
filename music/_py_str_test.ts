import assert from "node:assert/strict";
import { pyIsDigit, pySplit, pyStrip } from "./_py_str.ts";

Deno.test("pyStrip() strips Python whitespace but keeps a BOM", () => {
  assert.equal(pyStrip("\x1c Piano \x85\t"), "Piano");
  assert.equal(pyStrip("\uFEFFPiano"), "\uFEFFPiano");
});

Deno.test("pySplit() splits on runs of Python whitespace", () => {
  assert.deepEqual(pySplit("  Acoustic\x1fGrand  Piano "), ["Acoustic", "Grand", "Piano"]);
  assert.deepEqual(pySplit(""), []);
});

Deno.test("pyIsDigit() accepts Unicode digits and superscripts, not an empty string", () => {
  assert.ok(pyIsDigit("12"));
  assert.ok(pyIsDigit("\u0663\u00b2"));
  assert.ok(!pyIsDigit(""));
  assert.ok(!pyIsDigit("1a"));
  assert.ok(!pyIsDigit("\u00bd"));
});
