/**
 * music21 6.7.1's grouping of one track's paired notes into Notes and Chords (SPEC.md §6), in
 * near-linear time. music21 compares each group's first note with every later note whose onset
 * is within tpq/16, which is quadratic when many notes start together (a 640 KB file of notes
 * at one tick took 8.5 s); here the notes in that onset window are bucketed by note-off tick,
 * so a group's first note only looks at the ≤ 3 buckets that can hold its matches.
 *
 * @module
 */

/**
 * Groups notes `[first, end)` of the columns into Notes and Chords exactly as music21 6.7.1
 * does: for each note `i` not yet gathered, in order, the group is `i` and every later note `j`
 * with `16 * |on[j] - on[i]| <= tpq` (the first `j` failing that ends the search) and
 * `16 * |off[j] - off[i]| <= tpq`; members are not removed, so a note may join two chords.
 *
 * Why it is fast and exact. Onsets are nondecreasing, so the `j`s that pass the onset test
 * form a window `(i, reach)` whose end never moves back. A note matching `i` has an off tick
 * within `tpq / 16` of `i`'s (the subtraction is exact there, both ticks being integers), so
 * with buckets of a power-of-two width `W >= tpq / 16` it lies in `i`'s bucket
 * `floor(off / W)` or a neighbour: dividing by a power of two is exact, so bucket numbers are
 * too, for any tick (an infinite off matches only infinite ones, as `Infinity - Infinity` is
 * NaN, which passes music21's test; they share the bucket `Infinity`). The notes are sorted by
 * bucket, then note order; each bucket keeps a cursor past the notes at or before the current
 * first note, and its notes before `reach` are the window's. The matches of the ≤ 3 buckets,
 * sorted, are the group in music21's order. Few first notes look at any one note: two first
 * notes whose windows share a note are in each other's window and did not match, so their off
 * ticks are more than `tpq / 16 > W / 2` apart, and at most 7 such fit in three buckets.
 *
 * @param on note-on ticks, nondecreasing over `[first, end)`: non-negative integers (possibly
 *   beyond 2^53, or infinite), as the reader gives them
 * @param off note-off ticks, likewise non-negative integers
 * @param tpq ticks per quarter note, at least 1
 * @param emit called once per group in creation order with its first note and the other
 *   members in note order (a scratch array, reused after the call)
 */
export function groupNotes(
  on: Float64Array,
  off: Float64Array,
  first: number,
  end: number,
  tpq: number,
  emit: (head: number, members: readonly number[]) => void,
): void {
  const buckets = windowsTotal(on, first, end, tpq) > 16 * (end - first) + 1024
    ? new Buckets(off, first, end, 2 ** Math.max(0, Math.ceil(Math.log2(tpq / 16))))
    : undefined;
  const gathered = new Uint8Array(end - first);
  const members: number[] = [];
  let reach = first + 1;
  for (let i = first; i < end; i++) {
    if (gathered[i - first]) continue;
    if (reach <= i) reach = i + 1;
    while (reach < end && !(16 * Math.abs(on[reach]! - on[i]!) > tpq)) reach++;
    members.length = 0;
    if (buckets !== undefined) buckets.collect(i, reach, tpq, members);
    else collectAll(off, i, reach, tpq, members);
    if (members.length > 0) gathered[i - first] = 1;
    for (const j of members) gathered[j - first] = 1;
    emit(i, members);
  }
}

/**
 * The summed length of every note's onset window `(i, reach)`: what comparing each group's
 * first note with its whole window costs at most. Music keeps it small, and then that plain
 * search is quicker than bucketing.
 */
function windowsTotal(on: Float64Array, first: number, end: number, tpq: number): number {
  let total = 0;
  let reach = first + 1;
  for (let i = first; i < end; i++) {
    if (reach <= i) reach = i + 1;
    while (reach < end && !(16 * Math.abs(on[reach]! - on[i]!) > tpq)) reach++;
    total += reach - i - 1;
  }
  return total;
}

