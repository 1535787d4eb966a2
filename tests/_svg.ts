/**
 * Test helpers for plots/: a light well-formedness check of SVG text. Not a full XML parser, but
 * it catches what string-built SVG gets wrong: unbalanced tags, bare `&` or `<`, and numbers
 * that were never numbers (`NaN`, `undefined`, `Infinity`).
 *
 * @module
 */
import assert from "node:assert/strict";

/**
 * Asserts that `svg` looks like a well-formed SVG document.
 *
 * @param svg the document text
 * @throws {AssertionError} naming the first problem found
 */
export function assertWellFormedSvg(svg: string): void {
  assert.ok(svg.startsWith("<svg "), "starts with <svg");
  assert.ok(svg.trimEnd().endsWith("</svg>"), "ends with </svg>");
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.doesNotMatch(svg, /NaN|undefined|Infinity|null/, "no non-numbers in the output");
  assert.doesNotMatch(svg, /&(?!(amp|lt|gt|quot|apos);)/, "every & starts an entity");
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<|>/g;
  for (const m of svg.matchAll(tag)) {
    const [whole, closing, name, , selfClosing] = m;
    assert.ok(name !== undefined, `stray ${whole} at ${m.index}`);
    if (selfClosing === "/") continue;
    if (closing === "/") {
      const open = stack.pop();
      assert.equal(open, name, `</${name}> at ${m.index} closes <${open}>`);
    } else {
      stack.push(name);
    }
  }
  assert.deepEqual(stack, [], "every tag is closed");
}
