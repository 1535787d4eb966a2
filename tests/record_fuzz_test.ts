/**
 * Hostile records: seeded mutations of a real run record and stage-key entry (traversal strings,
 * absolute paths, NUL and control characters, very long names, wrong types, missing fields,
 * broken JSON) planted in a store's runs/ and keys/, and on a shared remote. Whatever they say,
 * every command ends with output or one sentence (never a stack trace), and nothing outside the
 * store changes. The MIDI fuzz test (tests/fuzz_test.ts) does the same for the dataset's files.
 */
import assert from "node:assert/strict";
import { seededRandom } from "../model/random.ts";
import { PERMISSIONS } from "../cli/permissions.ts";
import { connect } from "nats";
import { REMOTE_NAMES } from "../remote/nats/buckets.ts";
import type { StageKey } from "../core/hash.ts";
import { PROJECT_ROOT } from "./_helpers.ts";
import { skipWithoutNats, startNats } from "./_nats.ts";

const SEED = 20261207;
const UNTIL_SCAN = ["--config", "quick.yaml", "--until", "scan"];

/** Names that lead from the store (or its runs/, out/, keys/ folders) to `victim/` beside it. */
const TRAVERSAL = ["../../victim", "../victim", "../../../victim", "../../victim/deep"];

/** What a hostile writer puts where a name belongs. */
const HOSTILE: unknown[] = [
  "../../victim",
  "../victim",
  "..",
  ".",
  "",
  "/",
  "/tmp",
  "/dev/zero",
  "victim/../../victim",
  "0123456789abcdef/../../victim",
  "ab/../../../victim",
  "a\u0000b",
  "\u001b]0;TITLE\u0007\u001b[2J",
  "x\nwarning: forged line",
  "%2e%2e%2f",
  "é".repeat(300),
  "f".repeat(100_000),
  "F".repeat(16),
  "0".repeat(63),
  "0".repeat(65),
  42,
  -1,
  null,
  true,
  [],
  {},
  ["../../victim"],
  { "../../victim": "0".repeat(64) },
];

type Random = () => number;
const pick = <T>(random: Random, list: readonly T[]): T =>
  list[Math.floor(random() * list.length)]!;

/** Every path to a value in `value` (object keys and array indices). */
function paths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== "object" || value === null) return [at];
  const out: (string | number)[][] = [at];
  for (const [k, v] of Object.entries(value)) {
    out.push(...paths(v, [...at, Array.isArray(value) ? Number(k) : k]));
  }
  return out;
}

/**
 * A mutation of `json`: a hostile value at a random place, a hostile key name, a field dropped,
 * or the text cut short. Names matter most, so a third of the mutations hit one.
 */
function mutate(random: Random, json: unknown, names: readonly (string | number)[][]): string {
  const copy = structuredClone(json) as Record<string, unknown>;
  const roll = random();
  if (roll < 0.08) return JSON.stringify(copy).slice(0, Math.floor(random() * 200));
  const where = roll < 0.4 ? pick(random, names) : pick(random, paths(copy).slice(1));
  let parent: Record<string | number, unknown> = copy;
  for (const k of where.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = where.at(-1)!;
  if (roll < 0.5 && typeof last === "string") {
    // The key itself is hostile (an output name, a stage name).
    const value = parent[last];
    delete parent[last];
    parent[String(pick(random, HOSTILE))] = value;
  } else if (roll < 0.55) {
    delete parent[last];
  } else {
    parent[last] = random() < 0.3 ? pick(random, TRAVERSAL) : pick(random, HOSTILE);
  }
  return JSON.stringify(copy);
}

/** The places of a record's names: what the store turns into paths. */
function namePaths(record: Record<string, unknown>): (string | number)[][] {
  const stages = record.stages as Record<string, { outputs: Record<string, string> }>;
  // The config hash names folders gc removes: hit it most.
  const out: (string | number)[][] = [["configHash"], ["configHash"], ["finishedAt"]];
  for (const [stage, s] of Object.entries(stages)) {
    out.push(["stages", stage], ["stages", stage, "key"]);
    for (const name of Object.keys(s.outputs)) out.push(["stages", stage, "outputs", name]);
  }
  return out;
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, "pipeline.ts", ...args],
    cwd: PROJECT_ROOT,
    env: { XDG_CONFIG_HOME: "/nonexistent", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  const what = `${args.join(" ")} exited ${out.code}:\n${stderr.slice(0, 2000)}`;
  assert.ok([0, 1, 2].includes(out.code), what);
  assert.doesNotMatch(stderr, /\n\s+at |Uncaught|panicked/, what);
  if (out.code !== 0) assert.match(stderr, /^error: .+$/m, what);
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr };
}

/** Every path and size under `dir` except the store, to show that nothing there changed. */
function outside(dir: string, store: string): string[] {
  const out: string[] = [];
  const walk = (path: string) => {
    for (const e of Deno.readDirSync(path)) {
      const child = `${path}/${e.name}`;
      if (child === store) continue;
      if (e.isDirectory) walk(child);
      out.push(`${child} ${Deno.lstatSync(child).size}`);
    }
  };
  walk(dir);
  return out.sort();
}

