/**
 * `deno task test`: `deno test` with the permissions the suite needs, its test files run in
 * parallel (`--parallel`, $DENO_JOBS at a time, default {@link DEFAULT_JOBS}) with the slowest
 * started first, and its temporary files in a folder of their own that is removed afterwards: many
 * tests make stores, configs and datasets in the system's temp folder and leave them there, run
 * after run. (Not named test.ts: `deno test` would take that for a test module and run the suite
 * inside itself.)
 *
 * `deno task test:unit` (`--unit`) runs only the unit tests: the test files beside their modules,
 * less {@link NOT_UNIT}; none starts a pipeline, a server or a browser, and all of them run in
 * under 30 seconds on two cores. The end-to-end, CLI and boundary tests live in tests/.
 *
 * Other arguments go to `deno test` as given (a file, a folder, a `--filter`): given a file or a
 * folder, `deno test` runs that; given none, every test file (or, with `--unit`, the unit tests)
 * in the order below. The exit status is `deno test`'s own.
 *
 * @module
 */

import { PERMISSIONS } from "../cli/permissions.ts";

/**
 * Test files that take longest (seconds, on 2 cores), longest first: each runs its tests one
 * after another, so each is started before the short ones to keep it from running on alone at
 * the end. The rest follow in alphabetical order.
 */
export const SLOW_FIRST: readonly string[] = [
  "tests/remote_pipeline_test.ts",
  "tests/record_fuzz_test.ts",
  "tests/hardening_test.ts",
  "remote/remote_test.ts",
  "tests/trust_boundaries_test.ts",
  "tests/commands_test.ts",
  "tests/sweep_test.ts",
  "model/generation_test.ts",
  "tests/compare_page_test.ts",
  "tests/humanize_test.ts",
  "model/build_model_test.ts",
  "tests/pipeline_e2e_test.ts",
  "tests/report_page_test.ts",
  "tests/untrusted_input_test.ts",
  "tests/cli_test.ts",
  "stages/train_test.ts",
  "core/code_digest_test.ts",
];

/**
 * Test files beside their modules that `deno task test:unit` leaves out: those that start a
 * nats-server, a pipeline or a browser, and the three slowest, which build, train and run
 * networks for several seconds each (`deno task test` runs them all).
 */
export const NOT_UNIT: readonly string[] = [
  "remote/remote_test.ts",
  "report/run_page_test.ts",
  "stages/train_test.ts",
  "model/build_model_test.ts",
  "model/generation_test.ts",
];

/**
 * Test files run at once when $DENO_JOBS is not set: three, on two cores, because many of the
 * slow tests spend their time waiting on a child process, a server or a timeout.
 */
export const DEFAULT_JOBS = 3;

/** Folders no test file is looked for in (deno.json's test.exclude, and what git ignores). */
const SKIP = new Set(["node_modules", "data", "artifacts", "out"]);

/** Every test file under `root` (relative paths, sorted), as `deno test` would find them. */
export function testFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (rel: string) => {
    for (const entry of Deno.readDirSync(rel === "" ? root : `${root}/${rel}`)) {
      const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory) {
        const top = rel === "";
        if (
          entry.name.startsWith(".") || (top && (SKIP.has(entry.name) || entry.name[0] === "_"))
        ) {
          continue;
        }
        walk(path);
      } else if (entry.isFile && /(^|[._])test\.(ts|tsx|mts|js|mjs|jsx)$/.test(entry.name)) {
        found.push(path);
      }
    }
  };
  walk("");
  return found.sort();
}

/** The files to run, slowest first: all of them, or the unit tests. */
export function orderedFiles(root: string, unit: boolean): string[] {
  const all = testFiles(root);
  const chosen = unit ? all.filter((f) => !f.startsWith("tests/") && !NOT_UNIT.includes(f)) : all;
  const slow = SLOW_FIRST.filter((f) => chosen.includes(f));
  return [...slow, ...chosen.filter((f) => !slow.includes(f))];
}

/** `deno test` flags that take the next argument as their value. */
const VALUE_FLAGS = new Set(["--filter", "--reporter", "--junit-path", "--seed", "--config", "-c"]);

/** True when `args` name a file or a folder to test (then `deno test` is given no list). */
export function namesFiles(args: readonly string[]): boolean {
  return args.some((arg, i) => {
    if (arg.startsWith("-") || (i > 0 && VALUE_FLAGS.has(args[i - 1]!))) return false;
    try {
      Deno.statSync(arg);
      return true;
    } catch {
      return false;
    }
  });
}

if (import.meta.main) {
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const unit = Deno.args.includes("--unit");
  const args = Deno.args.filter((a) => a !== "--unit");
  const files = namesFiles(args) ? [] : orderedFiles(root, unit);
  const parallel = args.includes("--parallel") ? [] : ["--parallel"];

  const tmp = await Deno.makeTempDir({ prefix: "deep-lstm-midi-tests-" });
  // Ctrl-C reaches `deno test` too (same process group); this process stays to clean up after it.
  const ignore = () => {};
  Deno.addSignalListener("SIGINT", ignore);
  let code = 1;
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["test", ...PERMISSIONS, ...parallel, ...args, ...files],
      cwd: root,
      env: {
        TMPDIR: tmp,
        DENO_JOBS: Deno.env.get("DENO_JOBS") || String(DEFAULT_JOBS),
        // One code-digest cache for the hundreds of fresh stores the tests make: each would
        // otherwise load TypeScript and parse every module (half a second of CPU a run).
        DLM_CODE_CACHE: `${tmp}/code-digests.json`,
      },
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
}
