/**
 * How the pipeline proves who it is to the remote: read by settings.ts, handed to the client by
 * nats/connect.ts, and nowhere else. A module of its own so that both can import it without
 * importing each other.
 *
 * @module
 */

/** How to prove who we are to the server. Never logged, never written to a run record. */
export interface RemoteCredentials {
  user?: string;
  password?: string;
  token?: string;
  /** A file holding an nkey seed (`SU…`); read at connect time only. */
  nkeySeedFile?: string;
  /** TLS: the CA that signed the server's certificate, and a client certificate if required. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}
