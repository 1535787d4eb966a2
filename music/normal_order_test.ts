import assert from "node:assert/strict";
import { chordToken, normalOrder, normalOrderOfMask } from "./normal_order.ts";

const TABLE = new URL("../../shared/references/music21/normal-order-table.json", import.meta.url);

Deno.test("normalOrder() gives music21 6.7.1's answer for all 4,095 pitch-class sets", async () => {
  const { table } = JSON.parse(await Deno.readTextFile(TABLE)) as {
    table: Record<string, number[]>;
  };
  assert.equal(Object.keys(table).length, 4095);
  const wrong: string[] = [];
  for (const [key, want] of Object.entries(table)) {
    let mask = 0;
    for (const pc of key.split(".")) mask |= 1 << Number(pc);
    const got = normalOrderOfMask(mask);
    if (got.join(".") !== want.join(".")) wrong.push(`${key}: ${got} != ${want}`);
  }
  assert.deepEqual(wrong, []);
});

Deno.test("normalOrder() reverses the prime form's intervals for an inverted set", () => {
  assert.deepEqual(normalOrder([60, 63, 64, 68]), [8, 0, 3, 4]);
  assert.deepEqual(normalOrder([60, 64, 67, 68]), [0, 4, 7, 8]);
});

Deno.test("chordToken() ignores octaves, duplicates and order", () => {
  assert.equal(chordToken([67, 60, 64]), "0.4.7");
  assert.equal(chordToken([64, 69]), "4.9");
  assert.equal(chordToken([71, 64]), "11.4");
  assert.equal(chordToken([54, 60]), "0.6");
  assert.equal(chordToken([48, 60, 60]), "0");
});

Deno.test("normalOrderOfMask() rejects an empty set", () => {
  assert.throws(() => normalOrderOfMask(0), RangeError);
});
