/**
 * The pipeline on a shared remote (NATS JetStream, tests/_nats.ts starts a real nats-server with a
 * user and password on a loopback port): results computed on one store are fetched, not
 * computed, on another; a sweep queued on the remote runs on two workers; a worker killed (-9)
 * in the middle of training hands its job to another, which resumes from the last finished
 * epoch and ends with the digests of an uninterrupted run. Skipped, saying why, without
 * nats-server.
 */
import assert from "node:assert/strict";
import { PROJECT_ROOT, SMALL_RUN } from "./_helpers.ts";
import { PERMISSIONS } from "../cli/permissions.ts";
import { type NatsSetup, skipWithoutNats, startNats } from "./_nats.ts";
import { LocalStore } from "../store/store.ts";
import type { RunRecord } from "../core/run_record.ts";
import { connect } from "nats";
import { REMOTE_NAMES } from "../remote/nats/buckets.ts";

const skipped = skipWithoutNats("remote pipeline tests");

/** How soon a dead worker's job and locks go to another: short, so that the tests do not wait. */
interface Deadlines {
  ackWaitMs: number;
  lockTtlMs: number;
}

/** The environment a machine of the test has: the remote's credentials, a short ack deadline. */
function env(
  setup: NatsSetup,
  deadlines: Deadlines = { ackWaitMs: 4000, lockTtlMs: 3000 },
): Record<string, string> {
  return {
    DLM_REMOTE_USER: setup.credentials.user,
    DLM_REMOTE_PASSWORD: setup.credentials.password,
    DLM_WORKER_ACK_WAIT_MS: String(deadlines.ackWaitMs),
    DLM_REMOTE_LOCK_TTL_MS: String(deadlines.lockTtlMs),
    // No settings file of the user's is read.
    XDG_CONFIG_HOME: "/nonexistent",
  };
}

function command(setup: NatsSetup, args: string[], deadlines?: Deadlines) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, "pipeline.ts", ...args],
    cwd: PROJECT_ROOT,
    env: env(setup, deadlines),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

async function pipeline(setup: NatsSetup, ...args: string[]) {
  return await pipelineWith(setup, undefined, ...args);
}

