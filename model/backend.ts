/**
 * Picks the tfjs compute backend for training and generation.
 *
 * `auto` takes the fastest backend that loads: the native TensorFlow bindings
 * (`@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node`) when the user has installed them,
 * else WebAssembly (`@tensorflow/tfjs-backend-wasm`, SIMD build), else the pure-JS `cpu` backend.
 * The native packages are optional: they are not in deno.json, because their install script
 * downloads libtensorflow, which fails on machines without that network access. They are
 * imported through computed specifiers so that `deno check` never needs them.
 *
 * The chosen backend is part of the train and generate stage keys (DECISIONS.md §9), so the
 * name returned here distinguishes `tensorflow-gpu` from `tensorflow` even though both register
 * under tfjs's one backend name `tensorflow`.
 *
 * Permissions: `--allow-read` (the wasm binary is read from node_modules, and installed native
 * packages are looked up there), `--allow-env` and `--allow-sys` (tfjs probes its environment),
 * and `--allow-ffi` only when a native package is installed (it is a Node addon).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { createRequire } from "node:module";
import { ModelError } from "./errors.ts";

/** The backends a config can ask for (`train.backend`). */
export type BackendChoice = "auto" | "tensorflow-gpu" | "tensorflow" | "wasm" | "cpu";

/** The backend in use and a sentence saying why it was chosen. */
export interface BackendSelection {
  /** `tensorflow-gpu`, `tensorflow`, `wasm` or `cpu`. */
  backend: string;
  /** Why this one, e.g. "auto: tfjs-node is not installed; wasm loaded". */
  reason: string;
}

/** The native packages, by the backend name we report. */
const NATIVE_PACKAGES = {
  "tensorflow-gpu": "@tensorflow/tfjs-node-gpu",
  "tensorflow": "@tensorflow/tfjs-node",
} as const;

type Attempt = { ok: true } | { ok: false; why: string };

/** First line of an error's message, for one-sentence reasons. */
function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split("\n")[0] ?? "").trim().replace(/[.\s]+$/, "");
}

/**
 * Loads a native tfjs-node package and switches to its `tensorflow` backend.
 *
 * It first asks Node-style resolution whether the package is in node_modules. Only then does it
 * import it: a dynamic `npm:` import of a package that is not installed would make Deno download
 * it (and its failing native addon) and rewrite deno.lock on every `auto` run.
 */
async function tryNative(pkg: string): Promise<Attempt> {
  try {
    createRequire(import.meta.url).resolve(pkg);
  } catch {
    return { ok: false, why: `${pkg} is not installed` };
  }
  try {
    const specifier = ["npm:", pkg].join(""); // computed, so deno check does not resolve it
    await import(specifier);
  } catch (error) {
    return { ok: false, why: `${pkg} could not load (${firstLine(error)})` };
  }
  return await trySetBackend("tensorflow", pkg);
}

/** Loads the WebAssembly backend; its node build reads the .wasm file beside its own JS. */
async function tryWasm(): Promise<Attempt> {
  try {
    await import("@tensorflow/tfjs-backend-wasm");
  } catch (error) {
    return { ok: false, why: `@tensorflow/tfjs-backend-wasm could not load (${firstLine(error)})` };
  }
  return await trySetBackend("wasm", "@tensorflow/tfjs-backend-wasm");
}

/** Switches tfjs to a registered backend; tfjs reports failure as `false`, not an exception. */
async function trySetBackend(name: string, pkg: string): Promise<Attempt> {
  try {
    if (await tf.setBackend(name)) {
      await tf.ready();
      return { ok: true };
    }
    return { ok: false, why: `${pkg} could not initialise its ${name} backend` };
  } catch (error) {
    return { ok: false, why: `${pkg} could not initialise (${firstLine(error)})` };
  }
}

/**
 * Selects and activates a tfjs backend.
 *
 * @param choice `auto`, or one backend to use (an error if it cannot load).
 * @returns The backend now active and why it was chosen.
 * @throws {ModelError} When an explicitly chosen backend cannot load.
 */
export async function selectBackend(choice: BackendChoice): Promise<BackendSelection> {
  if (choice === "auto") {
    const skipped: string[] = [];
    for (const backend of ["tensorflow-gpu", "tensorflow"] as const) {
      const attempt = await tryNative(NATIVE_PACKAGES[backend]);
      if (attempt.ok) {
        return { backend, reason: `auto: ${skippedText(skipped)}${backend} loaded` };
      }
      skipped.push(attempt.why);
    }
    const wasm = await tryWasm();
    if (wasm.ok) return { backend: "wasm", reason: `auto: ${skippedText(skipped)}wasm loaded` };
    skipped.push(wasm.why);
    await trySetBackend("cpu", "@tensorflow/tfjs");
    return { backend: "cpu", reason: `auto: ${skippedText(skipped)}using the pure-JS cpu backend` };
  }
  if (choice === "cpu") {
    const cpu = await trySetBackend("cpu", "@tensorflow/tfjs");
    if (!cpu.ok) throw new ModelError(`train.backend: cpu could not start (${cpu.why})`);
    return { backend: "cpu", reason: "train.backend is cpu" };
  }
  const attempt = choice === "wasm" ? await tryWasm() : await tryNative(NATIVE_PACKAGES[choice]);
  if (!attempt.ok) {
    const others = (["auto", "wasm", "cpu"] as const).filter((c) => c !== choice);
    throw new ModelError(
      `train.backend: ${choice} needs ${packageOf(choice)}, but ${attempt.why}; ` +
        `use ${others.slice(0, -1).join(", ")} or ${others.at(-1)}`,
    );
  }
  return { backend: choice, reason: `train.backend is ${choice}` };
}

function packageOf(choice: "tensorflow-gpu" | "tensorflow" | "wasm"): string {
  return choice === "wasm" ? "@tensorflow/tfjs-backend-wasm" : NATIVE_PACKAGES[choice];
}

function skippedText(skipped: string[]): string {
  return skipped.length === 0 ? "" : `${skipped.join("; ")}; `;
}
