/**
 * The sweep's work queue (the stream DLM_JOBS): one job per combination, each taken by one
 * worker of the shared consumer `dlm-workers`. A job carries a message id the server
 * deduplicates (a sweep enqueued twice is one sweep); a worker sends heartbeats while it works,
 * so the server gives a dead worker's job to another after the ack deadline; a failing job is
 * dropped after its last delivery.
 *
 * @module
 */
import { AckPolicy, DeliverPolicy, type JsMsg, nanos, NatsError } from "nats";
import { sleep } from "../../core/sleep.ts";
import type { ConsumeOptions, ConsumeSummary, Job, QueueEvent, Remote } from "../remote.ts";
import { REMOTE_NAMES } from "./buckets.ts";
import type { Session } from "./session.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The jobs of sweeps, and the workers taking them. */
export class JobQueue implements Pick<Remote, "enqueue" | "queueState" | "consume"> {
  constructor(readonly session: Session) {}

  async enqueue(job: object, opts: { id?: string } = {}): Promise<{ duplicate: boolean }> {
    const id = opts.id ?? crypto.randomUUID();
    const bytes = this.session.checkSize(encoder.encode(JSON.stringify(job)), `job ${id}`);
    // The message id makes a resend after a lost answer the same job, not a second one.
    const ack = await this.session.retry(
      `enqueue job ${id}`,
      () => this.session.js.publish(REMOTE_NAMES.jobSubject, bytes, { msgID: id }),
    );
    return { duplicate: ack.duplicate };
  }

  async queueState(): Promise<{ waiting: number; running: number }> {
    return await this.session.retry("read the job queue", async () => {
      const stream = await this.session.jsm.streams.info(REMOTE_NAMES.jobs);
      const consumer = await this.session.jsm.consumers.info(
        REMOTE_NAMES.jobs,
        REMOTE_NAMES.workers,
      )
        .catch(() => undefined);
      const running = consumer?.num_ack_pending ?? 0;
      // A work queue keeps a message until it is acked: what is stored and not running waits.
      return { waiting: Math.max(0, stream.state.messages - running), running };
    });
  }

