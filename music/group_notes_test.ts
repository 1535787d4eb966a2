import assert from "node:assert/strict";
import { groupNotes } from "./group_notes.ts";

/** SPEC §6 word for word: each first note compared with every later note of its window. */
function groupsAsMusic21(on: number[], off: number[], tpq: number): number[][] {
  const gathered = new Set<number>();
  const groups: number[][] = [];
  for (let i = 0; i < on.length; i++) {
    if (gathered.has(i)) continue;
    const group = [i];
    for (let j = i + 1; j < on.length; j++) {
      if (16 * Math.abs(on[j]! - on[i]!) > tpq) break;
      if (16 * Math.abs(off[j]! - off[i]!) > tpq) continue;
      group.push(j);
      gathered.add(i).add(j);
    }
    groups.push(group);
  }
  return groups;
}

/** The groups of notes placed after `pad` notes of another track, renumbered from 0. */
function groups(on: number[], off: number[], tpq: number, pad = 3): number[][] {
  const out: number[][] = [];
  const column = (ticks: number[]) => Float64Array.from([...Array(pad).fill(7), ...ticks]);
  groupNotes(column(on), column(off), pad, pad + on.length, tpq, (head, members) => {
    out.push([head, ...members].map((n) => n - pad));
  });
  return out;
}

Deno.test("groupNotes() forms music21's groups, including a note that joins two chords", () => {
  // i9: C4 off@480, E4 off@520, G4 off@500, all on at 0: {C4, G4} then {E4, G4}.
  assert.deepEqual(groups([0, 0, 0], [480, 520, 500], 480), [[0, 2], [1, 2]]);
  // i8: onsets 0, 20, 40 are each compared with the first note: {0, 20} and {40}.
  assert.deepEqual(groups([0, 20, 40], [480, 480, 480], 480), [[0, 1], [2]]);
});

Deno.test("groupNotes() matches music21's search on random notes, windows small and large", () => {
  let seed = 12345;
  const random = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
  const tpqs = [1, 15, 16, 17, 96, 100, 480, 1024, 32767];
  for (let round = 0; round < 1500; round++) {
    const tpq = tpqs[random(tpqs.length)]!;
    // Large counts with few distinct onsets make the windows large enough for bucketing.
    const count = round % 2 ? random(40) : 200 + random(800);
    const together = round % 2 ? 0.6 : 0.97;
    // Ticks near 2^53, beyond it (even integers only) and infinite test the bucket arithmetic.
    const base = [0, 2 ** 53 - 300, 2 ** 60][random(3)]!;
    const unit = base >= 2 ** 60 ? 256 : 1;
    const on: number[] = [];
    const off: number[] = [];
    let t = base;
    for (let k = 0; k < count; k++) {
      if (random(1000) / 1000 > together) t += random(1 + Math.ceil(tpq / 8)) * unit;
      if (round % 7 === 0 && random(100) < 2) t = Infinity;
      on.push(t);
      off.push(round % 5 === 0 && random(10) < 2 ? Infinity : t + random(1 + tpq / 4) * unit);
    }
    assert.deepEqual(groups(on, off, tpq), groupsAsMusic21(on, off, tpq), `round ${round}`);
  }
});

Deno.test("groupNotes() groups 100,000 notes at one tick in near-linear time", () => {
  // Ends 40 ticks apart at tpq 480: no two notes group, so music21 compares every pair.
  const count = 100_000;
  const on = new Float64Array(count);
  const off = Float64Array.from({ length: count }, (_, k) => 480 + 40 * ((k * 7919) % count));
  const started = performance.now();
  let made = 0;
  groupNotes(on, off, 0, count, 480, () => made++);
  assert.equal(made, count);
  assert.ok(performance.now() - started < 2000, `${performance.now() - started} ms`);
});
