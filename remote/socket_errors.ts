/**
 * Keeps a socket error the NATS client did not listen for from ending the process.
 *
 * The npm `nats` client (2.29) removes every listener from its socket at several points: when
 * the socket connects, once the server's INFO is read, and when the connection closes. A server
 * that refuses the credentials answers `-ERR` and drops the connection while the client is still
 * writing, so the socket can then fail with `read ECONNRESET` with no `error` listener on it.
 * Node's rule for an `error` event nobody listens to is to throw it, which under Deno is an
 * uncaught error: a pipeline or worker would die on a wrong password (or a server restart)
 * instead of reporting it, and `deno test` fails the whole module. It was seen in CI and comes
 * back within a few hundred refused connections here.
 *
 * The fix is one listener per socket that the client's `removeAllListeners()` cannot remove. It
 * only keeps the error from being thrown: the socket is already destroyed by the time `error`
 * is emitted, and the client learns of it from `close`, which it listens for, as before.
 *
 * @module
 */
import net from "node:net";
import tls from "node:tls";

/** Swallows what the client's own listeners do not see; the `close` that follows is theirs. */
function ignore(_error: Error): void {}

/** Gives `socket` the permanent `error` listener, once. */
function guard(socket: net.Socket): void {
  const marked = socket as net.Socket & { dlmGuarded?: boolean };
  if (marked.dlmGuarded) return;
  marked.dlmGuarded = true;
  socket.on("error", ignore);
  const removeAll = socket.removeAllListeners;
  socket.removeAllListeners = function (this: net.Socket, ...event: [(string | symbol)?]) {
    // Passed on as given: EventEmitter tells "remove all" from "remove `undefined`" by the
    // number of arguments.
    removeAll.apply(this, event);
    if (event.length === 0 || event[0] === "error") this.on("error", ignore);
    return this;
  };
}

let installed = false;

/**
 * Guards every socket that `net.createConnection` and `tls.connect` make from now on (what the
 * client dials with), and the plain socket a TLS upgrade wraps. Idempotent.
 */
export function guardSocketErrors(): void {
  if (installed) return;
  installed = true;
  const createConnection = net.createConnection;
  // deno-lint-ignore no-explicit-any
  (net as any).createConnection = (...args: any[]) => {
    const socket = (createConnection as (...a: unknown[]) => net.Socket)(...args);
    guard(socket);
    return socket;
  };
  const connect = tls.connect;
  // deno-lint-ignore no-explicit-any
  (tls as any).connect = (...args: any[]) => {
    for (const arg of args) {
      if (arg !== null && typeof arg === "object" && arg.socket instanceof net.Socket) {
        guard(arg.socket);
      }
    }
    const socket = (connect as (...a: unknown[]) => tls.TLSSocket)(...args);
    guard(socket);
    return socket;
  };
}
