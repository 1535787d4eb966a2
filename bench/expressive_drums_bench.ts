/**
 * Measures candidate expressive drum encodings on every Groove file (issue 23), the figures
 * music/drums/expressive_drums.ts chose its form and resolution by:
 *
 * - A1: the grid's step tokens, each followed by one token per hit holding its velocity bucket
 *   and its offset from the step (the chosen form);
 * - A2: the same steps, each hit as two tokens, its velocity, then its offset;
 * - A3: a bare step marker, then one token per hit naming its drum, velocity and offset;
 * - B: MIDI-like events: time shifts in fine units (at most a quarter note each), then a note-on
 *   per hit naming its drum and velocity.
 *
 * All quantize a hit's time to the same fine grid and its velocity to the same buckets, so their
 * errors are the same at one resolution; they differ in vocabulary and length. For each
 * resolution it prints the largest and mean timing error (ticks at 480 per quarter, and
 * milliseconds at the file's own tempo) and velocity error, and for each candidate the tokens per
 * 4/4 bar, the vocabulary the files use, the vocabulary possible, and how many used tokens occur
 * fewer than 10 times (too rare to learn).
 *
 * The bits are those of an interpolated Witten-Bell 4-gram model counted on the train split of
 * info.csv and scored on its test split.
 *
 * Run (about two minutes): `deno run --allow-read bench/expressive_drums_bench.ts [data/groove]`
 *
 * @module
 */
import { DRUM_CLASS_NAMES, DRUM_CLASSES_BY_NAME } from "../music/drums/drums.ts";
import { type DrumHits, readDrumHits } from "../music/drums/drum_midi.ts";
import {
  bucketVelocity,
  type ExpressiveHit,
  expressiveTokens,
  stepOfUnit,
  unitOfTick,
} from "../music/drums/expressive_drums.ts";

/** A resolution: fine units per quarter note, and the width of a velocity bucket. */
interface Resolution {
  unitsPerQuarter: number;
  velocityWidth: number;
}

const RESOLUTIONS: Resolution[] = [
  { unitsPerQuarter: 48, velocityWidth: 16 },
  { unitsPerQuarter: 48, velocityWidth: 8 },
  { unitsPerQuarter: 96, velocityWidth: 8 },
  { unitsPerQuarter: 96, velocityWidth: 5 },
  { unitsPerQuarter: 160, velocityWidth: 5 },
  { unitsPerQuarter: 240, velocityWidth: 3 },
  { unitsPerQuarter: 480, velocityWidth: 1 },
];
const STEPS_PER_QUARTER = 4;
const RARE = 10;

/** A hit at a resolution, and when its tokens place it in units from the start. */
type Hit = ExpressiveHit & { at: number };

/** One file's hits at a resolution, in time, and each hit's timing and velocity error. */
function quantized(hits: DrumHits, res: Resolution) {
  const tpq = hits.ticksPerQuarter;
  const units = res.unitsPerQuarter / STEPS_PER_QUARTER;
  const out: Hit[] = [];
  const errors = { ticks: [] as number[], velocity: [] as number[] };
  for (let i = 0; i < hits.count; i++) {
    const tick = hits.tick[i]!;
    const at = unitOfTick(tick, tpq, res.unitsPerQuarter);
    const step = stepOfUnit(at, units);
    const velocity = bucketVelocity(hits.velocity[i]!, res.velocityWidth);
    // Errors in ticks at 480 per quarter, whatever the file's division.
    errors.ticks.push(Math.abs(at / res.unitsPerQuarter - tick / tpq) * 480);
    errors.velocity.push(Math.abs(velocity - hits.velocity[i]!));
    out.push({ at, step, offset: at - step * units, drumClass: hits.drumClass[i]!, velocity });
  }
  const rank = (d: number) => DRUM_CLASSES_BY_NAME.indexOf(d);
  out.sort((a, b) =>
    a.at - b.at || rank(a.drumClass) - rank(b.drumClass) || a.velocity - b.velocity
  );
  return { hits: out, errors };
}

type Candidate = "A1" | "A2" | "A3" | "A4" | "B";
const CANDIDATES: Candidate[] = ["A1", "A2", "A3", "A4", "B"];

