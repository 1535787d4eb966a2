/**
 * nats-server for the remote tests: one JetStream server, or a three-server cluster, on loopback
 * ports with temporary data folders, each requiring a user and password (the README's setup
 * accepts no anonymous client, so neither do the tests).
 *
 * Every server logs to a file in its data folder rather than to a pipe: nobody reads its output
 * while a test runs, and a full pipe would stall the server. A server that fails to start is
 * reported with the end of that log.
 *
 * @module
 */

/** The first nats-server found: $NATS_SERVER, then the Debian package's path, then $PATH. */
export function findNatsServer(): string | undefined {
  const candidates = [
    Deno.env.get("NATS_SERVER"),
    "/usr/sbin/nats-server",
    "/usr/bin/nats-server",
    "/usr/local/bin/nats-server",
  ];
  return candidates.find((path) => {
    try {
      return path !== undefined && path !== "" && Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
}

/** The nats-server the remote tests use, or undefined (then they are skipped). */
export const natsServer: string | undefined = findNatsServer();

/** Prints why `test` is skipped when there is no nats-server; true when it is. */
export function skipWithoutNats(test: string): boolean {
  if (natsServer !== undefined) return false;
  console.log(
    `${test} SKIPPED: no nats-server found (looked for $NATS_SERVER, /usr/sbin/nats-server, ` +
      "/usr/bin/nats-server, /usr/local/bin/nats-server); install it with " +
      "`apt-get install nats-server` (.ci/run does) to test the shared store and the work queue",
  );
  return true;
}

/** The user and password every test server requires. */
export interface NatsCredentials {
  user: string;
  password: string;
}

/** One running (or stopped) nats-server with JetStream. */
export class NatsServer {
  #child: Deno.ChildProcess | undefined;
  /** Set when the process ends: a server that exits while starting is not waited for. */
  #exited: Deno.CommandStatus | undefined;

  constructor(
    /** Its name in the cluster (`n1`…), or `solo`. */
    readonly name: string,
    /** Client port on 127.0.0.1. */
    readonly port: number,
    /** Monitoring port on 127.0.0.1 (for /healthz). */
    readonly httpPort: number,
    /** Its folder: config, log and JetStream data (`js/`). */
    readonly dir: string,
  ) {}

  /** `nats://127.0.0.1:<port>`: what clients are given (no credentials in it). */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts the server from its config file and waits until JetStream answers /healthz. */
  async start(timeoutMs = 15_000): Promise<void> {
    if (this.#child !== undefined) throw new Error(`nats-server ${this.name} is already running`);
    this.#child = new Deno.Command(natsServer!, {
      args: ["-c", `${this.dir}/server.conf`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    this.#exited = undefined;
    const child = this.#child;
    child.status.then((s) => {
      if (this.#child === child) this.#exited = s;
    });
    try {
      await this.#ready(timeoutMs);
    } catch (e) {
      await this.kill();
      throw e;
    }
  }

  /** Waits until the server says JetStream is ready (a cluster's: a meta leader is elected). */
  async #ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      if (this.#exited !== undefined) break;
      try {
        const res = await fetch(`http://127.0.0.1:${this.httpPort}/healthz`, {
          signal: AbortSignal.timeout(1000),
        });
        last = await res.text();
        if (res.ok) return;
      } catch (e) {
        last = (e as Error).message;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const log = await Deno.readTextFile(`${this.dir}/server.log`).catch(() => "");
    const how = this.#exited !== undefined
      ? `exited with status ${this.#exited.code}`
      : `did not become ready in ${timeoutMs} ms`;
    throw new Error(
      `nats-server ${this.name} on port ${this.port} ${how} ` +
        `(last /healthz: ${last.trim()}); its log ends:\n${log.split("\n").slice(-15).join("\n")}`,
    );
  }

  /** Stops the server at once (SIGKILL: a crash, not a shutdown) and waits for it to end. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    try {
      child.kill("SIGKILL");
    } catch {
      // It had already ended.
    }
    await child.status;
  }

  /** Stops the server cleanly (SIGTERM) and waits for it to end. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    try {
      child.kill("SIGTERM");
    } catch {
      // It had already ended.
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Ended meanwhile.
      }
    }, 5000);
    await child.status;
    clearTimeout(timer);
  }

  /** Stops the server and starts it again on the same port with the same data. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

/** One server or a cluster, with the credentials its clients need; `close()` removes it all. */
export interface NatsSetup {
  servers: NatsServer[];
  credentials: NatsCredentials;
  /** The client URLs, comma-separated (what `--remote` takes). */
  url: string;
  close(): Promise<void>;
}

/** What a test server accepts beyond its user and password. */
export interface NatsServerOptions {
  /** Require TLS with this certificate (see {@link makeTestCertificates}). */
  tls?: { certFile: string; keyFile: string };
  /** Also accept these nkey users (public keys, `U…`). */
  nkeys?: string[];
}

/** Starts one JetStream server on a free loopback port, in a temporary folder. */
export async function startNats(opts: NatsServerOptions = {}): Promise<NatsSetup> {
  return await startServers(1, opts);
}

/** Starts a three-server JetStream cluster on loopback (routes between all three). */
export async function startNatsCluster(): Promise<NatsSetup> {
  return await startServers(3);
}

async function startServers(n: number, opts: NatsServerOptions = {}): Promise<NatsSetup> {
  if (natsServer === undefined) throw new Error("no nats-server (see skipWithoutNats)");
  const root = await Deno.makeTempDir({ prefix: "dlm-nats-" });
  const credentials: NatsCredentials = {
    user: "dlm-test",
    password: crypto.randomUUID(),
  };
  const ports = freePorts(n * 3);
  const servers: NatsServer[] = [];
  for (let i = 0; i < n; i++) {
    const name = n === 1 ? "solo" : `n${i + 1}`;
    const dir = `${root}/${name}`;
    await Deno.mkdir(dir);
    const [port, httpPort, routePort] = [ports[i * 3]!, ports[i * 3 + 1]!, ports[i * 3 + 2]!];
    const routes = n === 1 ? [] : ports.filter((_, k) => k % 3 === 2 && k !== i * 3 + 2);
    await Deno.writeTextFile(
      `${dir}/server.conf`,
      serverConfig({
        name,
        port,
        httpPort,
        dir,
        credentials,
        routePort,
        routes,
        cluster: n > 1,
        ...opts,
      }),
    );
    servers.push(new NatsServer(name, port, httpPort, dir));
  }
  const close = async () => {
    for (const s of servers) await s.kill();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  };
  try {
    // A cluster's servers wait for each other to elect a JetStream leader: start them all,
    // then wait for each.
    await Promise.all(servers.map((s) => s.start(n === 1 ? 15_000 : 30_000)));
  } catch (e) {
    await close();
    throw e;
  }
  return { servers, credentials, url: servers.map((s) => s.url).join(","), close };
}

/** The server's config: loopback only, JetStream in its folder, a user and password required. */
function serverConfig(o: {
  name: string;
  port: number;
  httpPort: number;
  dir: string;
  credentials: NatsCredentials;
  routePort: number;
  routes: number[];
  cluster: boolean;
  tls?: { certFile: string; keyFile: string };
  nkeys?: string[];
}): string {
  const lines = [
    `server_name: ${o.name}`,
    `listen: 127.0.0.1:${o.port}`,
    `http: 127.0.0.1:${o.httpPort}`,
    `log_file: "${o.dir}/server.log"`,
    `jetstream {`,
    `  store_dir: "${o.dir}/js"`,
    `  max_memory_store: 64MB`,
    `  max_file_store: 1GB`,
    `}`,
    `authorization {`,
    `  users: [`,
    `    { user: "${o.credentials.user}", password: "${o.credentials.password}" }`,
    ...(o.nkeys ?? []).map((k) => `    { nkey: "${k}" }`),
    `  ]`,
    `}`,
  ];
  if (o.tls !== undefined) {
    lines.push(`tls { cert_file: "${o.tls.certFile}", key_file: "${o.tls.keyFile}" }`);
  }
  if (o.cluster) {
    lines.push(
      `cluster {`,
      `  name: dlm-test`,
      `  listen: 127.0.0.1:${o.routePort}`,
      `  routes: [${o.routes.map((p) => `nats-route://127.0.0.1:${p}`).join(", ")}]`,
      `}`,
    );
  }
  return lines.join("\n") + "\n";
}

/** `n` distinct ports that are free now (the OS picks them; a clash later is unlikely). */
function freePorts(n: number): number[] {
  const listeners = Array.from(
    { length: n },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of listeners) l.close();
  return ports;
}

/** Test certificates: a CA, and a server certificate for 127.0.0.1 that it signed. */
export interface TestCertificates {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/**
 * Makes a throwaway CA and a server certificate for 127.0.0.1 in `dir` with openssl (EC keys:
 * quick to make), or returns undefined when openssl is not installed.
 */
export async function makeTestCertificates(dir: string): Promise<TestCertificates | undefined> {
  const run = async (...args: string[]) => {
    const out = await new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" })
      .output();
    if (!out.success) {
      throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
    }
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  try {
    await run(
      "req",
      "-x509",
      ...ec,
      "-keyout",
      `${dir}/ca.key`,
      "-out",
      `${dir}/ca.pem`,
      "-days",
      "1",
      "-subj",
      "/CN=deep-lstm-midi test CA",
    );
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  await run(
    "req",
    ...ec,
    "-keyout",
    `${dir}/server.key`,
    "-out",
    `${dir}/server.csr`,
    "-subj",
    "/CN=127.0.0.1",
  );
  await Deno.writeTextFile(`${dir}/ext.cnf`, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await run(
    "x509",
    "-req",
    "-in",
    `${dir}/server.csr`,
    "-CA",
    `${dir}/ca.pem`,
    "-CAkey",
    `${dir}/ca.key`,
    "-CAcreateserial",
    "-out",
    `${dir}/server.pem`,
    "-days",
    "1",
    "-extfile",
    `${dir}/ext.cnf`,
  );
  return { caFile: `${dir}/ca.pem`, certFile: `${dir}/server.pem`, keyFile: `${dir}/server.key` };
}
