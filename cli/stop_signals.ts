/**
 * The signals that ask a command to stop: Ctrl-C (SIGINT), `kill` and service managers
 * (SIGTERM), a closed terminal or SSH session (SIGHUP). Each is taken as Ctrl-C is: the first
 * asks the command to stop at its next safe point (exit status 130); after it the command no
 * longer listens, so a second one of any of them ends the process at once, by the signal's own
 * default action.
 *
 * @module
 */

/** The signals {@link onStopSignal} listens to. */
export const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** One of {@link STOP_SIGNALS}. */
export type StopSignal = typeof STOP_SIGNALS[number];

/**
 * Calls `stop` on the first of {@link STOP_SIGNALS} and stops listening to them all.
 *
 * @returns a function that stops listening (for a command that ends without a signal)
 */
export function onStopSignal(stop: (signal: StopSignal) => void): () => void {
  const handlers = STOP_SIGNALS.map((signal) => [signal, () => fired(signal)] as const);
  let listening = true;
  const unlisten = () => {
    if (!listening) return;
    listening = false;
    for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
  };
  const fired = (signal: StopSignal) => {
    unlisten();
    stop(signal);
  };
  for (const [signal, handler] of handlers) Deno.addSignalListener(signal, handler);
  return unlisten;
}

/** How the user sends the signal again to kill: "Ctrl-C" for SIGINT, else its name. */
export function again(signal: StopSignal): string {
  return signal === "SIGINT" ? "Ctrl-C" : signal;
}