/** A store with one run of quick.yaml up to scan (recorded as latest), `victim/` beside it. */
async function setUp() {
  const parent = await Deno.makeTempDir();
  const store = `${parent}/store`;
  await Deno.mkdir(`${parent}/victim/deep`, { recursive: true });
  await Deno.writeTextFile(`${parent}/victim/deep/thesis.txt`, "years of work");
  const r = await cli([...UNTIL_SCAN, "--store", store]);
  assert.equal(r.code, 0, r.stderr);
  const hash = /config hash ([0-9a-f]{16})/.exec(r.stdout)![1]!;
  const file = [...Deno.readDirSync(`${store}/runs/${hash}`)].map((e) => e.name)
    .find((n) => n.endsWith(".json"))!;
  const record = JSON.parse(await Deno.readTextFile(`${store}/runs/${hash}/${file}`));
  await Deno.writeTextFile(`${store}/runs/${hash}.json`, JSON.stringify(record));
  const key = record.stages.scan.key as StageKey;
  const keyFile = `${store}/keys/${key.slice(0, 2)}/${key.slice(2)}.json`;
  const entry = JSON.parse(await Deno.readTextFile(keyFile));
  return { parent, store, hash, record, key, keyFile, entry };
}

Deno.test("fuzz: 400 mutated run records in runs/ leave everything outside the store as it was", async () => {
  const random = seededRandom(SEED);
  const { parent, store, hash, record } = await setUp();
  const names = namePaths(record);
  const before = outside(parent, store);
  // Two batches of 200: each batch's commands read every record written so far.
  for (let batch = 0; batch < 2; batch++) {
    for (let i = 0; i < 200; i++) {
      const text = mutate(random, record, names);
      // Latest records, history records, and files named like a hash that say another.
      const file = i % 3 === 0
        ? `runs/${i.toString(16).padStart(16, "0")}.json`
        : i % 3 === 1
        ? `runs/${hash}/m${batch}-${i}.json`
        : `runs/${hash}.json`;
      await Deno.mkdir(`${store}/runs/${hash}`, { recursive: true });
      await Deno.writeTextFile(`${store}/${file}`, text);
    }
    await cli(["runs", "--store", store]);
    await cli(["runs", "--all", "--json", "--store", store]);
    await cli(["show", hash, "--store", store]);
    await cli(["compare", hash, "0000000000000000", "--store", store]);
    await cli(["gc", "--dry-run", "--store", store]);
    await cli(["gc", "--keep-last", "1", "--store", store]);
    assert.deepEqual(outside(parent, store), before, `batch ${batch}`);
  }
});

Deno.test("fuzz: 10 mutated stage-key entries are each skipped with a warning and computed again", async () => {
  const random = seededRandom(SEED + 1);
  const { parent, store, keyFile, entry } = await setUp();
  const names: (string | number)[][] = [["stage"], ["components", "dataset"]];
  for (const name of Object.keys(entry.outputs)) names.push(["outputs", name]);
  const before = outside(parent, store);
  for (let i = 0; i < 10; i++) {
    await Deno.writeTextFile(keyFile, mutate(random, entry, names));
    const r = await cli([...UNTIL_SCAN, "--store", store]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(outside(parent, store), before, `entry ${i}`);
  }
  // The last run wrote a good entry back.
  assert.deepEqual(JSON.parse(await Deno.readTextFile(keyFile)).outputs, entry.outputs);
});

Deno.test({
  name: "fuzz: mutated run records and key entries on the remote are skipped, said, and repaired",
  ignore: skipWithoutNats("the remote record fuzz test"),
  fn: async () => {
    const random = seededRandom(SEED + 2);
    const { parent, store, hash, record, key, entry } = await setUp();
    const setup = await startNats();
    // The plain client: a hostile writer is not held to what the remote's API writes.
    const raw = await connect({
      servers: setup.url,
      user: setup.credentials.user,
      pass: setup.credentials.password,
    });
    const [runs, keys] = await Promise.all(
      [REMOTE_NAMES.runs, REMOTE_NAMES.keys].map((name) => raw.jetstream().views.kv(name)),
    );
    const env = {
      DLM_REMOTE_USER: setup.credentials.user,
      DLM_REMOTE_PASSWORD: setup.credentials.password,
    };
    try {
      const recordNames = namePaths(record);
      const entryNames: (string | number)[][] = [["stage"], ["components", "dataset"]];
      for (const name of Object.keys(entry.outputs)) entryNames.push(["outputs", name]);
      const before = outside(parent, store);
      for (let i = 0; i < 5; i++) {
        // Named as the remote names them, and under names that are not a config hash.
        for (let k = 0; k < 40; k++) {
          const name = k % 2 === 0 ? `${hash}.m${i}-${k}` : `ffff${k}.m${i}`;
          await runs!.put(name, new TextEncoder().encode(mutate(random, record, recordNames)));
        }
        await keys!.put(key, new TextEncoder().encode(mutate(random, entry, entryNames)));
        const fresh = `${parent}/store-${i}`;
        const run = await cli([...UNTIL_SCAN, "--store", fresh, "--remote", setup.url], env);
        assert.equal(run.code, 0, run.stderr);
        await cli(["runs", "--all", "--store", store, "--remote", setup.url], env);
        await cli(["gc", "--keep-last", "1", "--store", store], env);
        assert.deepEqual(
          outside(parent, store).filter((p) => !p.startsWith(`${parent}/store-`)),
          before.filter((p) => !p.startsWith(`${parent}/store-`)),
        );
        await Deno.remove(fresh, { recursive: true });
      }
    } finally {
      await raw.close();
      await setup.close();
    }
  },
});
