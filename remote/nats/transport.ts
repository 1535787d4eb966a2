/**
 * The NATS client's `connect()`, with sockets whose errors cannot end the process.
 *
 * The npm `nats` client (2.29, and its successor @nats-io/transport-node) removes every listener
 * from its socket at several points: when the socket connects, once the server's INFO is read,
 * and when the connection closes. A server that refuses the credentials answers `-ERR` and drops
 * the connection while the client is still writing, so the socket can then fail with
 * `read ECONNRESET` with no `error` listener on it. Node's rule for an `error` event nobody
 * listens to is to throw it, which under Deno is an uncaught error: a pipeline or worker would
 * die on a wrong password (or a server restart) instead of reporting it, and `deno test` fails
 * the whole module. remote_test.ts's "400 refused logins" test fails within its first few
 * rounds without this.
 *
 * The fix is one listener per socket that the client's `removeAllListeners()` cannot remove. It
 * only keeps the error from being thrown: the socket is already destroyed by the time `error`
 * is emitted, and the client learns of it from `close`, which it listens for, as before.
 *
 * It is given to our connections' sockets only, not to every socket of the process: the client
 * makes its sockets in a transport, chosen by a factory that its `connect()` registers
 * (`setTransportFactory`, the hook its Deno and WebSocket builds plug into). {@link connectNats}
 * registers a transport that extends the client's own, then connects as `connect()` does. The
 * factory is the client's module-wide setting, used again for every reconnect: a plain
 * `connect` from "nats" in the same process (the pipeline makes none; some tests do, for raw
 * access) registers the plain transport again, for its own connection and the reconnects of
 * all others.
 *
 * @module
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { ConnectionOptions, NatsConnection } from "nats";
import { NatsConnectionImpl, setTransportFactory } from "nats/lib/src/nats-base-client.js";
import { nodeResolveHost, NodeTransport } from "nats/lib/src/node_transport.js";

/** Connects as the client's `connect()` does, through {@link GuardedTransport}. */
export function connectNats(opts: ConnectionOptions): Promise<NatsConnection> {
  setTransportFactory({ factory: () => new GuardedTransport(), dnsResolveFn: nodeResolveHost });
  return NatsConnectionImpl.connect(opts);
}

/**
 * The client's transport, guarding every socket it makes: the plain one it dials (which a TLS
 * upgrade then wraps) and the TLS one. Each is guarded as soon as the client has it, before
 * anything else can happen on it: the client removes the listeners in the socket's own
 * `connect` callback, and this continues in the promise job that follows.
 */
class GuardedTransport extends NodeTransport {
  override async dial(hp: { hostname: string; port: number }): Promise<Socket> {
    return guard(await super.dial(hp));
  }

  override async tlsFirst(hp: { hostname: string; port: number }): Promise<TLSSocket> {
    return guard(await super.tlsFirst(hp));
  }

  override async startTLS(): Promise<TLSSocket> {
    return guard(await super.startTLS());
  }
}

/** Swallows what the client's own listeners do not see; the `close` that follows is theirs. */
function ignore(_error: Error): void {}

/** Gives `socket` the permanent `error` listener, once. */
function guard<S extends Socket>(socket: S): S {
  const marked = socket as S & { dlmGuarded?: boolean };
  if (marked.dlmGuarded) return socket;
  marked.dlmGuarded = true;
  socket.on("error", ignore);
  const removeAll = socket.removeAllListeners;
  socket.removeAllListeners = function (this: S, ...event: [(string | symbol)?]) {
    // Passed on as given: EventEmitter tells "remove all" from "remove `undefined`" by the
    // number of arguments.
    removeAll.apply(this, event);
    if (event.length === 0 || event[0] === "error") this.on("error", ignore);
    return this;
  };
  return socket;
}
