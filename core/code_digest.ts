/**
 * The digest of a stage's code: its module plus every project module it imports, followed
 * transitively, and the versions of the npm packages those modules import (from deno.json's
 * import map). Editing stages/train.ts or model/build_model.ts changes train's key; editing
 * stages/parse.ts does not.
 *
 * @module
 */
import { sha256Hex } from "./hash.ts";

// Static imports and re-exports, and dynamic import() calls. `import type` lines are left
// out: types are erased, so they cannot change what a stage writes (editing the config schema
// must not rerun every stage).
const IMPORT_RE =
  /(?:^|\n)\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/** Computes code digests; caches file reads for the life of one run. */
export class CodeDigester {
  #files = new Map<string, Promise<string>>();
  #importMap: Promise<Record<string, string>>;

  constructor(readonly root: string) {
    this.#importMap = Deno.readTextFile(`${root}/deno.json`)
      .then((t) => (JSON.parse(t).imports ?? {}) as Record<string, string>)
      .catch(() => ({}));
  }

  /**
   * The digest of `module` (a `file:` URL such as a stage's `import.meta.url`, or a path relative
   * to the project root) and everything it imports.
   */
  async digest(module: string): Promise<string> {
    const importMap = await this.#importMap;
    const seen = new Map<string, string>(); // path -> file text hash
    const packages = new Set<string>();
    const queue = [normalize(this.#relative(module))];
    while (queue.length > 0) {
      const path = queue.pop()!;
      if (seen.has(path)) continue;
      const text = await this.#read(path);
      seen.set(path, sha256Hex(text));
      for (const m of text.matchAll(IMPORT_RE)) {
        if (m[1] !== undefined) continue; // type-only
        const spec = m[2] ?? m[3]!;
        if (spec.startsWith(".")) {
          queue.push(normalize(`${path.slice(0, path.lastIndexOf("/") + 1)}${spec}`));
        } else {
          const base = Object.keys(importMap).find((k) => spec === k || spec.startsWith(`${k}/`));
          packages.add(base === undefined ? spec : `${base}=${importMap[base]}`);
        }
      }
    }
    // Code-unit order, not localeCompare: a key must not depend on the machine's locale.
    const files = [...seen].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([p, h]) =>
      `${p}:${h}`
    );
    return sha256Hex([...files, ...[...packages].sort()].join("\n"));
  }

  /** A module's path relative to the project root. */
  #relative(module: string): string {
    if (!module.startsWith("file:")) return module;
    const path = decodeURIComponent(new URL(module).pathname);
    if (!path.startsWith(`${this.root}/`)) {
      throw new Error(`${path} is outside the project root ${this.root}`);
    }
    return path.slice(this.root.length + 1);
  }

  #read(path: string): Promise<string> {
    let text = this.#files.get(path);
    if (text === undefined) {
      // A path that is not there (an import written in a comment, say) hashes as missing
      // rather than stopping the run; a real missing import fails when the stage loads.
      text = Deno.readTextFile(`${this.root}/${path}`).catch((e) => {
        if (e instanceof Deno.errors.NotFound) return `missing:${path}`;
        throw e;
      });
      this.#files.set(path, text);
    }
    return text;
  }
}

/** Resolves `.` and `..` segments of a relative path. */
function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "." || part === "") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return out.join("/");
}
