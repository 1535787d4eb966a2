/**
 * The digest of a stage's code: what its module, and every project module it imports (followed
 * transitively), mean, plus the versions of the npm packages those modules import (from
 * deno.json's import map). Editing stages/train.ts or model/build_model.ts changes train's key;
 * editing stages/parse.ts does not, and neither does a comment, a blank line or reformatting
 * anywhere: each module is parsed with TypeScript's own parser and its syntax tree is hashed, not
 * its text (see {@link CODE_DIGEST_SCHEME}).
 *
 * Parsing needs the `typescript` package, which takes 0.1–1 s to load; a cache file
 * ({@link CodeDigesterOptions.cacheFile}) remembers each file's digest by the sha256 of its text,
 * so a run whose modules are all unchanged never loads it.
 *
 * @module
 */
import { writeFileAtomic } from "./atomic_file.ts";
import type TS from "typescript";
import { sha256Hex } from "./hash.ts";

/**
 * Names the way code is hashed; part of every digest (and of the cache file), so a change of
 * scheme changes every key once, on purpose, instead of silently.
 *
 * Each module is parsed (TypeScript 5.9, by extension: .ts, .tsx, .js, .json…) and its syntax
 * tree written out: per node its kind, per token its text (a string literal's value, so quote
 * style does not count). Comments, JSDoc, whitespace and line breaks are not in the tree, and
 * what a formatter adds or drops without changing the tree is left out too (semicolons, trailing
 * commas, braces around a lone `if` or loop body; see `syntaxParts`). So are types, which Deno
 * erases before the code runs: interfaces, type aliases, type-only imports and exports, `implements`
 * clauses, and the type in an annotation, an `as`, a `satisfies`, a type argument or parameter.
 * (An `enum` or a constructor's parameter property makes code, and stays.) A file the parser
 * reports errors in is hashed by its text.
 */
export const CODE_DIGEST_SCHEME = "code-digest v3: typescript syntax tree without types";

/** Options of {@link CodeDigester}. */
export interface CodeDigesterOptions {
  /**
   * A JSON file remembering each file's digest and imports by the sha256 of its text (and the
   * scheme and parser version), read at the first digest and written by
   * {@link CodeDigester.save}. Missing, unreadable or stale, it is ignored: it only saves time.
   */
  cacheFile?: string;
}

/** What one file contributes: the digest of its syntax tree and the imports it follows. */
interface FileMeaning {
  digest: string;
  /** Module specifiers as written (static and re-exports, and literal dynamic imports). */
  imports: string[];
}

interface CacheFile {
  scheme: string;
  parser: string;
  files: Record<string, FileMeaning>;
}

/** The most files a cache file keeps (those this digester used first). */
const MAX_CACHE_ENTRIES = 2000;

/** The `typescript` package this module loads, as `typescript@<version>` when it can tell. */
const PARSER = (() => {
  try {
    const url = import.meta.resolve("typescript");
    return url.match(/typescript@[^/]+/)?.[0] ?? url;
  } catch {
    return "typescript";
  }
})();

/**
 * Computes code digests; caches file reads and parses for the life of one digester (one run),
 * and across runs through {@link CodeDigesterOptions.cacheFile}.
 */
export class CodeDigester {
  readonly #meanings = new Map<string, Promise<FileMeaning>>(); // path -> meaning
  readonly #importMap: Promise<Record<string, string>>;
  readonly #cacheFile?: string;
  #cache?: Promise<Map<string, FileMeaning>>; // cache key -> meaning, loaded at first use
  readonly #used = new Set<string>(); // cache keys looked up or added by this digester
  #dirty = false;
  #ts?: Promise<typeof TS>;

  constructor(readonly root: string, options: CodeDigesterOptions = {}) {
    this.#cacheFile = options.cacheFile;
    this.#importMap = Deno.readTextFile(`${root}/deno.json`)
      .then((t) => (JSON.parse(t).imports ?? {}) as Record<string, string>)
      .catch(() => ({}));
  }

