/**
 * The stage key: the one place that decides what a stage's cached result depends on.
 *
 * A key is the hash of the stage's name, its code (its module and every project module it
 * imports), the config sections it reads, the digests of its inputs, the runtime facts that
 * change its bytes, (for stages that read the dataset) the dataset's stat listing, and the
 * content digests of the other files it declares it reads (`generate.prime`). Because
 * inputs enter by content, a stage that reruns and writes the same bytes leaves everything after
 * it cached. The runner and `status` both ask this module; nothing else hashes a key.
 *
 * @module
 */
import { prettyJson } from "../formats/json.ts";
import { CodeDigester } from "./code_digest.ts";
import { keyedConfig, type LoadedConfig } from "./config.ts";
import { type Config, defaultConfig } from "../formats/config_schema.ts";
import { listDataset, type StatEntry } from "./dataset.ts";
import { ConfigError } from "./errors.ts";
import { describeNotCapable } from "./fs_errors.ts";
import { type Digest, digestOf, hashJson, type StageKey } from "./hash.ts";
import { FileTooLargeError, NotRegularFileError, readRegularFile } from "./regular_file.ts";
import type { Stage } from "./stage.ts";

/** Everything a stage key is the hash of; kept with the cached entry so `status` can say what changed. */
export interface KeyComponents {
  stage: string;
  /** Digest of the stage module and every project module it imports. */
  code: string;
  /** The config sections the stage reads (options added since the tutorial only when set). */
  config: Record<string, unknown>;
  /** Upstream stage → output name → digest. */
  inputs: Record<string, Record<string, Digest>>;
  /** Runtime facts that change bytes (tfjs version, backend). */
  environment: Record<string, string>;
  /** Digest of the dataset listing (path, size, mtime), for stages that read the dataset. */
  dataset?: Digest;
  /** Path → content digest of each file outside the dataset the stage declared (absent if none). */
  files?: Record<string, Digest>;
}

/** A stage's key, what it was computed from, and the config slice the stage runs with. */
export interface PlannedKey {
  key: StageKey;
  components: KeyComponents;
  /** The config sections the stage declared, every key included: what `run` receives. */
  slice: Config;
}

/** The dataset's stat listing, read once per run. */
export interface DatasetListing {
  listing: StatEntry[];
  digest: Digest;
  /** The listing as stored, so `status` can later name the files that changed. */
  bytes: Uint8Array;
  /** Symlinks in the folder, not followed and so not in the listing (or its digest). */
  symlinks: string[];
}

/** Where a store remembers code digests between runs (see {@link KeyPlanner}). */
export const CODE_CACHE = ["cache", "code-digests.json"] as const;

/** Plans the keys of one config's stages; caches code digests and the dataset listing. */
export class KeyPlanner {
  readonly #code: CodeDigester;
  #dataset?: Promise<DatasetListing>;
  readonly #files = new Map<string, Promise<Digest>>();

  /**
   * @param codeCache where code digests are remembered between runs (the store's
   *   cache/code-digests.json), so an unchanged module is not parsed again
   */
  constructor(readonly root: string, readonly loaded: LoadedConfig, codeCache?: string) {
    this.#code = new CodeDigester(root, { cacheFile: codeCache });
  }

  /** Keeps the code digests learnt for the next run; a cache is never worth a failure. */
  async save(): Promise<void> {
    await this.#code.save().catch(() => {});
  }

  /** Reads (and remembers) the code digest of every stage in `stages`, as its files are now. */
  async readCode(stages: readonly Stage[]): Promise<void> {
    for (const stage of stages) await this.#code.digest(stage.module);
  }

  /** The dataset listing and its digest. */
  dataset(): Promise<DatasetListing> {
    this.#dataset ??= (async () => {
      const symlinks: string[] = [];
      const { dir } = this.loaded.config.dataset;
      const listing = await listDataset(dir, this.loaded.path, symlinks);
      const bytes = prettyJson(listing);
      return { listing, digest: digestOf(bytes), bytes, symlinks };
    })();
    return this.#dataset;
  }

  /** The key of `stage` given the outputs of the stages upstream of it. */
  async plan(
    stage: Stage,
    upstream: Record<string, Record<string, Digest>>,
  ): Promise<PlannedKey> {
    const slice = sliceConfig(this.loaded.config, stage.reads);
    let environment: Record<string, string>;
    try {
      environment = (await stage.environment?.(slice)) ?? {};
    } catch (e) {
      // Resolving the environment reads config keys such as train.backend: a value that cannot
      // be honoured on this machine is a config error.
      throw new ConfigError(`${this.loaded.path}: ${(e as Error).message}`, { cause: e });
    }
    const components: KeyComponents = {
      stage: stage.name,
      code: await this.#code.digest(stage.module),
      config: omitKeys(
        keyedConfig(slice as unknown as Record<string, unknown>),
        stage.settledByEnvironment ?? [],
      ),
      inputs: inputDigests(stage, upstream),
      environment,
      dataset: stage.readsDataset ? (await this.dataset()).digest : undefined,
      files: await this.#fileDigests(stage, slice),
    };
    return { key: hashJson(components) as StageKey, components, slice };
  }

  /** Path → content digest of the files `stage` declares, or undefined when it declares none. */
  async #fileDigests(stage: Stage, slice: Config): Promise<Record<string, Digest> | undefined> {
    const declared = Object.entries(stage.files?.(slice) ?? {});
    if (declared.length === 0) return undefined;
    const out: Record<string, Digest> = {};
    for (const [key, path] of declared) {
      let digest = this.#files.get(path);
      if (digest === undefined) {
        digest = readDeclaredFile(this.loaded.path, key, path).then(digestOf);
        this.#files.set(path, digest);
      }
      out[path] = await digest;
    }
    return out;
  }
}

