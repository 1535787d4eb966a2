/**
 * Builds a C file into a shared library on demand and caches it per machine, for the native
 * parts of the fast LSTM path (model/fused/lstm_gates.c). The project ships source, not binaries:
 * a binary would have to match the CPU, the OS and the C library of every machine.
 *
 * Building is optional by design, like loading OpenBLAS (model/fused/blas.ts): {@link buildSharedLibrary}
 * returns a failure value (never throws) when there is no compiler, no permission (--allow-run,
 * --allow-read, --allow-write, --allow-env) or the build fails, and callers fall back to JS.
 *
 * The cache is a machine-level build cache, not pipeline data, so it lives outside the store:
 * `$DEEP_LSTM_MIDI_CACHE`, else `$XDG_CACHE_HOME/deep-lstm-midi/native`, else
 * `~/.cache/deep-lstm-midi/native`. A library's file name carries the sha256 of what decides its
 * bytes (source text, compiler flags, OS and CPU architecture), so an edited source or another
 * architecture never loads a stale build. Each build writes a temp file of its own and renames
 * it into place, which is atomic: concurrent processes (parallel test files) may both build,
 * and each loads a complete library.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** Environment variable naming the cache folder, overriding the XDG default. */
export const NATIVE_CACHE_ENV = "DEEP_LSTM_MIDI_CACHE";

/**
 * Flags every build gets. -O3 vectorises the loops; -fno-trapping-math lets the compiler turn
 * the clamps and selects into vector blends (results are unchanged: no code here reads the
 * floating-point exception flags). No -march=native: the source compiles its hot loops for
 * AVX2+FMA and baseline side by side and picks one at run time, so a cached binary is right on
 * every CPU of its architecture, even in a home folder shared between machines.
 */
// -ffp-contract=off: no fused multiply-adds where the source has none, so the AVX2+FMA and the
// plain copies (and gcc and clang) round alike and a checkpoint does not depend on the CPU.
// -z nodelete (GNU and LLVM linkers on Linux): the library starts a helper thread that waits
// inside it, so it must stay loaded when a runtime closes it (deno test closes it after each
// module and opens it again).
export const NATIVE_FLAGS: readonly string[] = [
  "-O3",
  "-ffp-contract=off",
  "-fno-trapping-math",
  "-fPIC",
  "-shared",
  ...(Deno.build.os === "linux" ? ["-Wl,-z,nodelete"] : []),
];

/** Compilers tried in order; the first that runs is used. */
const COMPILERS = ["cc", "gcc", "clang"] as const;

/** A built library, or why there is none (a value, not an exception: callers fall back). */
export type BuildResult =
  | { ok: true; path: string; cached: boolean }
  | { ok: false; reason: string };

/** Options of {@link buildSharedLibrary}. */
export interface BuildOptions {
  /** The C file (a file: URL). */
  source: URL;
  /** Flags besides {@link NATIVE_FLAGS}, e.g. libraries to link. Part of the cache key. */
  flags?: readonly string[];
  /** Cache folder; default as described in the module doc. */
  cacheDir?: string;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env
  }
}

/** The cache folder, or null when no environment variable says where home is. */
export function nativeCacheDir(): string | null {
  const explicit = env(NATIVE_CACHE_ENV);
  if (explicit) return explicit;
  const xdg = env("XDG_CACHE_HOME");
  const home = env("HOME") ?? env("USERPROFILE");
  const base = xdg ?? (home ? `${home}/.cache` : undefined);
  return base ? `${base}/deep-lstm-midi/native` : null;
}

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "";
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // already gone, or never written
  }
}

/**
 * Compiles `source` with the first C compiler found into a shared library in the cache, unless
 * the same build is already there. Synchronous, so a layer can decide on its first call.
 * Never throws: every failure comes back as `{ ok: false, reason }`.
 */
export function buildSharedLibrary(options: BuildOptions): BuildResult {
  try {
    return build(options);
  } catch (e) {
    return { ok: false, reason: message(e) };
  }
}

function build(options: BuildOptions): BuildResult {
  let text: string;
  try {
    text = Deno.readTextFileSync(options.source);
  } catch (e) {
    return { ok: false, reason: `cannot read ${options.source.pathname}: ${message(e)}` };
  }
  const dir = options.cacheDir ?? nativeCacheDir();
  if (dir === null) return { ok: false, reason: "no cache folder ($HOME is not set)" };
  const flags = [...NATIVE_FLAGS, ...(options.flags ?? [])];
  const key = createHash("sha256")
    .update(JSON.stringify({ source: text, flags, os: Deno.build.os, arch: Deno.build.arch }))
    .digest("hex");
  const stem = options.source.pathname.split("/").pop()!.replace(/\.c$/, "");
  const path = `${dir}/lib${stem}-${Deno.build.arch}-${key.slice(0, 24)}.so`;
  if (exists(path)) return { ok: true, path, cached: true };

  try {
    Deno.mkdirSync(dir, { recursive: true });
  } catch (e) {
    return { ok: false, reason: `cannot create ${dir}: ${message(e)}` };
  }
  // Unique per process and attempt: two builders never write the same temp file.
  const tmp = `${path}.${Deno.pid}-${crypto.randomUUID().slice(0, 8)}.tmp`;
  // The compiler reads the exact text that was hashed (the source may change meanwhile).
  const tmpSource = `${tmp}.c`;
  try {
    Deno.writeTextFileSync(tmpSource, text);
    const reasons: string[] = [];
    for (const cc of COMPILERS) {
      let out: Deno.CommandOutput;
      try {
        out = new Deno.Command(cc, {
          args: [...flags, "-o", tmp, tmpSource, "-lm", "-ldl", "-lpthread"],
          stdout: "null",
          stderr: "piped",
        }).outputSync();
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) {
          reasons.push(`${cc}: not found`);
          continue;
        }
        return { ok: false, reason: `cannot run ${cc}: ${message(e)}` };
      }
      if (!out.success) {
        const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(0, 3);
        return { ok: false, reason: `${cc} failed (exit ${out.code}): ${err.join(" ")}` };
      }
      Deno.renameSync(tmp, path);
      return { ok: true, path, cached: false };
    }
    return { ok: false, reason: `no C compiler found (${reasons.join(", ")})` };
  } finally {
    removeQuietly(tmpSource);
    removeQuietly(tmp);
  }
}
