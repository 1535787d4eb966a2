/**
 * `deno task pipeline worker --remote URL`: takes sweep jobs (`sweep --queue`) from the remote's
 * work queue and runs each as `pipeline.ts run` on this machine's store, one at a time, until
 * stopped. Each job carries its resolved config, so a worker needs no copy of the sweep's files,
 * only the project and the dataset. The run shares through the remote: stages any machine
 * computed are fetched, training resumes from the last finished epoch another worker saved, and
 * the record joins the others' in `runs --remote`.
 *
 * A worker killed mid-job sends no more heartbeats, and the job goes to another worker after the
 * acknowledgement deadline; Ctrl-C stops the running job at its next safe point and hands it
 * back at once.
 *
 * @module
 */
import { warn } from "./terminal_text.ts";
import type { CliArgs } from "./args.ts";
import type { Pipeline } from "../core/dag.ts";
import { UsageError } from "../core/errors.ts";
import type { Remote } from "../remote/remote.ts";
import type { Store } from "../core/storage.ts";
import { childRun } from "./child_run.ts";
import { formatDuration } from "../report/text.ts";
import { onStopSignal } from "./stop_signals.ts";
import { type SweepJob, sweepJobProblem } from "../formats/jobs.ts";

/**
 * Milliseconds without a heartbeat before a job goes to another worker: $DLM_WORKER_ACK_WAIT_MS,
 * else a minute (a live worker sends one every third of it; a dead one's job waits this long).
 */
export function workerAckWaitMs(): number {
  const given = Number(Deno.env.get("DLM_WORKER_ACK_WAIT_MS"));
  return Number.isInteger(given) && given >= 1000 ? given : 60_000;
}

/** Takes and runs jobs; see the module documentation. */
export async function workerCommand(
  args: CliArgs,
  pipeline: Pipeline,
  store: Store,
  remote: Remote | undefined,
): Promise<number> {
  if (remote === undefined) {
    throw new UsageError(
      "worker needs a remote to take jobs from: give --remote nats://HOST:PORT (or set DLM_REMOTE)",
    );
  }
  await store.init();
  const stop = new AbortController();
  const unlisten = onStopSignal(() => {
    console.error("worker: stopping; the running job is handed back to the queue");
    stop.abort();
  });
  console.log(`worker: taking jobs from ${remote.description} · store ${store.root}`);
  try {
    const summary = await remote.consume(
      {
        ackWaitMs: workerAckWaitMs(),
        signal: stop.signal,
        onEvent: (e) => {
          if (e.type === "trouble") warn(e.message);
          if (e.type === "failed") {
            console.error(
              `worker: job ${e.job.id} failed (${e.error})${e.retry ? "; it will be retried" : ""}`,
            );
          }
        },
      },
      (job, signal) => runJob(job.data, job.delivery, args, pipeline, store, signal),
    );
    console.log(
      `worker: ${summary.done} done, ${summary.failed} failed, ${summary.handedBack} handed back`,
    );
    return stop.signal.aborted ? 130 : 0;
  } finally {
    unlisten();
  }
}

async function runJob(
  data: unknown,
  delivery: number,
  args: CliArgs,
  pipeline: Pipeline,
  store: Store,
  signal: AbortSignal,
): Promise<void> {
  const again = delivery > 1
    ? ` (delivery ${delivery}: resuming where the last worker stopped)`
    : "";
  // A job comes from the queue, which anyone who can write to the remote can fill.
  const problem = sweepJobProblem(data);
  if (problem !== undefined) throw new Error(`the job is not a sweep job: ${problem}`);
  const job = data as SweepJob;
  console.log(`worker: ${job.label} · config hash ${job.configHash}${again}`);
  // The config as a file of its own (JSON is YAML): its hash is the job's, whatever it is named.
  const file = store.pathOf("tmp", `job-${job.configHash}.yaml`);
  await store.writeAtomic(file, new TextEncoder().encode(JSON.stringify(job.config, null, 2)));
  const t0 = performance.now();
  const child = (await childRun(pipeline, [
    "--config",
    file,
    "--store",
    store.root,
    ...(args.remote ? ["--remote", args.remote] : []),
    "--remote-required",
    ...(args.quiet ? ["--quiet"] : []),
  ], true)).spawn();
  const interrupt = () => child.kill("SIGINT");
  signal.addEventListener("abort", interrupt);
  try {
    const { code } = await child.status;
    if (code !== 0) throw new Error(`the run exited with status ${code}`);
    const record = await store.getRun(job.configHash);
    if (record === undefined) {
      throw new Error(`the run recorded no run for config hash ${job.configHash}`);
    }
  } finally {
    signal.removeEventListener("abort", interrupt);
    await Deno.remove(file).catch(() => {});
  }
  console.log(`worker: ${job.label} done in ${formatDuration((performance.now() - t0) / 1000)}`);
}