/**
 * The most bytes read of a file a stage declares: parse.maxFileBytes' default (16 MiB). Its
 * reader reads no parse settings (its key would change), so it keeps the default, as a primer
 * keeps parse.maxQuarters' default.
 */
export const DECLARED_FILE_MAX_BYTES = defaultConfig().parse.maxFileBytes;

/**
 * Reads a file a stage declared; a missing, unreadable or non-regular one (a folder, a FIFO,
 * `/dev/zero`), or one over {@link DECLARED_FILE_MAX_BYTES}, is a {@link ConfigError} naming the
 * config key that points at it. No more than the limit is read, whatever the file's size says.
 */
export async function readDeclaredFile(
  configPath: string,
  key: string,
  path: string,
): Promise<Uint8Array> {
  const limit = DECLARED_FILE_MAX_BYTES;
  try {
    return await readRegularFile(path, limit);
  } catch (e) {
    const fix = `fix the path (relative to the folder you run from) or set ${key} to ""`;
    let why: string;
    if (e instanceof NotRegularFileError) {
      why = `is not a regular file (it is ${e.kind}); give a MIDI file, or set ${key} to ""`;
    } else if (e instanceof FileTooLargeError) {
      why = `${
        e.size === undefined ? "holds more than" : `is ${e.size} bytes, over`
      } the limit of ${limit} bytes (parse.maxFileBytes' default); give a smaller file`;
    } else if (e instanceof Deno.errors.NotFound) {
      why = `does not exist; ${fix}`;
    } else if (e instanceof Deno.errors.NotCapable) {
      why = `cannot be read: ${describeNotCapable(e)}; ${fix}`;
    } else {
      why = `cannot be read (${(e as Error).message}); ${fix}`;
    }
    throw new ConfigError(`${configPath}: ${key} ${path} ${why}`, { cause: e });
  }
}

/**
 * Checks that every file the stages declare can be read, before any of them runs, so a wrong
 * path fails at once instead of after hours of training.
 */
export async function checkDeclaredFiles(
  stages: readonly Stage[],
  loaded: LoadedConfig,
): Promise<void> {
  for (const stage of stages) {
    const slice = sliceConfig(loaded.config, stage.reads);
    for (const [key, path] of Object.entries(stage.files?.(slice) ?? {})) {
      await readDeclaredFile(loaded.path, key, path);
    }
  }
}

/** Upstream stage → output → digest, for the outputs the stage reads (undeclared ones are absent). */
function inputDigests(
  stage: Stage,
  upstream: Record<string, Record<string, Digest>>,
): Record<string, Record<string, Digest>> {
  const out: Record<string, Record<string, Digest>> = {};
  for (const { stage: from, output } of Object.values(stage.inputs)) {
    const digest = upstream[from]?.[output];
    if (digest !== undefined) (out[from] ??= {})[output] = digest;
  }
  return out;
}

/** The config sections a stage declared, and nothing else. */
export function sliceConfig(config: Config, reads: readonly string[]): Config {
  const c = config as unknown as Record<string, unknown>;
  return Object.fromEntries([...reads].sort().map((s) => [s, c[s]])) as unknown as Config;
}

/** The slice without `section.key` entries (their resolved values are in the environment). */
function omitKeys(
  slice: Record<string, unknown>,
  keys: readonly string[],
): Record<string, unknown> {
  if (keys.length === 0) return slice;
  const out: Record<string, unknown> = {};
  for (const [section, body] of Object.entries(slice)) {
    out[section] = Object.fromEntries(
      Object.entries(body as Record<string, unknown>).filter(([k]) =>
        !keys.includes(`${section}.${k}`)
      ),
    );
  }
  return out;
}
