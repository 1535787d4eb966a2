/**
 * `deno task test`: `deno test` with the permissions the suite needs, and its temporary files in
 * a folder of their own that is removed afterwards: many tests make stores, configs and datasets
 * in the system's temp folder and leave them there, run after run. Arguments go to `deno test` as
 * given (a file, a `--filter`); the exit status is its own. (Not named test.ts: `deno test` would
 * take that for a test module and run the suite inside itself.)
 *
 * @module
 */

import { PERMISSIONS } from "../cli/permissions.ts";

const tmp = await Deno.makeTempDir({ prefix: "deep-lstm-midi-tests-" });
// Ctrl-C reaches `deno test` too (same process group); this process stays to clean up after it.
const ignore = () => {};
Deno.addSignalListener("SIGINT", ignore);
let code = 1;
try {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", ...PERMISSIONS, ...Deno.args],
    env: { TMPDIR: tmp },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  code = (await child.status).code;
} finally {
  Deno.removeSignalListener("SIGINT", ignore);
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}
Deno.exit(code);
