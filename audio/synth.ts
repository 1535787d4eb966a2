/**
 * The runner's side of `StageContext.synthesizer` (core/stage.ts): MIDI to FLAC with fluidsynth and a
 * General MIDI soundfont (Debian: `apt-get install fluidsynth fluid-soundfont-gm`).
 *
 * `FLUIDSYNTH` names the program (default: `fluidsynth` on the PATH) and `SOUNDFONT` the
 * soundfont (default: the first of {@link SOUNDFONT_CANDIDATES} that exists). What is found is
 * probed once per process: the program's version, and the soundfont's sha256 (remembered by path,
 * size and mtime in the user's cache folder, so a 140 MiB soundfont is hashed once, not on every
 * run). Where either is missing, {@link Synthesizer.describe} says so in one sentence, and the
 * audio stage goes on without audio.
 *
 * The audio is byte for byte the same on every run of the same fluidsynth, libsndfile and
 * soundfont: fluidsynth's fast render is deterministic (reverb and chorus included), FLAC carries
 * no date, and `-f /dev/null` keeps the user's `~/.fluidsynth` from changing the sound.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { type SynthDescription, SynthesisError, type Synthesizer } from "../core/stage.ts";

/** Environment variable naming the fluidsynth program. */
export const FLUIDSYNTH_ENV = "FLUIDSYNTH";
/** Environment variable naming the soundfont (.sf2 or .sf3). */
export const SOUNDFONT_ENV = "SOUNDFONT";

/** Where Debian/Ubuntu, Fedora and Arch put a General MIDI soundfont, in the order looked for. */
export const SOUNDFONT_CANDIDATES: readonly string[] = [
  "/usr/share/sounds/sf2/default-GM.sf2",
  "/usr/share/sounds/sf2/FluidR3_GM.sf2",
  "/usr/share/soundfonts/default.sf2",
  "/usr/share/soundfonts/FluidR3_GM.sf2",
  "/usr/share/sounds/sf3/default-GM.sf3",
];

/**
 * fluidsynth's options that decide the audio's bytes: 16-bit FLAC (lossless, about a third of
 * WAV) at 44.1 kHz, gain 1 (fluidsynth's default 0.2 peaks near −24 dBFS on generated pieces;
 * 1 peaks near −7 dBFS, and seven-note chords struck every half beat still do not clip).
 * Reverb and chorus stay on: they do not make the output vary.
 */
export const RENDER_OPTIONS: readonly string[] = [
  "-T",
  "flac",
  "-O",
  "s16",
  "-r",
  "44100",
  "-g",
  "1",
];

const INSTALL = "Debian: apt-get install fluidsynth fluid-soundfont-gm";

export { SynthesisError };

/** Where fluidsynth and the soundfont are, and where soundfont digests are remembered. */
export interface FluidsynthOptions {
  /** The program (a path, or a name looked up on the PATH); default `fluidsynth`. */
  binary?: string;
  /** The soundfont; default the first of {@link SOUNDFONT_CANDIDATES} that exists. */
  soundfont?: string;
  /**
   * Folder for `soundfont-digests.json`; default `$XDG_CACHE_HOME/deep-lstm-midi` or
   * `~/.cache/deep-lstm-midi`; null to hash the soundfont every time.
   */
  cacheDir?: string | null;
}

/** A synthesizer running fluidsynth with `options`; nothing is probed until it is asked. */
export function fluidsynth(options: FluidsynthOptions = {}): Synthesizer {
  let described: Promise<SynthDescription> | undefined;
  const describe = () => (described ??= probe(options));
  return {
    describe,
    async render(midi, signal) {
      const d = await describe();
      if (!d.available) throw new SynthesisError(d.reason);
      return await renderFlac(options.binary ?? "fluidsynth", d.soundfont, midi, signal);
    },
  };
}

/**
 * The options `FLUIDSYNTH` and `SOUNDFONT` give (an empty value counts as unset).
 * @param env the environment to read; default the process's
 */