/** The candidate's tokens of one file's hits, sorted in time. */
function tokensOf(hits: Hit[], res: Resolution, candidate: Candidate): string[] {
  const name = (h: Hit) => DRUM_CLASS_NAMES[h.drumClass]!;
  const steps = hits.length === 0 ? 0 : hits.at(-1)!.step + 1;
  // A4 is the encoding music/drums/expressive_drums.ts writes.
  if (candidate === "A4") {
    return expressiveTokens(hits, steps, res.unitsPerQuarter / STEPS_PER_QUARTER);
  }
  const tokens: string[] = [];
  if (candidate === "B") {
    let now = 0;
    for (const hit of hits) {
      for (let gap = hit.at - now; gap > 0; gap -= res.unitsPerQuarter) {
        tokens.push(`shift${Math.min(gap, res.unitsPerQuarter)}`);
      }
      now = hit.at;
      tokens.push(`${name(hit)}:v${hit.velocity}`);
    }
    return tokens;
  }
  let next = 0;
  for (let step = 0; step < steps; step++) {
    const inStep: Hit[] = [];
    while (next < hits.length && hits[next]!.step === step) inStep.push(hits[next++]!);
    // By class name, then time: the order the step token lists them in.
    inStep.sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : a.at - b.at));
    const offset = (h: Hit) => (h.offset < 0 ? `${h.offset}` : `+${h.offset}`);
    if (candidate === "A3") {
      tokens.push("|");
      for (const h of inStep) tokens.push(`${name(h)}:v${h.velocity}${offset(h)}`);
      continue;
    }
    tokens.push(inStep.length === 0 ? "-" : inStep.map(name).join("+"));
    for (const h of inStep) {
      if (candidate === "A1") tokens.push(`v${h.velocity}${offset(h)}`);
      else tokens.push(`v${h.velocity}`, `o${offset(h)}`);
    }
  }
  return tokens;
}

/** How many tokens the candidate could ever write (its step tokens: those the files use). */
function possibleVocabulary(candidate: Candidate, res: Resolution, stepTokens: number): number {
  const velocities = Math.ceil(127 / res.velocityWidth);
  const offsets = res.unitsPerQuarter / STEPS_PER_QUARTER;
  const drums = DRUM_CLASS_NAMES.length;
  switch (candidate) {
    case "A1":
      return stepTokens + velocities * offsets;
    case "A2":
      return stepTokens + velocities + offsets;
    case "A3":
      return 1 + drums * velocities * offsets;
    case "A4":
      return 1 + offsets + drums * velocities;
    case "B":
      return res.unitsPerQuarter + drums * velocities;
  }
}

const summary = (xs: number[]) => ({
  max: xs.reduce((a, b) => Math.max(a, b), 0),
  mean: xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length),
});

/**
 * Bits per token of `test` under an interpolated Witten-Bell n-gram model counted on `train`:
 * how much a simple next-token model still has to guess. Every candidate encodes the same
 * quantized hits, so bits per bar compares how learnable their token streams are; a token the
 * training files never hold falls back to a uniform guess over the candidate's possible
 * vocabulary.
 */
function ngramBits(train: string[][], test: string[][], order: number, vocabulary: number) {
  // Token ids from 1 (0 is the padding before a file's first token); a context of up to three
  // ids is one number, base 2^17, with its length in the lowest bits so lengths never collide.
  const ids = new Map<string, number>();
  const idOf = (t: string) => ids.get(t) ?? (ids.set(t, ids.size + 1), ids.size);
  const key = (ctx: number[], i: number, n: number) => {
    let k = 0;
    for (let j = i - n; j < i; j++) k = k * 131_072 + ctx[j]!;
    return k * 4 + n;
  };
  const counts = new Map<number, Map<number, number>>();
  const totals = new Map<number, number>();
  const padded = (tokens: string[]) => [...Array(order - 1).fill(0), ...tokens.map(idOf)];
  for (const tokens of train) {
    const ctx = padded(tokens);
    for (let i = order - 1; i < ctx.length; i++) {
      for (let n = 0; n < order; n++) {
        const k = key(ctx, i, n);
        let next = counts.get(k);
        if (next === undefined) counts.set(k, next = new Map());
        next.set(ctx[i]!, (next.get(ctx[i]!) ?? 0) + 1);
        totals.set(k, (totals.get(k) ?? 0) + 1);
      }
    }
  }
  let bits = 0, seen = 0;
  for (const tokens of test) {
    const ctx = padded(tokens);
    for (let i = order - 1; i < ctx.length; i++) {
      let p = 1 / (vocabulary + 1);
      for (let n = 0; n < order; n++) {
        const k = key(ctx, i, n);
        const next = counts.get(k);
        if (next === undefined) break;
        p = ((next.get(ctx[i]!) ?? 0) + next.size * p) / (totals.get(k)! + next.size);
      }
      bits -= Math.log2(p);
      seen++;
    }
  }
  return bits / seen;
}

