/**
 * The deno permissions `deno task pipeline` runs with (deno.json): given to each run a sweep or a
 * worker starts, and to `deno test` (the suite starts pipelines and servers).
 *
 * @module
 */
export const PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  "--allow-ffi",
  "--allow-run",
  "--allow-net",
];