async function pipelineWith(setup: NatsSetup, deadlines: Deadlines | undefined, ...args: string[]) {
  const out = await command(setup, [...args, "--remote", setup.url], deadlines).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

const latest = async (store: string, hash: string): Promise<RunRecord> =>
  (await new LocalStore(store).getRun(hash))!;

Deno.test({
  name: "remote: a run on store A, then the same config on an empty store B computes nothing",
  ignore: skipped,
  fn: async () => {
    const setup = await startNats();
    const [a, b] = [await Deno.makeTempDir(), await Deno.makeTempDir()];
    try {
      const first = await pipeline(setup, ...SMALL_RUN, "--store", a);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /remote nats:\/\/127\.0\.0\.1:\d+ \(password\)/);
      const hash = /config hash ([0-9a-f]{16})/.exec(first.stdout)![1]!;
      const second = await pipeline(setup, ...SMALL_RUN, "--store", b);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /everything cached/);
      assert.match(second.stdout, /fetched [0-9a-f]{12} from the remote/);
      const [ra, rb] = [await latest(a, hash), await latest(b, hash)];
      for (const [stage, s] of Object.entries(rb.stages)) {
        assert.equal(s.cached, true, `${stage} was not computed on B`);
        assert.deepEqual(s.outputs, ra.stages[stage]!.outputs, `${stage}'s outputs`);
      }
      // B's `runs` lists A's run, which B never made itself... and its own.
      const runs = await pipeline(setup, "runs", "--json", "--store", b);
      assert.equal(runs.code, 0, runs.stderr);
      assert.ok(runs.stdout.includes(hash));
    } finally {
      await setup.close();
      await Deno.remove(a, { recursive: true });
      await Deno.remove(b, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "remote: an unreachable remote is one line and the run goes on locally; --remote-required stops",
  ignore: skipped,
  fn: async () => {
    const setup = await startNats();
    const url = setup.url;
    await setup.close();
    const store = await Deno.makeTempDir();
    try {
      const out = await command(setup, [
        ...SMALL_RUN,
        "--until",
        "vocab",
        "--store",
        store,
        "--remote",
        url,
      ]).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      assert.match(stderr, /^warning: .*127\.0\.0\.1.*going on with the local store only/m);
      assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
      const required = await command(setup, [
        ...SMALL_RUN,
        "--store",
        store,
        "--remote",
        url,
        "--remote-required",
      ]).output();
      const lines = new TextDecoder().decode(required.stderr).trim().split("\n");
      assert.notEqual(required.code, 0);
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(lines[0]!, /^error: .*127\.0\.0\.1/);
    } finally {
      await Deno.remove(store, { recursive: true });
    }
  },
});

/** A running worker and everything it printed so far (read as it comes, so it never blocks). */
interface Worker {
  child: Deno.ChildProcess;
  output(): string;
  /** Resolves once the output matches `pattern`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
}

/** A worker in its own process group, so a kill -9 takes its run with it (a machine dying). */
function worker(setup: NatsSetup, store: string, deadlines?: Deadlines): Worker {
  const child = new Deno.Command("setsid", {
    args: [
      Deno.execPath(),
      "run",
      ...PERMISSIONS,
      "pipeline.ts",
      "worker",
      "--remote",
      setup.url,
      "--store",
      store,
    ],
    cwd: PROJECT_ROOT,
    env: env(setup, deadlines),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  let more = Promise.withResolvers<void>();
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      more.resolve();
      more = Promise.withResolvers<void>();
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]).catch(() => {});
  return {
    child,
    output: () => text,
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(text)) {
        const ended = await Promise.race([
          drained.then(() => true),
          more.promise.then(() => false),
          delay(100).then(() => false),
        ]);
        if (ended && !pattern.test(text)) {
          throw new Error(`the worker ended before ${pattern}; it printed:\n${text}`);
        }
        if (Date.now() > deadline) {
          throw new Error(`timed out waiting for ${pattern}; the worker printed:\n${text}`);
        }
      }
      return text;
    },
  };
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function killGroup(w: Worker, signal: "SIGKILL" | "SIGINT") {
  await new Deno.Command("kill", { args: [`-${signal.slice(3)}`, "--", `-${w.child.pid}`] })
    .output();
  await w.child.status;
}

/** Queues a sweep of SMALL_RUN over `generate.seed` values on the remote; the config hashes. */
async function queueSeeds(setup: NatsSetup, home: string, seeds: string): Promise<string[]> {
  const queued = await pipeline(
    setup,
    "sweep",
    ...SMALL_RUN,
    "--set",
    "generate.length=16",
    "--grid",
    `generate.seed=${seeds}`,
    "--queue",
    "--store",
    home,
  );
  assert.equal(queued.code, 0, queued.stderr);
  return [...queued.stdout.matchAll(/config hash ([0-9a-f]{16}): queued/g)].map((m) => m[1]!);
}

/**
 * Waits until each of `hashes` has a finished run on one of the workers' `stores` (a file read,
 * checked often), then until `runs` on `home` lists them all from the remote (a pipeline started
 * only then: each costs a Deno start).
 */
async function waitForRuns(
  setup: NatsSetup,
  home: string,
  stores: string[],
  hashes: string[],
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  const ranOnAWorker = (h: string) => stores.some((store) => latestSync(store, h));
  while (!hashes.every(ranOnAWorker)) {
    if (Date.now() > deadline) {
      const done = hashes.filter(ranOnAWorker).length;
      throw new Error(`only ${done} of ${hashes.length} runs finished on the workers`);
    }
    await delay(100);
  }
  for (;;) {
    const runs = await pipeline(setup, "runs", "--json", "--quiet", "--store", home);
    const listed = hashes.filter((h) => runs.stdout.includes(h));
    if (listed.length === hashes.length) return;
    if (Date.now() > deadline) {
      throw new Error(`only ${listed.length} of ${hashes.length} runs finished:\n${runs.stdout}`);
    }
    await delay(250);
  }
}

Deno.test({
  name: "remote: a four-config sweep queued on the remote runs on two workers, training once",
  ignore: skipped,
  fn: async () => {
    const setup = await startNats();
    const [home, a, b] = [
      await Deno.makeTempDir(),
      await Deno.makeTempDir(),
      await Deno.makeTempDir(),
    ];
    const workers = [worker(setup, a), worker(setup, b)];
    try {
      const hashes = await queueSeeds(setup, home, "1,2,3,4");
      assert.equal(hashes.length, 4);
      await waitForRuns(setup, home, [a, b], hashes, 240_000).catch((e) => {
        throw new Error(
          `${e.message}\nworker A:\n${workers[0]!.output()}\nworker B:\n${workers[1]!.output()}`,
        );
      });
      const records = await Promise.all(
        hashes.map((h) => latest(latestSync(a, h) ? a : b, h)),
      );
      // Each combination ran on one of the workers; the shared training ran once in all.
      const trained = records.filter((r) => r.stages.train?.cached === false).length;
      assert.equal(trained, 1, "train computed once across both workers");
      const ranOn = (store: string) => hashes.filter((h) => latestSync(store, h));
      assert.equal(ranOn(a).length + ranOn(b).length, 4, "each combination ran on one worker");
    } finally {
      for (const w of workers) await killGroup(w, "SIGINT");
      await setup.close();
      for (const d of [home, a, b]) await Deno.remove(d, { recursive: true });
    }
  },
});

function latestSync(store: string, hash: string): boolean {
  try {
    return Deno.statSync(`${store}/runs/${hash}.json`).isFile;
  } catch {
    return false;
  }
}

/** Resolves once the remote holds the work in progress of a training (its first epoch saved). */
async function workInProgressSaved(setup: NatsSetup, timeoutMs: number): Promise<void> {
  const nc = await connect({
    servers: setup.url,
    user: setup.credentials.user,
    pass: setup.credentials.password,
  });
  try {
    const resume = await nc.jetstream().views.kv(REMOTE_NAMES.resume);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for await (const _ of await resume.keys()) return;
      if (Date.now() > deadline) throw new Error("no work in progress was saved on the remote");
      await delay(50);
    }
  } finally {
    await nc.close();
  }
}

Deno.test({
  name:
    "remote: a worker killed during training; the job goes to another, which resumes and ends with the digests of an uninterrupted run",
  ignore: skipped,
  fn: async () => {
    const setup = await startNats();
    const [home, a, b, alone] = [
      await Deno.makeTempDir(),
      await Deno.makeTempDir(),
      await Deno.makeTempDir(),
      await Deno.makeTempDir(),
    ];
    // SMALL_RUN with 4 epochs instead of 1: killed during the second, two more are left to do.
    const epochs = 4;
    const args = [...SMALL_RUN, "--set", `train.epochs=${epochs}`, "--set", "generate.length=16"];
    // A dead worker's job and the locks of its run go to another after 2.5 s without a heartbeat.
    const deadlines = { ackWaitMs: 2500, lockTtlMs: 2500 };
    // The uninterrupted run, on a store of its own without the remote, alongside the others.
    const plain = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...PERMISSIONS,
        "pipeline.ts",
        ...args,
        "--set",
        "generate.seed=1",
        "--store",
        alone,
      ],
      cwd: PROJECT_ROOT,
      env: { XDG_CONFIG_HOME: "/nonexistent" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    let second: Worker | undefined;
    try {
      const first = worker(setup, a, deadlines);
      const queued = await pipelineWith(
        setup,
        deadlines,
        "sweep",
        ...args,
        "--grid",
        "generate.seed=1",
        "--queue",
        "--store",
        home,
      );
      assert.equal(queued.code, 0, queued.stderr);
      const hash = /config hash ([0-9a-f]{16}): queued/.exec(queued.stdout)![1]!;
      // Killed (with its run) as soon as the first epoch's work in progress is on the remote,
      // and before the last epoch ends.
      await workInProgressSaved(setup, 180_000).catch((e) => {
        throw new Error(`${e.message}; the worker printed:\n${first.output()}`);
      });
      await killGroup(first, "SIGKILL");
      assert.doesNotMatch(
        first.output(),
        new RegExp(`epoch ${epochs}/${epochs}: loss|worker: .* done in`),
      );
      second = worker(setup, b, deadlines);
      const seen = await second.waitFor(/worker: .* done in/, 240_000);
      assert.match(seen, /delivery 2: resuming/);
      assert.match(seen, /resum/i);
      const resumed = await latest(b, hash);
      // It went on from an epoch the killed worker finished, not from the start.
      const after = resumed.metrics.train?.resumedAfterEpoch;
      assert.ok(
        typeof after === "number" && after >= 1 && after < epochs,
        `resumed after epoch ${after}`,
      );
      const done = await plain;
      assert.equal(done.code, 0, new TextDecoder().decode(done.stderr));
      const uninterrupted = await latest(alone, hash);
      assert.equal(uninterrupted.metrics.train?.resumedAfterEpoch, undefined);
      for (const stage of ["train", "generate", "render"]) {
        assert.deepEqual(
          resumed.stages[stage]!.outputs,
          uninterrupted.stages[stage]!.outputs,
          `${stage}'s digests`,
        );
      }
    } finally {
      if (second) await killGroup(second, "SIGINT");
      await plain.catch(() => {});
      await setup.close();
      for (const d of [home, a, b, alone]) await Deno.remove(d, { recursive: true });
    }
  },
});

Deno.test({
  name: "remote: the server restarted during a sweep loses no job and no result",
  ignore: skipped,
  fn: async () => {
    const setup = await startNats();
    const [home, a] = [await Deno.makeTempDir(), await Deno.makeTempDir()];
    const w = worker(setup, a);
    try {
      const hashes = await queueSeeds(setup, home, "1,2,3");
      // Down (SIGKILL: a crash) while the first job runs, then up again on its own data.
      await w.waitFor(/worker: generate\.seed=1/, 120_000);
      await setup.servers[0]!.kill();
      await delay(1000);
      await setup.servers[0]!.start();
      await waitForRuns(setup, home, [a], hashes, 240_000).catch((e) => {
        throw new Error(`${e.message}\nworker:\n${w.output()}`);
      });
      for (const h of hashes) assert.ok(latestSync(a, h), `${h} ran on the worker`);
    } finally {
      await killGroup(w, "SIGINT");
      await setup.close();
      for (const d of [home, a]) await Deno.remove(d, { recursive: true });
    }
  },
});

Deno.test("remote: worker and sweep --queue without a remote say so in one sentence", async () => {
  const store = await Deno.makeTempDir();
  try {
    const run = (...args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", ...PERMISSIONS, "pipeline.ts", ...args, "--store", store],
        cwd: PROJECT_ROOT,
        env: { XDG_CONFIG_HOME: "/nonexistent", DLM_REMOTE: "" },
        stdout: "piped",
        stderr: "piped",
      }).output();
    for (
      const [args, pattern] of [
        [["worker"], /^error: worker needs a remote to take jobs from: give --remote/],
        [
          ["sweep", ...SMALL_RUN, "--grid", "generate.seed=1,2", "--queue"],
          /^error: sweep --queue needs a remote to queue on: give --remote/,
        ],
      ] as const
    ) {
      const out = await run(...args);
      const lines = new TextDecoder().decode(out.stderr).trim().split("\n");
      assert.equal(out.code, 2, lines.join("\n"));
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(lines[0]!, pattern);
    }
  } finally {
    await Deno.remove(store, { recursive: true });
  }
});
