/**
 * Fuzz inputs for the tokenizer: seeded mutations of real MIDI files (truncations, flipped
 * bytes, bad chunk lengths, long delta times, absurd track counts, running-status abuse, huge
 * sysex and meta lengths), non-MIDI bytes, and the shapes that were once slow. The same seed
 * gives the same files, so a failure can be replayed by its index.
 *
 * @module
 */
import { seededRandom } from "../model/random.ts";
import { midiFile, SLOW_SHAPES, type SlowShape } from "./_slow_shapes.ts";

/** One fuzz input. */
export interface Mutant {
  /** How it was made, e.g. `flip(drummer1/…/1.mid)`. */
  name: string;
  bytes: Uint8Array;
}

type Random = () => number;

const int = (random: Random, n: number) => Math.floor(random() * n);
const pick = <T>(random: Random, list: readonly T[]): T => list[int(random, list.length)]!;

/** Where the first track's events start in a well-formed file (after MThd and MTrk headers). */
const EVENTS_AT = 22;

/** `bytes` with `insert` put in at `at`. */
function spliced(bytes: Uint8Array, at: number, insert: readonly number[]): Uint8Array {
  const out = new Uint8Array(bytes.length + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at), at + insert.length);
  return out;
}

/** A copy of `bytes` with a big-endian word of `size` bytes set at `at`, if there is room. */
function withWord(bytes: Uint8Array, at: number, size: 2 | 4, value: number): Uint8Array {
  if (bytes.length < at + size) return bytes;
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  if (size === 2) view.setUint16(at, value);
  else view.setUint32(at, value);
  return out;
}

/** A position inside the first track's events (or the end of a tiny file). */
const inEvents = (random: Random, bytes: Uint8Array) =>
  Math.min(bytes.length, EVENTS_AT + int(random, Math.max(1, bytes.length - EVENTS_AT)));

/** The ways to damage a valid file, each a function of the randomness and the source bytes. */
const MUTATIONS: Record<string, (random: Random, bytes: Uint8Array) => Uint8Array> = {
  truncate: (random, bytes) => bytes.slice(0, int(random, bytes.length + 1)),
  flip: (random, bytes) => {
    const out = bytes.slice();
    for (let k = 1 + int(random, 8); k > 0; k--) out[int(random, out.length)] = int(random, 256);
    return out;
  },
  chunkLength: (random, bytes) => {
    const lengths = [0, 1, 2, 3, 0x7fffffff, 0xffffffff, bytes.length, int(random, 1 << 20)];
    return withWord(bytes, 18, 4, pick(random, lengths));
  },
  headerLength: (random, bytes) => withWord(bytes, 4, 4, pick(random, [0, 5, 7, 0xffffffff])),
  trackCount: (random, bytes) => withWord(bytes, 10, 2, pick(random, [0, 2, 255, 65535])),
  division: (random, bytes) =>
    withWord(bytes, 12, 2, pick(random, [0, 1, 15, 16, 0x7fff, 0xe728, 0xe719])),
  format: (random, bytes) => withWord(bytes, 8, 2, pick(random, [1, 2, 0xffff])),
  longVlq: (random, bytes) => {
    const run = Array.from({ length: 1 + int(random, 300) }, () => 0x80 | int(random, 128));
    return spliced(bytes, inEvents(random, bytes), [...run, int(random, 128)]);
  },
  runningStatus: (random, bytes) => {
    // Drops status bytes, so data bytes run on under whatever status came before.
    const out: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      if (i >= EVENTS_AT && bytes[i]! >= 0x80 && random() < 0.3) continue;
      out.push(bytes[i]!);
    }
    return new Uint8Array(out);
  },
  hugeSysex: (random, bytes) =>
    spliced(bytes, inEvents(random, bytes), [
      0,
      pick(random, [0xf0, 0xf7]),
      0x8f,
      0xff,
      0xff,
      0x7f,
    ]),
  hugeMeta: (random, bytes) => {
    const type = pick(random, [0x01, 0x03, 0x04, 0x51, 0x58, 0x59, 0x2f]);
    return spliced(bytes, inEvents(random, bytes), [0, 0xff, type, 0xff, 0xff, 0xff, 0x7f]);
  },
  events: (random, bytes) => {
    // A burst of random channel and meta bytes in the middle of the track.
    const burst = Array.from(
      { length: 1 + int(random, 64) },
      () => random() < 0.5 ? int(random, 128) : pick(random, [0x80, 0x90, 0xc0, 0xb0, 0xff, 0xf0]),
    );
    return spliced(bytes, inEvents(random, bytes), burst);
  },
};

/** Inputs that are not damaged MIDI at all. */
function notMidi(random: Random): Uint8Array {
  switch (int(random, 4)) {
    case 0:
      return new Uint8Array();
    case 1:
      return Uint8Array.from({ length: int(random, 4096) }, () => int(random, 256));
    case 2:
      return new TextEncoder().encode("this is not a MIDI file\n".repeat(1 + int(random, 50)));
    default: // a header and nothing after it
      return midiFile([]).slice(0, int(random, 15));
  }
}

/**
 * `count` fuzz inputs from `sources` (well-formed MIDI files), made with `seed`: mostly single
 * or stacked mutations, some non-MIDI bytes, some small slow shapes, and `huge` slow shapes of
 * a few MB at fixed indices.
 */
export function* mutants(
  sources: readonly { name: string; bytes: Uint8Array }[],
  count: number,
  seed: number,
  huge: number,
): Generator<Mutant> {
  const random = seededRandom(seed);
  const kinds = Object.keys(MUTATIONS);
  const shapes = Object.keys(SLOW_SHAPES) as SlowShape[];
  const hugeEvery = huge > 0 ? Math.floor(count / huge) : Infinity;
  for (let i = 0; i < count; i++) {
    if (i % hugeEvery === hugeEvery - 1) {
      const shape = shapes[Math.floor(i / hugeEvery) % shapes.length]!;
      yield { name: `${shape}(4 MB)`, bytes: SLOW_SHAPES[shape](4 << 20) };
      continue;
    }
    const roll = random();
    if (roll < 0.03) {
      yield { name: "not MIDI", bytes: notMidi(random) };
    } else if (roll < 0.06) {
      const shape = pick(random, shapes);
      yield { name: `${shape}(small)`, bytes: SLOW_SHAPES[shape](1024 + int(random, 64 << 10)) };
    } else {
      const source = pick(random, sources);
      let bytes = source.bytes;
      const names: string[] = [];
      for (let k = 1 + (random() < 0.2 ? int(random, 3) : 0); k > 0; k--) {
        const kind = pick(random, kinds);
        names.push(kind);
        bytes = MUTATIONS[kind]!(random, bytes);
      }
      yield { name: `${names.join("+")}(${source.name})`, bytes };
    }
  }
}