const ORDER = 4;

if (import.meta.main) {
  const dir = Deno.args[0] ?? "data/groove";
  const [header, ...rows] = (await Deno.readTextFile(`${dir}/info.csv`)).trim().split("\n")
    .map((line) => line.split(","));
  const column = (name: string) => header!.indexOf(name);
  const files = await Promise.all(rows.map(async (row) => ({
    split: row[column("split")]!,
    hits: readDrumHits(await Deno.readFile(`${dir}/${row[column("midi_filename")]}`), "measure"),
  })));
  const hitCount = files.reduce((a, f) => a + f.hits.count, 0);
  console.log(`${files.length} files, ${hitCount} hits in the nine classes`);
  console.log(
    "\n| units/quarter (ticks at 480) | velocity buckets (width) | timing max / mean ticks | " +
      "timing max / mean ms | velocity max / mean |",
  );
  console.log("|---|---|---|---|---|");
  const lengths: string[] = [];
  for (const res of RESOLUTIONS) {
    const ticks: number[] = [], ms: number[] = [], velocity: number[] = [];
    const perCandidate = new Map(
      CANDIDATES.map((c) => [c, {
        tokens: 0,
        counts: new Map<string, number>(),
        train: [] as string[][],
        test: [] as string[][],
      }]),
    );
    let bars = 0, testBars = 0;
    const stepTokens = new Set<string>();
    for (const { hits, split } of files) {
      const q = quantized(hits, res);
      const msPerTick = 60_000 / ((hits.bpm ?? 120) * 480);
      ticks.push(...q.errors.ticks);
      ms.push(...q.errors.ticks.map((t) => t * msPerTick));
      velocity.push(...q.errors.velocity);
      const fileBars = ((q.hits.at(-1)?.step ?? -1) + 1) / (4 * STEPS_PER_QUARTER);
      bars += fileBars;
      if (split === "test") testBars += fileBars;
      for (const c of CANDIDATES) {
        const tokens = tokensOf(q.hits, res, c);
        const into = perCandidate.get(c)!;
        into.tokens += tokens.length;
        for (const t of tokens) into.counts.set(t, (into.counts.get(t) ?? 0) + 1);
        if (split === "train") into.train.push(tokens);
        if (split === "test") into.test.push(tokens);
        if (c === "A1") { for (const t of tokens) if (!t.startsWith("v")) stepTokens.add(t); }
      }
    }
    const t = summary(ticks), m = summary(ms), v = summary(velocity);
    const label = `${res.unitsPerQuarter} (${480 / res.unitsPerQuarter})`;
    const buckets = `${Math.ceil(127 / res.velocityWidth)} (${res.velocityWidth})`;
    console.log(
      `| ${label} | ${buckets} | ${t.max.toFixed(2)} / ${t.mean.toFixed(2)} | ` +
        `${m.max.toFixed(2)} / ${m.mean.toFixed(2)} | ${v.max} / ${v.mean.toFixed(2)} |`,
    );
    for (const c of CANDIDATES) {
      const { tokens, counts, train, test } = perCandidate.get(c)!;
      const rare = [...counts.values()].filter((n) => n < RARE).length;
      const possible = possibleVocabulary(c, res, stepTokens.size);
      const perToken = ngramBits(train, test, ORDER, possible);
      const testTokens = test.reduce((a, x) => a + x.length, 0);
      lengths.push(
        `| ${c} | ${label} | ${buckets} | ${(tokens / bars).toFixed(1)} | ${counts.size} | ` +
          `${possible} | ${rare} | ${perToken.toFixed(2)} | ` +
          `${(perToken * testTokens / testBars).toFixed(0)} |`,
      );
    }
  }
  console.log(
    "\n| candidate | units/quarter | velocity buckets | tokens per bar | vocabulary used | " +
      `possible | used < ${RARE} times | ${ORDER}-gram bits/token (test) | bits/bar (test) |`,
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const line of lengths) console.log(line);
}
