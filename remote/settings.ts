/**
 * Where the shared store is and how to log in to it. Never part of an experiment's config
 * (DECISIONS.md 16): the config hash names the experiment alone, and credentials never reach a
 * run record.
 *
 * The URL comes from the first of: the `--remote URL` flag, `$DLM_REMOTE`, the user's settings
 * file. Credentials and TLS come from the settings file, with `$DLM_REMOTE_USER`,
 * `$DLM_REMOTE_PASSWORD` and `$DLM_REMOTE_TOKEN` taking precedence. The settings file is
 * `$XDG_CONFIG_HOME/deep-lstm-midi/settings.json`, or `~/.config/deep-lstm-midi/settings.json`:
 *
 * ```json
 * {
 *   "remote": {
 *     "url": "nats://store.lab:4222",
 *     "user": "dlm",
 *     "password": "…",
 *     "tls": { "caFile": "/etc/dlm/ca.pem" },
 *     "replicas": 1,
 *     "required": false
 *   }
 * }
 * ```
 *
 * @module
 */
import { ConfigError, UsageError } from "../core/errors.ts";
import type { RemoteCredentials } from "./credentials.ts";

/** Where the remote is and how to reach it. */
export interface RemoteSettings {
  /** One `nats://HOST:PORT` URL, or several comma-separated (a cluster); no credentials. */
  url: string;
  credentials: RemoteCredentials;
  /** Copies of each bucket the server keeps when the pipeline creates them (1, or 3 for a cluster). */
  replicas: number;
  /** Stop rather than go on locally when the remote cannot be reached. */
  required: boolean;
  /** Where the URL came from, for messages: `--remote`, `$DLM_REMOTE` or the settings file. */
  source: string;
  /** Things the user should fix that do not stop the run (a settings file others can read). */
  warnings: string[];
}

/** What {@link resolveRemoteSettings} reads; tests pass their own. */
export interface RemoteSettingsInput {
  /** The `--remote` flag's value, if given. */
  flag?: string;
  /** `--remote-required` on the command line. */
  required?: boolean;
  /** The environment (default: the process's). */
  env?: (name: string) => string | undefined;
  /** The settings file (default: {@link settingsPath}). */
  settingsFile?: string;
}

/** The user's settings file: `$XDG_CONFIG_HOME/deep-lstm-midi/settings.json`, else ~/.config/…. */
export function settingsPath(env: (name: string) => string | undefined = envGet): string {
  const xdg = env("XDG_CONFIG_HOME");
  const base = xdg !== undefined && xdg !== "" ? xdg : `${env("HOME") ?? "."}/.config`;
  return `${base}/deep-lstm-midi/settings.json`;
}

/**
 * The remote to use, or undefined when none is set anywhere (the pipeline then works locally,
 * as before).
 *
 * @throws {UsageError} when `--remote` is empty or carries credentials
 * @throws {ConfigError} naming the settings file when it cannot be read or is malformed
 */
export async function resolveRemoteSettings(
  input: RemoteSettingsInput = {},
): Promise<RemoteSettings | undefined> {
  const env = input.env ?? envGet;
  const path = input.settingsFile ?? settingsPath(env);
  const file = await readSettingsFile(path);
  const where = remoteUrl(input, env, path, file);
  if (where === undefined) {
    if (input.required) {
      throw new UsageError(
        `--remote-required needs a remote: give --remote nats://HOST:PORT, set DLM_REMOTE, or set remote.url in ${path}`,
      );
    }
    return undefined;
  }
  const { url, credentials } = credentialsFor(where.url, file, env);
  return {
    url,
    credentials,
    replicas: file?.replicas ?? 1,
    required: input.required === true || file?.required === true,
    source: where.source,
    warnings: permissionWarnings(path, file),
  };
}

/** The remote's URL and where it came from: `--remote`, else `$DLM_REMOTE`, else the file. */
function remoteUrl(
  input: RemoteSettingsInput,
  env: (name: string) => string | undefined,
  path: string,
  file: FileSettings | undefined,
): { url: string; source: string } | undefined {
  if (input.flag !== undefined) {
    if (input.flag.trim() === "") {
      throw new UsageError("--remote is empty; give it as nats://HOST:PORT (see --help)");
    }
    if (hasUserInfo(input.flag)) {
      // A password on the command line is in the shell's history and every process listing.
      throw new UsageError(
        "--remote carries credentials in its URL; put them in the settings file " +
          `(${path}) or DLM_REMOTE_USER/DLM_REMOTE_PASSWORD/DLM_REMOTE_TOKEN`,
      );
    }
    return { url: input.flag, source: "--remote" };
  }
  if ((env("DLM_REMOTE") ?? "") !== "") return { url: env("DLM_REMOTE")!, source: "$DLM_REMOTE" };
  return file?.url === undefined ? undefined : { url: file.url, source: path };
}

