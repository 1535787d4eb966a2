/**
 * Worker of bench/parse_bench.ts: builds one slow-shape file and tokenizes it, in its own V8
 * heap, so that the main thread can watch the process's memory while it runs and what one shape
 * leaves behind does not count against the next.
 *
 * @module
 */
import { SLOW_SHAPES, type SlowShape } from "../tests/_slow_shapes.ts";
import { tokenizeMidi } from "../music/tokenize.ts";

/** What the main thread asks for. */
export interface ShapeJob {
  shape: SlowShape;
  bytes: number;
}

/** What the worker answers once the file is tokenized. */
export interface ShapeResult {
  /** The file's actual size. */
  bytes: number;
  /** Milliseconds to tokenize it, after a 64 KB file of the same shape warmed the code up. */
  ms: number;
  tokens: number;
}

/** The worker's side of the channel (the default types describe a window, not a worker). */
const channel = self as unknown as {
  onmessage: (event: MessageEvent<ShapeJob>) => void;
  postMessage(message: unknown): void;
};

channel.onmessage = (event) => {
  const { shape, bytes } = event.data;
  tokenizeMidi(SLOW_SHAPES[shape](64 << 10));
  const file = SLOW_SHAPES[shape](bytes);
  // Let the main thread take the memory baseline with the file built but not yet parsed.
  channel.postMessage("built");
  setTimeout(() => {
    const started = performance.now();
    const tokens = tokenizeMidi(file).length;
    const result: ShapeResult = { bytes: file.length, ms: performance.now() - started, tokens };
    channel.postMessage(result);
  }, 20);
};
