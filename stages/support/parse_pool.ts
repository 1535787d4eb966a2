/**
 * Tokenizing MIDI files on worker threads, for parse at scale: tokenizing is most of parse's
 * time (about 0.2–0.4 ms a Groove file), and each file is independent, so N workers do it about
 * N times as fast while the stage's own thread reads files, checks their digests and puts the
 * results together in sample order. Two workers take about 0.15 s to start (loading and warming
 * up the tokenizer), so parse uses them only for many files ({@link parseWorkerCount}).
 *
 * This one module is both sides: the pool that parse uses, and the loop a worker runs (started
 * from this same file under the name {@link WORKER_NAME}). Keeping the worker's code here puts
 * it in parse's code digest, since parse imports this module.
 *
 * A worker numbers the tokens it has sent (each distinct token crosses once, then only its
 * number does), so a file's tokens come back as one small typed array that is moved, not
 * copied, and every occurrence of a token on this side is one string, as the tokenizer's own
 * tables give them on one thread.
 *
 * The price is memory: the workers' heaps, and the messages the stage's thread unpacks, take
 * the peak of a 100,000-file parse from about 1.0–1.3 GB to 1.4–1.7 GB (BENCHMARKS.md).
 *
 * @module
 */
import type { TokenEncoding } from "../../formats/tokens.ts";
import {
  DrumGridTooLongError,
  type FileTokens,
  tokenizeFile,
  type TokenizeLimits,
} from "../../music/encoding.ts";
import { MidiReadError } from "../../music/tokenize.ts";

/** The name parse's workers run under; the module starts the worker loop only under it. */
export const WORKER_NAME = "deep-lstm-midi parse";

/** From how many files parse uses workers: below it, starting them costs more than they save. */
export const PARALLEL_FROM = 2000;

/** The most workers: beyond about four, the stage's own thread (reads, digests) is the limit. */
const MAX_WORKERS = 4;

/** How many workers to tokenize `files` files with on this machine; 0 for none. */
export function parseWorkerCount(files: number): number {
  const cores = navigator.hardwareConcurrency ?? 1;
  return files < PARALLEL_FROM || cores < 2 ? 0 : Math.min(MAX_WORKERS, cores);
}

/** What the stage's thread asks a worker: a batch of files, one message for all. */
interface Request {
  encoding: TokenEncoding;
  limits: TokenizeLimits;
  files: { id: number; bytes: Uint8Array }[];
}

/** What a worker answers about one file. */
type Answer =
  & { id: number }
  & (
    | {
      ok: true;
      /** Each token's number in this worker's table. */
      ids: Uint32Array<ArrayBuffer>;
      /** Tokens this worker had not sent before, numbered from the table's current length. */
      fresh: string[];
      voicings?: Map<string, Map<string, number>>;
      unmapped?: { pitch: number; count: number }[];
      warning?: string;
    }
    | { ok: false; unreadable: string }
    | { ok: false; tooLong: { steps: number; stepsPerQuarter: number; maxQuarters: number } }
    | { ok: false; crashed: { name: string; message: string } }
  );

/** One worker and what it was asked. */
interface Member {
  worker: Worker;
  /** This worker's token numbers → the tokens. */
  table: string[];
  /** Files asked for and not answered yet, sent or queued. */
  pending: Map<number, { resolve(t: FileTokens): void; reject(e: unknown): void }>;
  /** Files not sent yet: they go as one message. */
  queue: { id: number; bytes: Uint8Array }[];
  /** Batches sent and not answered yet. */
  sent: number;
  /** Why the worker stopped, once it has: what it is asked after that fails at once. */
  stopped?: Error;
}

/**
 * Files per message at most. A message costs about 55 µs of CPU whatever it carries, against
 * 0.2–0.4 ms to tokenize a file; batches of 16 bring the cost to about 20 µs a file.
 */
const BATCH = 16;

/** Workers started and not yet stopped, in this thread: what a test checks after a stage ends. */
let live = 0;

/** How many parse workers are running (started by a pool not yet closed). */
export function liveParseWorkers(): number {
  return live;
}

/** Workers that tokenize files in `encoding`; {@link close} them when done. */
export class TokenizerPool {
  readonly #members: Member[];
  readonly #encoding: TokenEncoding;
  readonly #limits: TokenizeLimits;
  #next = 0;

  constructor(count: number, encoding: TokenEncoding, limits: TokenizeLimits = {}) {
    this.#encoding = encoding;
    this.#limits = limits;
    this.#members = Array.from({ length: count }, () => this.#start());
  }