export function optionsFromEnv(env: (name: string) => string | undefined = readEnv) {
  const options: FluidsynthOptions = {};
  const binary = env(FLUIDSYNTH_ENV);
  const soundfont = env(SOUNDFONT_ENV);
  if (binary) options.binary = binary;
  if (soundfont) options.soundfont = soundfont;
  return options;
}

let system: Synthesizer | undefined;

/**
 * The synthesizer of this process, as `FLUIDSYNTH` and `SOUNDFONT` say (read on the first call):
 * the one the runner gives stages, and the one the audio stage's key names.
 */
export function systemSynthesizer(): Synthesizer {
  return (system ??= fluidsynth(optionsFromEnv()));
}

async function probe(options: FluidsynthOptions): Promise<SynthDescription> {
  const binary = options.binary ?? "fluidsynth";
  const named = options.binary === undefined ? "fluidsynth" : `${FLUIDSYNTH_ENV}=${binary}`;
  let version: string | undefined;
  try {
    const out = await new Deno.Command(binary, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    version = /runtime version (\S+)/.exec(said)?.[1] ??
      /FluidSynth.*?version (\S+)/i.exec(said)?.[1];
    if (version === undefined) {
      return unavailable(
        `${named} --version names no FluidSynth version (exit status ${out.code})`,
      );
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return unavailable(
        options.binary === undefined
          ? `fluidsynth is not installed (${INSTALL})`
          : `${named} was not found (${INSTALL}, or point ${FLUIDSYNTH_ENV} at fluidsynth)`,
      );
    }
    return unavailable(`${named} cannot be run: ${firstLine(e)}`);
  }
  const soundfont = await findSoundfont(options.soundfont);
  if ("reason" in soundfont) return unavailable(soundfont.reason);
  let sha256: string;
  try {
    sha256 = await soundfontDigest(soundfont.path, options.cacheDir);
  } catch (e) {
    return unavailable(`the soundfont ${soundfont.path} cannot be read: ${firstLine(e)}`);
  }
  return {
    available: true,
    program: `fluidsynth ${version}`,
    soundfont: soundfont.path,
    soundfontSha256: sha256,
    settings: RENDER_OPTIONS.join(" "),
  };
}

function unavailable(reason: string): SynthDescription {
  return { available: false, reason };
}

/** The soundfont to use (its real path), or why there is none. */
async function findSoundfont(explicit?: string): Promise<{ path: string } | { reason: string }> {
  if (explicit !== undefined) {
    const problem = await soundfontProblem(explicit);
    if (problem === undefined) return { path: await Deno.realPath(explicit) };
    return { reason: `${SOUNDFONT_ENV}=${explicit}: ${problem}` };
  }
  for (const path of SOUNDFONT_CANDIDATES) {
    if (await soundfontProblem(path) === undefined) return { path: await Deno.realPath(path) };
  }
  return {
    reason: `no General MIDI soundfont in ${
      SOUNDFONT_CANDIDATES.join(", ")
    } (Debian: apt-get install fluid-soundfont-gm, or set ${SOUNDFONT_ENV}=/path/to/soundfont.sf2)`,
  };
}

/** Why `path` is not a SoundFont file (RIFF, form type `sfbk`), or undefined when it is one. */
async function soundfontProblem(path: string): Promise<string | undefined> {
  let head: Uint8Array;
  try {
    const file = await Deno.open(path);
    try {
      head = new Uint8Array(12);
      let n = 0;
      while (n < head.length) {
        const got = await file.read(head.subarray(n));
        if (got === null) break;
        n += got;
      }
      head = head.subarray(0, n);
    } finally {
      file.close();
    }
  } catch (e) {
    return e instanceof Deno.errors.NotFound ? "no such file" : `cannot be read (${firstLine(e)})`;
  }
  const ascii = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
  return head.length === 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "sfbk"
    ? undefined
    : "not a SoundFont (.sf2/.sf3) file";
}

interface DigestEntry {
  size: number;
  mtime: number;
  sha256: string;
}

/**
 * The sha256 of the soundfont at `path` (a real path), remembered in `cacheDir` by path, size and
 * mtime, as the dataset listing identifies files; a cache that cannot be read or written is
 * passed over.
 */
export async function soundfontDigest(
  path: string,
  cacheDir: string | null = defaultCacheDir(),
): Promise<string> {
  const info = await Deno.stat(path);
  const stamp = { size: info.size, mtime: info.mtime?.getTime() ?? 0 };
  const cacheFile = cacheDir === null ? undefined : `${cacheDir}/soundfont-digests.json`;
  let cache: Record<string, DigestEntry> = {};
  if (cacheFile !== undefined) {
    try {
      const read = JSON.parse(await Deno.readTextFile(cacheFile));
      if (read !== null && typeof read === "object" && !Array.isArray(read)) cache = read;
    } catch {
      // no cache yet, or an unreadable one: hash again
    }
  }
  const known = cache[path];
  if (
    known !== undefined && known.size === stamp.size && known.mtime === stamp.mtime &&
    typeof known.sha256 === "string" && /^[0-9a-f]{64}$/.test(known.sha256)
  ) {
    return known.sha256;
  }
  const sha256 = await hashFile(path);
  if (cacheFile !== undefined) {
    cache[path] = { ...stamp, sha256 };
    const tmp = `${cacheFile}.tmp-${crypto.randomUUID()}`;
    try {
      await Deno.mkdir(cacheDir!, { recursive: true });
      await Deno.writeTextFile(tmp, JSON.stringify(cache, null, 2) + "\n");
      await Deno.rename(tmp, cacheFile);
    } catch {
      await Deno.remove(tmp).catch(() => {});
    }
  }
  return sha256;
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path);
  try {
    const buffer = new Uint8Array(1 << 20);
    for (let n = await file.read(buffer); n !== null; n = await file.read(buffer)) {
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    file.close();
  }
  return hash.digest("hex");
}

/** `$XDG_CACHE_HOME/deep-lstm-midi`, else `~/.cache/deep-lstm-midi`; null without either. */
function defaultCacheDir(): string | null {
  const xdg = readEnv("XDG_CACHE_HOME");
  const home = readEnv("HOME");
  const base = xdg ?? (home ? `${home}/.cache` : undefined);
  return base ? `${base}/deep-lstm-midi` : null;
}

/**
 * Runs `fluidsynth -n -i -q -f /dev/null -F out.flac <RENDER_OPTIONS> SOUNDFONT in.mid` in a
 * temp folder of its own, which it removes. fluidsynth exits 0 on some failures (a file it cannot
 * open), so its error lines and a missing or non-FLAC output count as failures too.
 */
async function renderFlac(
  binary: string,
  soundfont: string,
  midi: Uint8Array,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "deep-lstm-midi-synth-" });
  try {
    await Deno.writeFile(`${dir}/in.mid`, midi);
    const out = await new Deno.Command(binary, {
      args: [
        "-n", // no MIDI input driver
        "-i", // no shell
        "-q",
        "-f", // the commands of this file instead of ~/.fluidsynth
        "/dev/null",
        "-F", // render to a file as fast as possible, no audio driver
        `${dir}/out.flac`,
        ...RENDER_OPTIONS,
        soundfont,
        `${dir}/in.mid`,
      ],
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal,
    }).output();
    const said = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    const error = said.split("\n").find((l) => /error|not a SoundFont or MIDI file/i.test(l));
    if (!out.success || error !== undefined) {
      throw new SynthesisError(
        `fluidsynth failed (exit status ${out.code})${error ? `: ${error.trim()}` : ""}`,
      );
    }
    let flac: Uint8Array;
    try {
      flac = await Deno.readFile(`${dir}/out.flac`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      throw new SynthesisError(
        `fluidsynth wrote no audio${said.trim() ? `: ${firstLine(said)}` : ""}`,
      );
    }
    if (String.fromCharCode(...flac.subarray(0, 4)) !== "fLaC") {
      throw new SynthesisError(`fluidsynth wrote ${flac.length} bytes that are not FLAC`);
    }
    return flac;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env
  }
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).trim().split("\n")[0] ?? "";
}