/**
 * The URL without user and password, and the credentials: those the URL carried, replaced by
 * the file's, replaced by `$DLM_REMOTE_*`.
 */
function credentialsFor(
  urlGiven: string,
  file: FileSettings | undefined,
  env: (name: string) => string | undefined,
): { url: string; credentials: RemoteCredentials } {
  const credentials: RemoteCredentials = {};
  // A URL from the environment or the file may carry user:password (as database URLs do); they
  // are moved into the credentials so that the URL itself can be shown anywhere.
  const split = splitUserInfo(urlGiven);
  if (split.user !== undefined) credentials.user = split.user;
  if (split.password !== undefined) credentials.password = split.password;
  for (const [field, value] of Object.entries(file?.credentials ?? {})) {
    if (value !== undefined) (credentials as Record<string, unknown>)[field] = value;
  }
  const fromEnv = {
    user: env("DLM_REMOTE_USER"),
    password: env("DLM_REMOTE_PASSWORD"),
    token: env("DLM_REMOTE_TOKEN"),
  };
  if (fromEnv.token) {
    // A token replaces a user and password rather than being sent beside them.
    delete credentials.user;
    delete credentials.password;
    delete credentials.nkeySeedFile;
    credentials.token = fromEnv.token;
  }
  if (fromEnv.user || fromEnv.password) {
    delete credentials.token;
    delete credentials.nkeySeedFile;
    if (fromEnv.user) credentials.user = fromEnv.user;
    if (fromEnv.password) credentials.password = fromEnv.password;
  }
  return { url: split.url, credentials };
}

/** A warning when the settings file holds a secret that others can read. */
function permissionWarnings(path: string, file: FileSettings | undefined): string[] {
  if (file?.secret === true && file.mode !== undefined && (file.mode & 0o077) !== 0) {
    return [
      `${path} holds a password or token and others can read it (mode ${
        (file.mode & 0o777).toString(8)
      }); run chmod 600 ${path}`,
    ];
  }
  return [];
}

/**
 * The remote as logs and run records may show it: its URLs without any user or password, and
 * how it is reached (`nats://store.lab:4222 (password, TLS)`), never a secret.
 */
export function describeRemote(settings: Pick<RemoteSettings, "url" | "credentials">): string {
  const urls = splitUserInfo(settings.url).url;
  const c = settings.credentials;
  const auth = c.nkeySeedFile !== undefined
    ? "nkey"
    : c.token !== undefined
    ? "token"
    : c.user !== undefined
    ? "password"
    : "no credentials";
  const tls = c.tls !== undefined || /(^|,)\s*tls:\/\//.test(settings.url) ? ", TLS" : "";
  return `${urls} (${auth}${tls})`;
}

/** What the settings file says about the remote. */
interface FileSettings {
  url?: string;
  credentials: RemoteCredentials;
  replicas?: number;
  required?: boolean;
  /** It holds a password or token (so its permissions matter). */
  secret: boolean;
  mode?: number;
}

/** The settings file's remote settings, checked; undefined without a file or a `remote`. */
async function readSettingsFile(path: string): Promise<FileSettings | undefined> {
  const read = await readJson(path);
  if (read === undefined) return undefined;
  const remote = (read.value as { remote?: unknown })?.remote;
  if (remote === undefined) return undefined;
  return parseRemote(remote, path, read.mode);
}

