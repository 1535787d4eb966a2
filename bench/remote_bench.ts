/**
 * Sweeps on several workers: a four-config sweep of quick.yaml (train.seed 1–4, so each config
 * trains) queued on a fresh nats-server (`sweep --queue`), run by one worker and then, on another
 * fresh server, by two, each worker with its own store as on separate machines; then the time to
 * fetch a cached checkpoint of the recipe's size (3.4 MB) from the remote. Needs nats-server.
 *
 * Run: `deno run -A bench/remote_bench.ts [--workers 1,2]`
 *
 * @module
 */
import { startNats } from "../tests/_nats.ts";
import { PERMISSIONS } from "../cli/permissions.ts";
import { connectRemote } from "../remote/nats/connect.ts";
import { digestOf } from "../core/hash.ts";

const root = new URL("../", import.meta.url).pathname;
const at = Deno.args.indexOf("--workers");
const counts = (at >= 0 ? Deno.args[at + 1]! : "1,2").split(",").map(Number);
const SEEDS = "train.seed=1,2,3,4";

async function sweepOn(workers: number): Promise<number> {
  const setup = await startNats();
  const env = {
    DLM_REMOTE_USER: setup.credentials.user,
    DLM_REMOTE_PASSWORD: setup.credentials.password,
    XDG_CONFIG_HOME: "/nonexistent",
  };
  const stores = await Promise.all(
    Array.from({ length: workers + 1 }, () => Deno.makeTempDir({ prefix: "remote-bench-" })),
  );
  const pipeline = (args: string[], stdout: "null" | "piped" = "piped") =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", ...PERMISSIONS, "pipeline.ts", ...args, "--remote", setup.url],
      cwd: root,
      env,
      stdin: "null",
      stdout,
      stderr: stdout,
    });
  try {
    const t0 = performance.now();
    const queued = await pipeline([
      "sweep",
      "--config",
      "quick.yaml",
      "--grid",
      SEEDS,
      "--queue",
      "--store",
      stores[0]!,
    ]).output();
    const hashes = [...new TextDecoder().decode(queued.stdout).matchAll(/config hash (\w{16})/g)]
      .map((m) => m[1]!);
    const children = stores.slice(1).map((s) =>
      pipeline(["worker", "--quiet", "--store", s], "null").spawn()
    );
    for (;;) {
      const out = await pipeline(["runs", "--json", "--quiet", "--store", stores[0]!]).output();
      const text = new TextDecoder().decode(out.stdout);
      if (hashes.every((h) => text.includes(h))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const seconds = (performance.now() - t0) / 1000;
    for (const c of children) c.kill("SIGINT");
    for (const c of children) await c.status;
    return seconds;
  } finally {
    await setup.close();
    for (const s of stores) await Deno.remove(s, { recursive: true });
  }
}

async function fetchCheckpoint(): Promise<number[]> {
  const setup = await startNats();
  try {
    const remote = await connectRemote(setup.url, setup.credentials);
    const bytes = new Uint8Array(3_400_000).map((_, i) => (i * 2654435761) >>> 24);
    const digest = digestOf(bytes);
    await remote.put(digest, bytes);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await remote.get(digest);
      times.push(performance.now() - t0);
    }
    await remote.close();
    return times;
  } finally {
    await setup.close();
  }
}

const cpu = new TextDecoder().decode(
  (await new Deno.Command("grep", { args: ["-m1", "model name", "/proc/cpuinfo"] }).output())
    .stdout,
).replace(/^.*:\s*/, "").trim();
console.log(`remote sweep: quick.yaml × ${SEEDS}, ${cpu}, ${navigator.hardwareConcurrency} CPUs`);
for (const n of counts) {
  console.log(`  ${n} worker${n === 1 ? "" : "s"}: ${(await sweepOn(n)).toFixed(1)} s`);
}
const fetches = await fetchCheckpoint();
console.log(
  `  fetching a 3.4 MB checkpoint from the remote: ${
    fetches.map((t) => t.toFixed(0)).join(", ")
  } ms (median ${fetches.sort((a, b) => a - b)[2]!.toFixed(0)} ms)`,
);