  async consume(
    opts: ConsumeOptions,
    handler: (job: Job, signal: AbortSignal) => Promise<void>,
  ): Promise<ConsumeSummary> {
    const maxDeliver = opts.maxDeliver ?? 3;
    const say = opts.onEvent ?? (() => {});
    await this.session.retry(
      "open the job queue",
      () => this.#ensureWorkers(opts.ackWaitMs, maxDeliver),
    );
    const consumer = await this.session.retry(
      "open the job queue",
      () => this.session.js.consumers.get(REMOTE_NAMES.jobs, REMOTE_NAMES.workers),
    );
    const summary: ConsumeSummary = { done: 0, failed: 0, handedBack: 0 };
    let idleSince = Date.now();
    const stopping = () => opts.signal?.aborted === true || this.session.nc.isClosed();
    while (!stopping()) {
      if (opts.idleStopMs !== undefined && Date.now() - idleSince >= opts.idleStopMs) {
        // An empty pull is not an empty queue (a consumer whose leader is being elected gives
        // nothing for a while): stop only when the stream holds no job waiting for a worker.
        const state = await this.queueState().catch(() => undefined);
        if (state?.waiting === 0) break;
      }
      let msg: JsMsg | null;
      try {
        // Short pulls, so that a stop request or the idle limit is noticed within ~1 s.
        msg = await consumer.next({ expires: 1000 });
      } catch (e) {
        if (stopping()) break;
        say({
          type: "trouble",
          message: `cannot take a job from ${this.session.where}: ${(e as Error).message}`,
        });
        await sleep(1000, opts.signal).catch(() => {});
        continue;
      }
      if (msg === null) continue;
      if (stopping()) {
        this.#settle(() => msg.nak(), say);
        break;
      }
      const job = toJob(msg);
      if (job === undefined) {
        // Not JSON: no worker can run it, so it must not go round forever.
        this.#settle(() => msg.term("not a JSON job"), say);
        say({ type: "trouble", message: `dropped job ${msg.seq}: it is not JSON` });
        continue;
      }
      summary[await this.#runJob(msg, job, opts, maxDeliver, handler)]++;
      idleSince = Date.now();
    }
    return summary;
  }

  /** Runs one job with heartbeats; acks, hands back or naks it. */
  async #runJob(
    msg: JsMsg,
    job: Job,
    opts: ConsumeOptions,
    maxDeliver: number,
    handler: (job: Job, signal: AbortSignal) => Promise<void>,
  ): Promise<keyof ConsumeSummary> {
    const say = opts.onEvent ?? (() => {});
    const abort = new AbortController();
    const onStop = () => abort.abort(opts.signal?.reason);
    opts.signal?.addEventListener("abort", onStop, { once: true });
    // "Still working": without it the server gives the job to another worker after ackWait.
    // (It runs on the event loop: a handler that blocks it longer than ackWait loses the job.)
    const heartbeat = setInterval(
      () => this.#settle(() => msg.working(), say),
      Math.max(10, Math.floor(opts.ackWaitMs / 3)),
    );
    say({ type: "started", job });
    const t0 = performance.now();
    let error: unknown;
    let ok = false;
    try {
      await handler(job, abort.signal);
      ok = true;
    } catch (e) {
      error = e;
    } finally {
      clearInterval(heartbeat);
      opts.signal?.removeEventListener("abort", onStop);
    }
    if (ok) {
      // Wait for the server to confirm: a job is done only when it will not come back. If the
      // ack is lost the job comes back, and its rerun finds every stage in the shared store.
      const acked = await msg.ackAck().catch(() => false);
      if (!acked) {
        say({ type: "trouble", message: `job ${job.id} finished but its ack was not confirmed` });
      }
      say({ type: "done", job, seconds: (performance.now() - t0) / 1000 });
      return "done";
    }
    if (abort.signal.aborted) {
      // Stopped, not failed: another worker takes it at once (and resumes its training).
      this.#settle(() => msg.nak(), say);
      say({ type: "handed-back", job });
      return "handedBack";
    }
    const retry = job.delivery < maxDeliver;
    this.#settle(
      () => retry ? msg.nak(opts.retryDelayMs ?? 2000) : msg.term(`failed ${job.delivery} times`),
      say,
    );
    say({ type: "failed", job, error: (error as Error)?.message ?? String(error), retry });
    return "failed";
  }

  /** Sends an ack-type message; on a lost connection the server redelivers anyway. */
  #settle(send: () => void, say: (e: QueueEvent) => void): void {
    try {
      send();
    } catch (e) {
      say({
        type: "trouble",
        message: `cannot reach ${this.session.where}: ${(e as Error).message}`,
      });
    }
  }

  /** Creates the workers' shared consumer, or brings its ack wait and deliveries up to date. */
  async #ensureWorkers(ackWaitMs: number, maxDeliver: number): Promise<void> {
    const config = {
      durable_name: REMOTE_NAMES.workers,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(ackWaitMs),
      max_deliver: maxDeliver,
      deliver_policy: DeliverPolicy.All,
    };
    const info = await this.session.jsm.consumers.info(REMOTE_NAMES.jobs, REMOTE_NAMES.workers)
      .catch(
        (e) => {
          if (e instanceof NatsError && /consumer not found/i.test(e.message)) return undefined;
          throw e;
        },
      );
    if (info === undefined) {
      await this.session.jsm.consumers.add(REMOTE_NAMES.jobs, config);
    } else if (info.config.ack_wait !== config.ack_wait || info.config.max_deliver !== maxDeliver) {
      await this.session.jsm.consumers.update(REMOTE_NAMES.jobs, REMOTE_NAMES.workers, {
        ack_wait: config.ack_wait,
        max_deliver: maxDeliver,
      });
    }
  }
}

function toJob(msg: JsMsg): Job | undefined {
  try {
    const data = JSON.parse(decoder.decode(msg.data));
    return {
      data,
      id: msg.headers?.get("Nats-Msg-Id") ?? String(msg.seq),
      delivery: msg.info.deliveryCount,
    };
  } catch {
    return undefined;
  }
}