  #start(): Member {
    const worker = new Worker(import.meta.url, { type: "module", name: WORKER_NAME });
    live++;
    const member: Member = { worker, table: [], pending: new Map(), queue: [], sent: 0 };
    worker.onmessage = (e: MessageEvent<Answer[]>) => {
      member.sent--;
      for (const answer of e.data) this.#settle(member, answer);
      if (member.sent === 0) this.#flush(member);
    };
    worker.onerror = (e) => {
      // A worker that dies (out of memory, say) fails what it was asked; the stage reports it.
      e.preventDefault();
      member.stopped = new Error(`a parse worker stopped: ${e.message}`);
      for (const { reject } of member.pending.values()) reject(member.stopped);
      member.pending.clear();
      member.queue = [];
    };
    return member;
  }

  #settle(member: Member, answer: Answer): void {
    const waiting = member.pending.get(answer.id);
    member.pending.delete(answer.id);
    if (answer.ok) {
      // Grown as the answers arrive, which is the order the worker numbered the tokens in.
      for (const t of answer.fresh) member.table.push(t);
      const tokens = new Array<string>(answer.ids.length);
      for (let i = 0; i < tokens.length; i++) tokens[i] = member.table[answer.ids[i]!]!;
      waiting?.resolve({
        tokens,
        voicings: answer.voicings,
        unmapped: answer.unmapped,
        warning: answer.warning,
      });
    } else if ("unreadable" in answer) {
      waiting?.reject(new MidiReadError(answer.unreadable));
    } else if ("tooLong" in answer) {
      const { steps, stepsPerQuarter, maxQuarters } = answer.tooLong;
      waiting?.reject(new DrumGridTooLongError(steps, stepsPerQuarter, maxQuarters));
    } else {
      waiting?.reject(Object.assign(new Error(answer.crashed.message), answer.crashed));
    }
  }

  /** Sends what `member` has queued, as one message. */
  #flush(member: Member): void {
    if (member.queue.length === 0) return;
    const files = member.queue;
    member.queue = [];
    member.sent++;
    // Copied, not transferred: the caller may still hold the bytes.
    member.worker.postMessage(
      { encoding: this.#encoding, limits: this.#limits, files } satisfies Request,
    );
  }

  /**
   * The tokens of one file, as `tokenizeFile` gives them on this thread.
   * @throws {DrumGridTooLongError} when its drum grid would be longer than the limit
   * @throws {MidiReadError} when the file cannot be read as MIDI
   */
  tokenize(bytes: Uint8Array): Promise<FileTokens> {
    // The least busy worker: files differ in size, so turn about would leave one idle.
    let member = this.#members[0]!;
    for (const m of this.#members) if (m.pending.size < member.pending.size) member = m;
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      if (member.stopped !== undefined) return reject(member.stopped);
      member.pending.set(id, { resolve, reject });
      member.queue.push({ id, bytes });
      // An idle worker gets the file at once; a busy one gets full batches, and what is left
      // when it answers.
      if (member.sent === 0 || member.queue.length >= BATCH) this.#flush(member);
    });
  }

  /** Stops every worker; what they were still doing is dropped. */
  close(): void {
    for (const m of this.#members.splice(0)) {
      m.worker.terminate();
      live--;
    }
  }
}

/** The worker's side: tokenize what is asked, answer with numbered tokens. */
function serve(scope: {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(message: Answer[], transfer?: Transferable[]): void;
}): void {
  const numbers = new Map<string, number>();
  const answer = (
    id: number,
    bytes: Uint8Array,
    encoding: TokenEncoding,
    limits: TokenizeLimits,
  ): Answer => {
    let read: FileTokens;
    try {
      read = tokenizeFile(bytes, encoding, limits);
    } catch (e) {
      if (e instanceof DrumGridTooLongError) {
        const { steps, stepsPerQuarter, maxQuarters } = e;
        return { id, ok: false, tooLong: { steps, stepsPerQuarter, maxQuarters } };
      }
      if (e instanceof MidiReadError) return { id, ok: false, unreadable: e.reason };
      const { name, message } = e instanceof Error ? e : new Error(String(e));
      return { id, ok: false, crashed: { name, message } };
    }
    const ids = new Uint32Array(read.tokens.length);
    const fresh: string[] = [];
    read.tokens.forEach((t, i) => {
      let n = numbers.get(t);
      if (n === undefined) {
        n = numbers.size;
        numbers.set(t, n);
        fresh.push(t);
      }
      ids[i] = n;
    });
    const { voicings, unmapped, warning } = read;
    return { id, ok: true, ids, fresh, voicings, unmapped, warning };
  };
  scope.onmessage = ({ data: { encoding, limits, files } }) => {
    const answers = files.map(({ id, bytes }) => answer(id, bytes, encoding, limits));
    scope.postMessage(answers, answers.flatMap((a) => (a.ok ? [a.ids.buffer] : [])));
  };
}

if ((globalThis as { name?: unknown }).name === WORKER_NAME) {
  serve(globalThis as unknown as Parameters<typeof serve>[0]);
}
