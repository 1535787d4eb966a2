/**
 * What differs between two JSON-like values, key path by key path: config sections (`compare`),
 * key components (`status`), environments. One definition, so both commands agree on what
 * counts as a change.
 *
 * @module
 */

/** One difference: the dotted path of the key and its value on each side (undefined: absent). */
export interface Difference {
  path: string;
  before: unknown;
  now: unknown;
}

/** The leaves that differ between `a` and `b`, in sorted path order; arrays compare whole. */
export function diffValues(a: unknown, b: unknown, path = ""): Difference[] {
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffValues(a[k], b[k], path === "" ? k : `${path}.${k}`));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path, before: a, now: b }];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
