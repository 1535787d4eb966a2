/**
 * Test helper: builds Standard MIDI File bytes from raw track bytes, so that tests can write
 * exactly the (possibly malformed) events they probe.
 *
 * @module
 */

/** A variable-length quantity. */
export function vlq(n: number): number[] {
  const out = [n & 0x7f];
  for (n = Math.floor(n / 128); n > 0; n = Math.floor(n / 128)) out.unshift(0x80 | (n & 0x7f));
  return out;
}

/** Options of {@link smf}. */
export interface SmfSpec {
  format?: number;
  /** The raw division word (default 480). */
  division?: number;
  /** Overrides the declared track count. */
  trackCount?: number;
  /** Each track's raw event bytes (deltas included), without the MTrk header. */
  tracks: readonly (readonly number[])[];
}

/** The bytes of a whole file. */
export function smf(spec: SmfSpec): Uint8Array {
  const { format = 0, division = 480, tracks } = spec;
  const n = spec.trackCount ?? tracks.length;
  const out = [0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, format, n >> 8, n & 0xff];
  out.push(division >> 8, division & 0xff);
  for (const t of tracks) {
    const len = t.length;
    out.push(0x4d, 0x54, 0x72, 0x6b, len >>> 24, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff);
    out.push(...t);
  }
  return new Uint8Array(out);
}

/** Track bytes from `[delta, ...eventBytes]` groups, each delta written as a VLQ. */
export function events(...list: readonly (readonly number[])[]): number[] {
  return list.flatMap(([delta, ...rest]) => [...vlq(delta!), ...rest]);
}

/** A meta event's bytes after its delta. */
export function meta(type: number, data: readonly number[] | string): number[] {
  const bytes = typeof data === "string" ? [...new TextEncoder().encode(data)] : [...data];
  return [0xff, type, ...vlq(bytes.length), ...bytes];
}
