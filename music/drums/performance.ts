/**
 * A drum performance on the grid: for each step, the drums struck on it, each with the velocity
 * and the offset from the step it was played at. The humanizer (model/humanizer/) learns to play
 * a grid's hits this way, and issue 23's measures of expression (metrics/expression.ts) read it.
 *
 * One hit per drum per step, the loudest (the earliest of equals), as Magenta's GrooVAE keeps
 * Groove's performances (music_vae/data.py, GrooveConverter: hits, velocities, offsets): the grid
 * says which drums a pattern strikes where, and a flam's or a roll's softer second hit inside the
 * same sixteenth (6.9% of Groove's hits) is ornament the grid cannot ask for. The expressive
 * encoding (expressive_drums.ts) keeps those too; a performance is written as its tokens, so it
 * renders, plays and measures as one.
 *
 * Times are in the expressive encoding's units (1/96 of a quarter note), so a performance and
 * its tokens hold the same offsets. Pure functions on values: no Deno APIs.
 *
 * @module
 */
import { decodeDrumGrid } from "./drum_grid.ts";
import { readDrumHits, type UnmappedPitches } from "./drum_midi.ts";
import { drumClassOf } from "./drums.ts";
import {
  bucketVelocity,
  type ExpressiveHit,
  expressiveTokens,
  offsetRange,
  stepOfUnit,
  unitOfTick,
  unitsPerStep,
} from "./expressive_drums.ts";

/** A performance: its hits, one per drum per step, sorted by step then drum class. */
export interface Performance {
  /** Steps from the first to one past the last hit's. */
  steps: number;
  /** The hits: `offset` in units of 1/96 quarter, `velocity` 1–127 as played (not bucketed). */
  hits: ExpressiveHit[];
}

/** What {@link readPerformance} makes of a file. */
export interface ReadPerformance extends Performance {
  /** Quarter notes per minute of the file's first tempo event, if it has one. */
  bpm?: number;
  /** Note-ons on pitches outside the nine classes, by pitch. */
  unmapped: UnmappedPitches;
  /** Note-ons with velocity above 0, in the nine classes or not. */
  noteOns: number;
}

/**
 * Reads a MIDI file's drum hits as a performance: each hit's time rounded to 1/96 of a quarter,
 * its step the nearest (as the expressive encoding places it), its offset the rest, and one hit
 * kept per drum per step, the loudest.
 *
 * @param bytes the file's bytes
 * @param stepsPerQuarter steps per quarter note (4: sixteenths)
 * @throws {MidiReadError} when the file cannot be read (music/smf.ts)
 */
export function readPerformance(bytes: Uint8Array, stepsPerQuarter: number): ReadPerformance {
  const read = readDrumHits(bytes, "read a drum performance");
  const units = unitsPerStep(stepsPerQuarter);
  const kept = new Map<number, ExpressiveHit>();
  for (let i = 0; i < read.count; i++) {
    const at = unitOfTick(read.tick[i]!, read.ticksPerQuarter);
    const step = stepOfUnit(at, units);
    const hit = {
      step,
      offset: at - step * units,
      drumClass: read.drumClass[i]!,
      velocity: read.velocity[i]!,
    };
    const key = step * 16 + hit.drumClass;
    const held = kept.get(key);
    if (
      held === undefined || hit.velocity > held.velocity ||
      (hit.velocity === held.velocity && hit.offset < held.offset)
    ) kept.set(key, hit);
  }
  const hits = sortHits([...kept.values()]);
  const out: ReadPerformance = {
    steps: hits.length === 0 ? 0 : hits[hits.length - 1]!.step + 1,
    hits,
    unmapped: read.unmapped,
    noteOns: read.noteOns,
  };
  if (read.bpm !== undefined) out.bpm = read.bpm;
  return out;
}

/** Hits in a performance's order: by step, then drum class. */
export function sortHits(hits: ExpressiveHit[]): ExpressiveHit[] {
  return hits.sort((a, b) => a.step - b.step || a.drumClass - b.drumClass);
}

/**
 * The performance's grid, as a programmed pattern has it: the same hits on their steps, at one
 * velocity.
 */
export function quantized(performance: Performance, velocity: number): Performance {
  return {
    steps: performance.steps,
    hits: performance.hits.map((h) => ({ ...h, offset: 0, velocity })),
  };
}

/**
 * The grid of drum-grid tokens as a performance at one velocity: token `k` is step `k`.
 *
 * @throws {SyntaxError} naming the first token that is not a drum-grid token
 */
export function gridPerformance(tokens: readonly string[], velocity: number): Performance {
  const hits = decodeDrumGrid(tokens).map((note) => ({
    step: note.step,
    offset: 0,
    drumClass: drumClassOf(note.pitch)!,
    velocity,
  }));
  return { steps: tokens.length, hits: sortHits(hits) };
}

/**
 * The steps `from` (inclusive) to `to` (exclusive) of a performance, moved to start at step 0.
 */
export function performanceSlice(performance: Performance, from: number, to: number): Performance {
  return {
    steps: Math.max(0, Math.min(to, performance.steps) - from),
    hits: performance.hits.filter((h) => h.step >= from && h.step < to).map((h) => ({
      ...h,
      step: h.step - from,
    })),
  };
}

/**
 * A performance as expressive drum tokens (velocities in the encoding's buckets), which
 * expressive_drums.ts renders to notes and MIDI. Offsets are held to the encoding's range, and a
 * hit of the first step cannot be played before the start: it is played on it.
 */
export function performanceTokens(performance: Performance, stepsPerQuarter: number): string[] {
  const { min, max } = offsetRange(stepsPerQuarter);
  const units = unitsPerStep(stepsPerQuarter);
  const hits = performance.hits.map((h) => ({
    ...h,
    offset: Math.min(max, Math.max(min, -h.step * units, h.offset)),
    velocity: bucketVelocity(h.velocity),
  }));
  return expressiveTokens(hits, performance.steps, units);
}