/** The file's JSON and its permissions; undefined when there is no file. */
async function readJson(
  path: string,
): Promise<{ value: unknown; mode: number | undefined } | undefined> {
  let text: string;
  let mode: number | undefined;
  try {
    text = await Deno.readTextFile(path);
    mode = (await Deno.stat(path)).mode ?? undefined;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new ConfigError(`Cannot read the settings file ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  try {
    return { value: JSON.parse(text), mode };
  } catch (e) {
    throw new ConfigError(`${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** The settings `remote` may hold. */
const KNOWN = ["url", "user", "password", "token", "nkeySeedFile", "tls", "replicas", "required"];

/** The file's `remote`, checked: an object of known settings, each of its type. */
function parseRemote(remote: unknown, path: string, mode: number | undefined): FileSettings {
  if (typeof remote !== "object" || remote === null || Array.isArray(remote)) {
    throw new ConfigError(`${path}: remote must be an object, e.g. {"url": "nats://HOST:4222"}`);
  }
  const r = remote as Record<string, unknown>;
  const unknown = Object.keys(r).find((k) => !KNOWN.includes(k));
  if (unknown !== undefined) {
    throw new ConfigError(
      `${path}: remote.${unknown} is not a setting (known: ${KNOWN.join(", ")})`,
    );
  }
  const credentials = credentialsOf(r, path);
  const replicas = r.replicas;
  if (
    replicas !== undefined &&
    (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 1 || replicas > 5)
  ) {
    throw mustBe(
      path,
      "replicas",
      "a whole number from 1 to 5 (1 for one server, 3 for a cluster)",
    );
  }
  if (r.required !== undefined && typeof r.required !== "boolean") {
    throw mustBe(path, "required", "true or false");
  }
  return {
    url: optionalString(r, "url", path),
    credentials: Object.fromEntries(
      Object.entries(credentials).filter(([, v]) => v !== undefined),
    ) as RemoteCredentials,
    replicas: replicas as number | undefined,
    required: r.required as boolean | undefined,
    secret: credentials.password !== undefined || credentials.token !== undefined,
    mode,
  };
}

/** The credentials `remote` gives (undefined where it gives none): at most one secret. */
function credentialsOf(r: Record<string, unknown>, path: string): RemoteCredentials {
  const credentials: RemoteCredentials = {
    user: optionalString(r, "user", path),
    password: optionalString(r, "password", path),
    token: optionalString(r, "token", path),
    nkeySeedFile: optionalString(r, "nkeySeedFile", path),
  };
  const given = ["password", "token", "nkeySeedFile"].filter((k) => r[k] !== undefined);
  if (given.length > 1) {
    throw new ConfigError(
      `${path}: give one of remote.password, remote.token and remote.nkeySeedFile, not ${
        given.join(" and ")
      }`,
    );
  }
  if (r.tls !== undefined) credentials.tls = tlsOf(r.tls, path);
  return credentials;
}

/** `remote.tls`, checked: file paths, and a client certificate with its key or neither. */
function tlsOf(value: unknown, path: string): NonNullable<RemoteCredentials["tls"]> {
  const t = value as Record<string, unknown>;
  if (typeof t !== "object" || t === null || Array.isArray(t)) {
    throw mustBe(path, "tls", "an object with caFile, certFile and keyFile");
  }
  const tls: NonNullable<RemoteCredentials["tls"]> = {};
  for (const key of Object.keys(t)) {
    if (key !== "caFile" && key !== "certFile" && key !== "keyFile") {
      throw new ConfigError(
        `${path}: remote.tls.${key} is not a setting (known: caFile, certFile, keyFile)`,
      );
    }
    if (typeof t[key] !== "string" || t[key] === "") {
      throw mustBe(path, `tls.${key}`, "a file path");
    }
    tls[key] = t[key] as string;
  }
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new ConfigError(`${path}: remote.tls needs both certFile and keyFile, or neither`);
  }
  return tls;
}

/** `remote[key]`: a non-empty string, or undefined when it is not given. */
function optionalString(r: Record<string, unknown>, key: string, path: string): string | undefined {
  const v = r[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v === "") throw mustBe(path, key, "a non-empty string");
  return v;
}

/** The error for a setting of the wrong type. */
function mustBe(path: string, key: string, want: string): ConfigError {
  return new ConfigError(`${path}: remote.${key} must be ${want}`);
}

function hasUserInfo(urls: string): boolean {
  return splitUserInfo(urls).user !== undefined || splitUserInfo(urls).password !== undefined;
}

/**
 * Splits `nats://user:pass@host:port[,…]` into the URLs without user and password, and the first
 * user and password found.
 */
function splitUserInfo(urls: string): { url: string; user?: string; password?: string } {
  let user: string | undefined;
  let password: string | undefined;
  const clean = urls.split(",").map((raw) => {
    const u = raw.trim();
    const m = /^([a-z]+:\/\/)([^@/]*)@(.*)$/i.exec(u);
    if (m === null) return u;
    const [name, ...rest] = m[2]!.split(":");
    if (user === undefined && password === undefined) {
      user = name === "" ? undefined : safeDecode(name!);
      password = rest.length === 0 ? undefined : safeDecode(rest.join(":"));
    }
    return `${m[1]}${m[3]}`;
  });
  return { url: clean.join(","), user, password };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function envGet(name: string): string | undefined {
  return Deno.env.get(name);
}