/** Adds to `members` the notes in `(i, reach)` whose off tick passes music21's test. */
function collectAll(off: Float64Array, i: number, reach: number, tpq: number, members: number[]) {
  const u = off[i]!;
  for (let j = i + 1; j < reach; j++) if (!(16 * Math.abs(off[j]! - u) > tpq)) members.push(j);
}

/** Notes `[first, end)` by bucket of their off tick, then in note order. */
class Buckets {
  private readonly off: Float64Array;
  private readonly first: number;
  /** The distinct bucket numbers, ascending. */
  private readonly keys: Float64Array;
  /** Each note's index into {@link keys}, by `note - first`. */
  private readonly rank: Int32Array;
  /** The notes of bucket `k` are `notes[start[k] .. start[k + 1])`, in note order. */
  private readonly start: Int32Array;
  private readonly notes: Int32Array;
  /** Where bucket `k`'s notes after the current first note begin. */
  private readonly cursor: Int32Array;

  constructor(off: Float64Array, first: number, end: number, width: number) {
    this.off = off;
    this.first = first;
    const n = end - first;
    const all = new Float64Array(n);
    let ascending = true;
    for (let k = 0; k < n; k++) {
      all[k] = Math.floor(off[first + k]! / width);
      if (k > 0 && all[k]! < all[k - 1]!) ascending = false;
    }
    // Off ticks mostly come in order; then the notes are already sorted by bucket.
    this.keys = distinct(ascending ? all : all.slice().sort());
    this.rank = new Int32Array(n);
    this.start = new Int32Array(this.keys.length + 1);
    for (let k = 0, r = 0; k < n; k++) {
      r = ascending ? (this.keys[r] === all[k] ? r : r + 1) : search(this.keys, all[k]!);
      this.rank[k] = r;
      this.start[r + 1]!++;
    }
    for (let r = 0; r < this.keys.length; r++) this.start[r + 1]! += this.start[r]!;
    this.cursor = this.start.slice(0, this.keys.length);
    this.notes = new Int32Array(n);
    const fill = this.cursor.slice();
    for (let k = 0; k < n; k++) this.notes[fill[this.rank[k]!]!++] = first + k;
  }

  /**
   * Adds to `members`, in note order, the notes in `(i, reach)` whose off tick passes
   * music21's test against note `i`'s.
   */
  collect(i: number, reach: number, tpq: number, members: number[]): void {
    const r = this.rank[i - this.first]!;
    const key = this.keys[r]!;
    // Beyond 2^53 (or at infinity) key ± 1 may round to key: each bucket is looked at once.
    const below = r > 0 && this.keys[r - 1] === key - 1 && key - 1 !== key;
    const above = r + 1 < this.keys.length && this.keys[r + 1] === key + 1 && key + 1 !== key;
    if (below) this.scan(r - 1, i, reach, tpq, members);
    this.scan(r, i, reach, tpq, members);
    if (above) this.scan(r + 1, i, reach, tpq, members);
    if ((below || above) && members.length > 1) members.sort((a, b) => a - b);
  }

  private scan(r: number, i: number, reach: number, tpq: number, members: number[]): void {
    const { notes, off } = this;
    const stop = this.start[r + 1]!;
    let k = this.cursor[r]!;
    while (k < stop && notes[k]! <= i) k++;
    this.cursor[r] = k;
    const u = off[i]!;
    for (; k < stop && notes[k]! < reach; k++) {
      const j = notes[k]!;
      if (!(16 * Math.abs(off[j]! - u) > tpq)) members.push(j);
    }
  }
}

/** The distinct values of ascending `sorted`. */
function distinct(sorted: Float64Array): Float64Array {
  const isNew = (k: number) => k === 0 || sorted[k] !== sorted[k - 1];
  let count = 0;
  for (let k = 0; k < sorted.length; k++) if (isNew(k)) count++;
  const out = new Float64Array(count);
  for (let k = 0, w = 0; k < sorted.length; k++) if (isNew(k)) out[w++] = sorted[k]!;
  return out;
}

/** The index of `value` in the ascending `keys`, which hold it. */
function search(keys: Float64Array, value: number): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
