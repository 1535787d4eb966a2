/**
 * Reads a YAML config, validates every key against {@link SCHEMA}, merges the defaults and
 * applies `--set key=value` overrides. Nothing runs until the whole config is valid.
 *
 * @module
 */
import YAML from "yaml";
import { type Config, defaultConfig, type Field, SCHEMA } from "../formats/config_schema.ts";
import { ConfigError } from "./errors.ts";
import { type ConfigHash, hashJson } from "./hash.ts";
import { fileKind } from "./regular_file.ts";

/** A validated config and where it came from. */
export interface LoadedConfig {
  /** The resolved config: defaults merged, overrides applied. */
  config: Config;
  /** The file it was read from, as found. */
  path: string;
  /** Hash of the resolved config: the id of its runs. */
  hash: ConfigHash;
}

/** Finds a config file: the path as given, else the same name under configs/. */
export async function findConfigFile(name: string, root = "."): Promise<string> {
  const candidates = [name, `${root}/configs/${name}`];
  if (!/\.ya?ml$/.test(name)) candidates.push(`${root}/configs/${name}.yaml`);
  // The first candidate that is there but not a file, to name if no candidate is a file. stat,
  // not open: opening a FIFO would wait for a writer.
  let notFile: { path: string; info: Deno.FileInfo } | undefined;
  for (const candidate of candidates) {
    try {
      const info = await Deno.stat(candidate);
      if (info.isFile) return candidate;
      notFile ??= { path: candidate, info };
    } catch { /* try the next one */ }
  }
  if (notFile !== undefined) {
    const { path, info } = notFile;
    throw new ConfigError(
      info.isDirectory
        ? `${path} is a folder, not a config file; give a YAML file (try --config quick.yaml)`
        : `${path} is not a regular file (it is ${
          fileKind(info)
        }); give a YAML config file (try --config quick.yaml)`,
    );
  }
  throw new ConfigError(
    `Cannot find config ${name}: no such file here or in configs/ (try --config quick.yaml)`,
  );
}

/** Reads, validates and resolves a config file, then applies `key=value` overrides. */
export async function loadConfig(name: string, overrides: string[] = []): Promise<LoadedConfig> {
  const path = await findConfigFile(name);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new ConfigError(`Cannot read config ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (e) {
    const first = (e as Error).message.split("\n")[0];
    throw new ConfigError(`Cannot parse config ${path}: ${first}`);
  }
  // An empty file would otherwise mean every default: the whole tutorial recipe, hours long.
  if (raw === null || raw === undefined || (isPlainObject(raw) && Object.keys(raw).length === 0)) {
    throw new ConfigError(
      `${path} sets nothing; write the sections you mean (see configs/quick.yaml), or run configs/deep-lstm.yaml for the tutorial's full recipe`,
    );
  }
  const config = resolveConfig(raw, path);
  for (const override of overrides) applyOverride(config, override, path);
  return { config, path, hash: configHash(config) };
}

/**
 * The hash of a resolved config (sorted-key JSON, so key order in the file does not matter).
 * Options added since the tutorial count only when set away from their defaults, so a run keeps
 * its name when a later version adds an option.
 */
export function configHash(config: Config): ConfigHash {
  return hashJson(keyedConfig(config as unknown as Record<string, unknown>)).slice(
    0,
    16,
  ) as ConfigHash;
}

/**
 * The config (or a slice of its sections) as it enters a hash: every key, except options added
 * since the tutorial ({@link Field.added}) that are left at their default.
 */
export function keyedConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [section, body] of Object.entries(config)) {
    const fields = schemaFields(section);
    if (fields === undefined || !isPlainObject(body)) {
      out[section] = body;
      continue;
    }
    const kept = Object.entries(body).filter(([key, value]) => {
      const field = Object.hasOwn(fields, key) ? fields[key] : undefined;
      return !(field?.added && value === field.default);
    });
    // A section made only of added options (validation) is absent while they are all at default.
    if (kept.length === 0 && Object.values(fields).every((f) => f.added)) continue;
    out[section] = Object.fromEntries(kept);
  }
  return out;
}

