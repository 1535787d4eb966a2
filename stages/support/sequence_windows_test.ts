import assert from "node:assert/strict";
import { makeSequenceWindows, streamOfWindows } from "./sequence_windows.ts";
import { makeWindows } from "./windows.ts";

/** Ten hand-made ids over a vocabulary of 10, so an input reads as its id / 10. */
const IDS = Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6, 5, 3]);

const rows = (a: ArrayLike<number>, width: number) =>
  Array.from(
    { length: a.length / width },
    (_, r) => Array.from(a).slice(r * width, r * width + width),
  );

Deno.test("makeSequenceWindows() pairs each window with the next id at every position", async (t) => {
  const cases = [
    // Windows of 3 that do not overlap: starts 0, 3, 6; the last id (3) is the last target.
    {
      stride: 3,
      x: [[3, 1, 4], [1, 5, 9], [2, 6, 5]],
      y: [[1, 4, 1], [5, 9, 2], [6, 5, 3]],
    },
    // Two apart: starts 0, 2, 4, 6.
    {
      stride: 2,
      x: [[3, 1, 4], [4, 1, 5], [5, 9, 2], [2, 6, 5]],
      y: [[1, 4, 1], [1, 5, 9], [9, 2, 6], [6, 5, 3]],
    },
    // Four apart: starts 0, 4; the 2 ids after the second window's target are no one's target.
    { stride: 4, x: [[3, 1, 4], [5, 9, 2]], y: [[1, 4, 1], [9, 2, 6]] },
    // One apart: every window makeWindows cuts, with all its targets.
    {
      stride: 1,
      x: [[3, 1, 4], [1, 4, 1], [4, 1, 5], [1, 5, 9], [5, 9, 2], [9, 2, 6], [2, 6, 5]],
      y: [[1, 4, 1], [4, 1, 5], [1, 5, 9], [5, 9, 2], [9, 2, 6], [2, 6, 5], [6, 5, 3]],
    },
  ];
  for (const { stride, x, y } of cases) {
    await t.step(`stride ${stride}`, () => {
      const cut = makeSequenceWindows(IDS, 3, stride, 10);
      assert.equal(cut.count, x.length);
      assert.deepEqual(rows(cut.x, 3), x.map((r) => r.map((id) => Math.fround(id / 10))));
      assert.deepEqual(rows(cut.y, 3), y);
    });
  }
});

Deno.test("makeSequenceWindows() gives no window when the ids do not fill one and its targets", () => {
  assert.equal(makeSequenceWindows(IDS, 10, 10, 10).count, 0);
  assert.equal(makeSequenceWindows(IDS, 9, 9, 10).count, 1);
  assert.throws(() => makeSequenceWindows(IDS, 3, 0, 10), /stride must be a positive integer/);
});

Deno.test("makeSequenceWindows() cuts about 1/length of the windows makeWindows cuts", () => {
  // The tutorial's window of 100 on a stream of 10,000 tokens: 9,900 windows against 99.
  const ids = Int32Array.from({ length: 10_000 }, (_, i) => (i * 7) % 50);
  assert.equal(makeWindows(ids, 100, 50).count, 9_900);
  const cut = makeSequenceWindows(ids, 100, 100, 50);
  assert.equal(cut.count, 99);
  // Every token but the first and the last 99 is a target exactly once.
  assert.equal(cut.y.length, 9_900);
});

Deno.test("streamOfWindows() gives back the ids makeWindows cut its windows from", () => {
  const { x, y, count } = makeWindows(IDS, 3, 10);
  assert.deepEqual(streamOfWindows(x, y, count, 3, 10), IDS);
  // Windows that are not one id apart of one stream spell out none.
  const shuffled = Float32Array.from(x);
  shuffled.set(x.subarray(0, 3), 3);
  assert.equal(streamOfWindows(shuffled, y, count, 3, 10), null);
  assert.equal(streamOfWindows(x, y.subarray(1), count, 3, 10), null);
});