  /**
   * The digest of `module` (a `file:` URL such as a stage's `import.meta.url`, or a path relative
   * to the project root) and everything it imports.
   */
  async digest(module: string): Promise<string> {
    const { files, packages } = await this.#walk(module);
    // Code-unit order, not localeCompare: a key must not depend on the machine's locale.
    const lines = [...files.keys()].sort(byCodeUnits).map((path) => `${path}:${files.get(path)}`);
    return sha256Hex([CODE_DIGEST_SCHEME, ...lines, ...[...packages].sort(byCodeUnits)].join("\n"));
  }

  /** The project files `module`'s digest covers (paths relative to the root), sorted. */
  async files(module: string): Promise<string[]> {
    return [...(await this.#walk(module)).files.keys()].sort(byCodeUnits);
  }

  /**
   * Writes the cache file (when there is one and this digester parsed something new): atomically,
   * through a temp file in the same folder renamed over it. Entries this digester used come
   * first; older ones are kept up to {@link MAX_CACHE_ENTRIES}.
   */
  async save(): Promise<void> {
    if (this.#cacheFile === undefined || this.#cache === undefined || !this.#dirty) return;
    const cache = await this.#cache;
    const keys = [...this.#used, ...[...cache.keys()].filter((k) => !this.#used.has(k))];
    const body: CacheFile = {
      scheme: CODE_DIGEST_SCHEME,
      parser: PARSER,
      files: Object.fromEntries(keys.slice(0, MAX_CACHE_ENTRIES).map((k) => [k, cache.get(k)!])),
    };
    await writeFileAtomic(this.#cacheFile, new TextEncoder().encode(JSON.stringify(body)));
    this.#dirty = false;
  }

  /** The project files reachable from `module` with their digests, and the packages they use. */
  async #walk(module: string): Promise<{ files: Map<string, string>; packages: Set<string> }> {
    const importMap = await this.#importMap;
    const files = new Map<string, string>(); // path -> digest of its syntax tree
    const packages = new Set<string>();
    const queue = [normalize(this.#relative(module))];
    while (queue.length > 0) {
      const path = queue.pop()!;
      if (files.has(path)) continue;
      const { digest, imports } = await this.#meaning(path);
      files.set(path, digest);
      for (const spec of imports) {
        if (spec.startsWith(".")) {
          queue.push(normalize(`${path.slice(0, path.lastIndexOf("/") + 1)}${spec}`));
        } else {
          const base = Object.keys(importMap).find((k) => spec === k || spec.startsWith(`${k}/`));
          packages.add(base === undefined ? spec : `${base}=${importMap[base]}`);
        }
      }
    }
    return { files, packages };
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

  #meaning(path: string): Promise<FileMeaning> {
    let meaning = this.#meanings.get(path);
    if (meaning === undefined) {
      meaning = this.#computeMeaning(path);
      this.#meanings.set(path, meaning);
    }
    return meaning;
  }

  async #computeMeaning(path: string): Promise<FileMeaning> {
    let text: string;
    try {
      text = await Deno.readTextFile(`${this.root}/${path}`);
    } catch (e) {
      // A path that is not there (an import in a string the parser could not tell apart, say)
      // counts as missing rather than stopping the run; a real missing import fails when the
      // stage loads.
      if (e instanceof Deno.errors.NotFound) return { digest: "missing", imports: [] };
      throw e;
    }
    const ext = path.slice(path.lastIndexOf("/") + 1).split(".").slice(1).pop() ?? "";
    const key = `${ext}:${sha256Hex(text)}`;
    const cache = await (this.#cache ??= this.#loadCache());
    this.#used.add(key);
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const meaning = fileMeaning(await (this.#ts ??= loadTypescript()), path, ext, text);
    cache.set(key, meaning);
    this.#dirty = true;
    return meaning;
  }

  async #loadCache(): Promise<Map<string, FileMeaning>> {
    const cache = new Map<string, FileMeaning>();
    if (this.#cacheFile === undefined) return cache;
    let body: Partial<CacheFile>;
    try {
      body = JSON.parse(await Deno.readTextFile(this.#cacheFile));
    } catch {
      return cache; // missing or unreadable: parse again
    }
    if (body?.scheme !== CODE_DIGEST_SCHEME || body.parser !== PARSER) return cache;
    for (const [key, m] of Object.entries(body.files ?? {})) {
      if (
        typeof m?.digest === "string" && Array.isArray(m.imports) &&
        m.imports.every((i) => typeof i === "string")
      ) {
        cache.set(key, { digest: m.digest, imports: m.imports });
      }
    }
    return cache;
  }
}

async function loadTypescript(): Promise<typeof TS> {
  const mod = await import("typescript");
  return (mod.default ?? mod) as typeof TS;
}

/** Parses one file and hashes its syntax tree; collects the imports it follows. */
function fileMeaning(ts: typeof TS, path: string, ext: string, text: string): FileMeaning {
  const kind = SCRIPT_KINDS[ext] ?? "TS";
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, ts.ScriptKind[kind]);
  const imports: string[] = [];
  const diagnostics = (sf as unknown as { parseDiagnostics?: unknown[] }).parseDiagnostics;
  if ((diagnostics?.length ?? 0) > 0) {
    // A file TS cannot parse cleanly counts by its text (it will not load either).
    collectImports(ts, sf, imports);
    return { digest: sha256Hex(`text\n${text}`), imports };
  }
  const digest = sha256Hex(syntaxParts(ts, sf, (node) => noteImport(ts, node, imports)).join(""));
  return { digest, imports };
}

/**
 * The syntax tree of `sf` written out, what {@link CODE_DIGEST_SCHEME} hashes: `(kind` … `)` per
 * node, `kind=length:text` per token. `visit` sees every node that is not a token.
 *
 * Left out, as formatting rather than meaning (the tree already says where each node ends, so
 * none of them can make two programs that load look alike): JSDoc; semicolons (but those
 * between a `for`'s clauses) and empty statements and class elements (a lone `;`) in a list of
 * them; a list's trailing comma and a type member's `,` separator; the leading `|` or `&` of a
 * union or intersection type; and the braces around a single statement that is the body of an
 * `if`, `else` or loop.
 */
function syntaxParts(ts: typeof TS, sf: TS.SourceFile, visit: (node: TS.Node) => void): string[] {
  const parts: string[] = [];
  const { SyntaxKind: K } = ts;
  const BRACELESS = new Set([
    K.IfStatement,
    K.ForStatement,
    K.ForInStatement,
    K.ForOfStatement,
    K.WhileStatement,
    K.DoStatement,
  ]);
  const EMPTY = new Set([K.EmptyStatement, K.SemicolonClassElement]);
  const walk = (node: TS.Node, parent: TS.SyntaxKind | undefined): void => {
    if (node.kind >= K.FirstToken && node.kind <= K.LastToken) {
      const value = node.kind === K.StringLiteral
        ? (node as TS.StringLiteral).text
        : node.getText(sf);
      parts.push(`${node.kind}=${value.length}:${value}`);
      return;
    }
    if (node.kind === K.Block && parent !== undefined && BRACELESS.has(parent)) {
      const statements = (node as TS.Block).statements.filter((s) => s.kind !== K.EmptyStatement);
      // `if (a) { b(); }` is `if (a) b();` (unbraced, a lone `let` or function does not load).
      if (statements.length === 1) return walk(statements[0]!, K.Block);
    }
    if (isTypeOnly(ts, node)) return;
    visit(node);
    const types = typePartsOf(ts, node);
    const children = node.getChildren(sf).filter((c) =>
      !types.has(c) &&
      !(c.kind === K.SyntaxList && c.getChildren(sf).some((e) => types.has(e))) &&
      !(c.kind >= K.FirstJSDocNode && c.kind <= K.LastJSDocNode) &&
      !(c.kind === K.SemicolonToken && node.kind !== K.ForStatement) &&
      !(node.kind === K.SyntaxList && EMPTY.has(c.kind))
    );
    if (children[children.length - 1]?.kind === K.CommaToken) children.pop();
    if (
      node.kind === K.SyntaxList &&
      (parent === K.UnionType || parent === K.IntersectionType) &&
      (children[0]?.kind === K.BarToken || children[0]?.kind === K.AmpersandToken)
    ) children.shift();
    parts.push(`(${node.kind}`);
    for (const child of children) walk(child, node.kind);
    parts.push(")");
  };
  walk(sf, undefined);
  return parts;
}

/** True for a node that is only a type: erased before the code runs, so not its meaning. */
function isTypeOnly(ts: typeof TS, node: TS.Node): boolean {
  return ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node) ||
    (ts.isHeritageClause(node) && node.token === ts.SyntaxKind.ImplementsKeyword) ||
    (ts.isImportDeclaration(node) && node.importClause?.isTypeOnly === true) ||
    (ts.isExportDeclaration(node) && node.isTypeOnly) ||
    ((ts.isImportSpecifier(node) || ts.isExportSpecifier(node)) && node.isTypeOnly);
}

/**
 * The parts of `node` that are types: its annotation (`x: T`, a return type, `as T`,
 * `satisfies T`, `<T>x`), its type arguments and its type parameters.
 */
function typePartsOf(ts: typeof TS, node: TS.Node): Set<TS.Node> {
  const parts = new Set<TS.Node>();
  const n = node as TS.Node & {
    type?: TS.Node;
    typeArguments?: TS.NodeArray<TS.Node>;
    typeParameters?: TS.NodeArray<TS.Node>;
  };
  if (n.type !== undefined && ts.isTypeNode(n.type)) parts.add(n.type);
  for (const t of n.typeArguments ?? []) parts.add(t);
  for (const t of n.typeParameters ?? []) parts.add(t);
  return parts;
}

/** Finds the imports in a tree (used where the tree is not otherwise walked). */
function collectImports(ts: typeof TS, node: TS.Node, out: string[]): void {
  noteImport(ts, node, out);
  ts.forEachChild(node, (child) => collectImports(ts, child, out));
}

/**
 * Adds the specifier `node` imports, if it is an import or re-export that runs code, or a dynamic
 * `import("…")` of a literal. Left out: `import type` and `export type`, and imports whose every
 * named binding is `type` (Deno drops those: types are erased, so they cannot change what a stage
 * writes, and editing the config schema must not rerun every stage).
 */
function noteImport(ts: typeof TS, node: TS.Node, out: string[]): void {
  if (ts.isImportDeclaration(node)) {
    const clause = node.importClause;
    if (clause?.isTypeOnly) return;
    const named = clause?.namedBindings;
    if (
      clause !== undefined && clause.name === undefined && named !== undefined &&
      ts.isNamedImports(named) && named.elements.length > 0 &&
      named.elements.every((e) => e.isTypeOnly)
    ) return;
    if (ts.isStringLiteral(node.moduleSpecifier)) out.push(node.moduleSpecifier.text);
  } else if (ts.isExportDeclaration(node)) {
    if (node.isTypeOnly || node.moduleSpecifier === undefined) return;
    const named = node.exportClause;
    if (
      named !== undefined && ts.isNamedExports(named) && named.elements.length > 0 &&
      named.elements.every((e) => e.isTypeOnly)
    ) return;
    if (ts.isStringLiteral(node.moduleSpecifier)) out.push(node.moduleSpecifier.text);
  } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
    const arg = node.arguments[0];
    if (arg !== undefined && ts.isStringLiteralLike(arg)) out.push(arg.text);
  }
}

const SCRIPT_KINDS: Record<string, "TS" | "TSX" | "JS" | "JSX" | "JSON"> = {
  ts: "TS",
  mts: "TS",
  cts: "TS",
  tsx: "TSX",
  js: "JS",
  mjs: "JS",
  cjs: "JS",
  jsx: "JSX",
  json: "JSON",
};

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