/** Validates a parsed YAML value and merges it over the defaults. */
export function resolveConfig(raw: unknown, source: string): Config {
  if (!isPlainObject(raw)) {
    throw new ConfigError(
      `${source}: the config must be a mapping of sections (dataset, sample, …)`,
    );
  }
  const config = defaultConfig() as unknown as Record<string, Record<string, unknown>>;
  const sections = Object.keys(SCHEMA);
  for (const [section, body] of Object.entries(raw)) {
    const fields = schemaFields(section);
    if (fields === undefined) {
      throw new ConfigError(`${source}: unknown section ${section}${suggest(section, sections)}`);
    }
    if (body === null) continue;
    if (!isPlainObject(body)) {
      throw new ConfigError(
        `${source}: ${section} must be a mapping of keys (found ${describe(body)})`,
      );
    }
    for (const [key, value] of Object.entries(body)) {
      const field = Object.hasOwn(fields, key) ? fields[key] : undefined;
      if (field === undefined) {
        const valid = Object.keys(fields).map((k) => `${section}.${k}`);
        const all = allKeys();
        throw new ConfigError(
          `${source}: unknown key ${section}.${key}${
            suggest(`${section}.${key}`, [...valid, ...all])
          }`,
        );
      }
      config[section]![key] = checkValue(`${section}.${key}`, field, value, source);
    }
  }
  return config as unknown as Config;
}

/** Applies one `section.key=value` override; the value is read as a YAML scalar. */
export function applyOverride(config: Config, override: string, source = "--set"): void {
  const eq = override.indexOf("=");
  if (eq < 1) {
    throw new ConfigError(`--set ${override}: write it as section.key=value (e.g. train.epochs=2)`);
  }
  const name = override.slice(0, eq).trim();
  const [section = "", key = "", ...rest] = name.split(".");
  const fields = schemaFields(section);
  const field = fields !== undefined && Object.hasOwn(fields, key) ? fields[key] : undefined;
  if (field === undefined || rest.length > 0) {
    throw new ConfigError(`--set: unknown key ${name}${suggest(name, allKeys())}`);
  }
  const value = parseScalar(override.slice(eq + 1).trim());
  (config as unknown as Record<string, Record<string, unknown>>)[section]![key] = checkValue(
    name,
    field,
    value,
    source === "--set" ? "--set" : `${source} (--set)`,
  );
}

/** Every valid `section.key`. */
export function allKeys(): string[] {
  return Object.entries(SCHEMA).flatMap(([s, fields]) =>
    Object.keys(fields).map((k) => `${s}.${k}`)
  );
}

function checkValue(name: string, field: Field, value: unknown, source: string): unknown {
  const fail = (what: string) =>
    new ConfigError(`${source}: ${name} must be ${what} (found ${describe(value)})`);
  switch (field.kind) {
    case "int":
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw fail(field.kind === "int" ? "an integer" : "a number");
      }
      if (field.kind === "int" && !Number.isInteger(value)) throw fail("an integer");
      const range = field.max === undefined
        ? `at least ${field.min}`
        : `between ${field.min} and ${field.max}`;
      if (value < field.min || (field.max !== undefined && value > field.max)) {
        throw fail(`${field.kind === "int" ? "an integer" : "a number"} ${range}`);
      }
      return value;
    }
    case "string":
      // `prime:` with nothing after it, or `--set generate.prime=`, means none too.
      if (value === null && field.allowEmpty) return "";
      if (typeof value !== "string" || (value === "" && !field.allowEmpty)) {
        throw fail(field.allowEmpty ? 'a string ("" for none)' : "a non-empty string");
      }
      return value;
    case "bool":
      if (typeof value !== "boolean") throw fail("true or false");
      return value;
    case "enum":
      if (typeof value !== "string" || !field.values.includes(value)) {
        throw fail(`one of ${field.values.join(", ")}`);
      }
      return value;
  }
}

/** A command-line value read as the same text would be in the YAML file. */
function parseScalar(text: string): unknown {
  try {
    return YAML.parse(text);
  } catch {
    return text;
  }
}

/** A section's fields, looked up as the schema's own keys only (`constructor` is no section). */
function schemaFields(section: string): Record<string, Field> | undefined {
  const schema = SCHEMA as Record<string, Record<string, Field>>;
  return Object.hasOwn(schema, section) ? schema[section] : undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return "a list";
  if (v !== null && typeof v === "object") return "a mapping";
  return String(v);
}

/** ` (did you mean X?)` naming the closest candidate by edit distance. */
export function suggest(name: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best === undefined ? "" : ` (did you mean ${best}?)`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        prev[j]! + 1,
        row[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length]!;
}
