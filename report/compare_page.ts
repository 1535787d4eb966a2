/**
 * The compare page: one self-contained HTML file (inline CSS, the loss curves' SVG inlined, no
 * external scripts, fonts or images) that shows what `compare` prints, so it opens from file://
 * on a machine with no network. Every piece of text from a run record is escaped.
 *
 * @module
 */
import type { Comparison, PieceValue, Spread } from "./comparison.ts";
import { dataColumnLabel, formatSpread, formatStat } from "./compare_text.ts";
import { formatDuration } from "./text.ts";
import { curveColor, lossCurvesSvg } from "../plots/curves.ts";
import { describeFsError, fsErrorAdvice, isFsError } from "../core/fs_errors.ts";
import { hashJson } from "../core/hash.ts";
import type { Store } from "../core/storage.ts";

/** Where the compare page of these runs lives, under the store. */
export function comparePageDir(store: Store, hashes: readonly string[]): string {
  let name = hashes.join("-");
  // A folder name must stay under the file system's 255 bytes.
  if (name.length > 200) {
    name = `${hashes.slice(0, 4).join("-")}-and-${hashes.length - 4}-more-${
      hashJson(hashes).slice(0, 8)
    }`;
  }
  return store.pathOf("compare", name);
}

/**
 * {@link writeComparePage}, or a warning saying why the page could not be written (a read-only
 * store): the comparison itself has been printed either way.
 */
export async function tryWriteComparePage(
  store: Store,
  comparison: Comparison,
  warn: (message: string) => void,
): Promise<{ html: string; svg: string } | undefined> {
  try {
    return await writeComparePage(store, comparison);
  } catch (e) {
    const reason = isFsError(e)
      ? `${describeFsError(e)}; ${fsErrorAdvice(e)}`
      : (e as Error).message;
    warn(`could not write the compare page under ${store.root}: ${reason}`);
    return undefined;
  }
}

/** Writes `curves.svg` and `index.html` for the comparison; returns their paths. */
export async function writeComparePage(
  store: Store,
  comparison: Comparison,
): Promise<{ html: string; svg: string }> {
  // Opening the store for writing also marks a store made before the marker, so the folder
  // added here never makes it look like something else.
  await store.init();
  const dir = comparePageDir(store, comparison.runs.map((r) => r.configHash));
  const svg = curvesSvg(comparison);
  const html = comparePageHtml(comparison, svg, {
    store: store.root,
    generatedAt: new Date().toISOString(),
  });
  const encoder = new TextEncoder();
  const paths = { html: `${dir}/index.html`, svg: `${dir}/curves.svg` };
  await store.writeAtomic(paths.svg, encoder.encode(svg));
  await store.writeAtomic(paths.html, encoder.encode(html));
  return paths;
}

/** The training (and validation) loss of every run, overlaid. */
export function curvesSvg(c: Comparison): string {
  const train = c.epochs.find((s) => s.metric === "loss");
  const validation = c.epochs.find((s) => s.metric === "valLoss");
  const nums = (v: readonly (number | null)[] | undefined) => v?.map((x) => x ?? NaN);
  return lossCurvesSvg(
    c.runs.map((r, i) => ({
      label: r.configHash,
      note: r.note,
      train: nums(train?.runs[i]) ?? [],
      validation: nums(validation?.runs[i]),
    })),
    { title: `Loss per epoch, ${c.runs.length} runs`, width: 960 },
  );
}

/** Escapes text for HTML element content and (double- or single-quoted) attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}

/** Where the page came from, for its header. */
export interface PageContext {
  store: string;
  generatedAt: string;
}

/**
 * The compare page's HTML.
 *
 * @param c the comparison
 * @param svg the loss curves (from plots/curves.ts), inlined as they are
 * @param ctx the store and the time, for the header
 */
export function comparePageHtml(c: Comparison, svg: string, ctx: PageContext): string {
  const hashes = c.runs.map((r) => r.configHash);
  const title = `Compare ${c.runs.length} runs: ${hashes.map((h) => h.slice(0, 8)).join(" · ")}`;
  const body = [
    `<header>`,
    `<h1>Comparing ${c.runs.length} runs</h1>`,
    `<p class="sub">store <code>${escapeHtml(ctx.store)}</code> · written ${
      escapeHtml(ctx.generatedAt.slice(0, 19).replace("T", " "))
    } UTC · <code>deno task pipeline compare ${escapeHtml(hashes.join(" "))}</code></p>`,
    `</header>`,
    section("runs", "Runs", runsTable(c)),
    section("config", "Config differences", configTable(c)),
    section(
      "curves",
      "Loss curves",
      `<figure>${svg.trim()}<figcaption>Training loss solid${
        c.epochs.some((s) => s.metric === "valLoss") ? ", validation loss dashed" : ""
      }; one colour per run. The same chart alone: <a href="curves.svg">curves.svg</a>.` +
        `</figcaption></figure>`,
    ),
    section("training", "Training", trainingTable(c)),
    section("statistics", "Generated piece vs. training data", statisticsTables(c)),
    section("metrics", "Every other metric", metricsTable(c)),
  ];
  return htmlPage(title, body, CHECK_SCRIPT);
}

/**
 * A self-contained page: the shared stylesheet (plus `css`), `body`, and one inline `script`;
 * nothing fetched from anywhere, so it opens from file:// with no network.
 */
export function htmlPage(title: string, body: readonly string[], script: string, css = ""): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${PAGE_CSS}${css}</style>
</head>
<body>
<main>
${body.join("\n")}
</main>
<script>${script}</script>
</body>
</html>
`;
}

/** An `<h2>` and its content. */
export function section(id: string, heading: string, content: string): string {
  return `<section id="${id}"><h2>${escapeHtml(heading)}</h2>\n${content}\n</section>`;
}

/** A run's column heading: its colour and its hash. */
function runHeading(c: Comparison, i: number): string {
  const r = c.runs[i]!;
  return `<th class="run" scope="col">${swatch(i)}<code>${escapeHtml(r.configHash)}</code></th>`;
}

function swatch(i: number): string {
  return `<span class="swatch" style="background:${curveColor(i)}"></span>`;
}

function runHeadings(c: Comparison): string {
  return c.runs.map((_, i) => runHeading(c, i)).join("");
}

function runsTable(c: Comparison): string {
  const rows = c.runs.map((r, i) => {
    const epochs = c.metrics.find((m) => m.name === "epochs")?.values[i];
    const best = c.metrics.find((m) => m.name === "bestLoss")?.values[i];
    return `<tr><td>${swatch(i)}<code>${escapeHtml(r.configHash)}</code></td>` +
      `<td>${escapeHtml(r.configPath)}</td>` +
      `<td><span class="status ${r.status === "ok" ? "ok" : "bad"}">${
        escapeHtml(r.status)
      }</span></td>` +
      `<td>${escapeHtml(r.finishedAt.slice(0, 19).replace("T", " "))}</td>` +
      `<td class="num">${escapeHtml(formatDuration(r.seconds))}</td>` +
      `<td class="num">${cell(epochs)}</td><td class="num">${cell(best)}</td>` +
      `<td class="wrap">${escapeHtml(r.note) || `<span class="muted">—</span>`}</td></tr>`;
  });
  return table(
    `<tr><th>config hash</th><th>config</th><th>status</th><th>finished (UTC)</th>` +
      `<th class="num">took</th><th class="num">epochs</th><th class="num">best loss</th>` +
      `<th>differs in</th></tr>`,
    rows,
  );
}

function configTable(c: Comparison): string {
  if (c.configDiff.length === 0) {
    return `<p class="muted">The resolved configs are identical.</p>`;
  }
  const rows = c.configDiff.map((d) =>
    `<tr><th scope="row"><code>${escapeHtml(d.key)}</code></th>${
      d.values.map((v) => `<td class="num">${cell(v)}</td>`).join("")
    }</tr>`
  );
  return table(`<tr><th>key</th>${runHeadings(c)}</tr>`, rows);
}

function metricsTable(c: Comparison): string {
  const rows = c.metrics.filter((m) => !m.headline).map((m) =>
    `<tr><th scope="row"><code>${escapeHtml(m.name)}</code></th>${
      m.values.map((v) => `<td class="num">${cell(v)}</td>`).join("")
    }</tr>`
  );
  return rows.length === 0
    ? `<p class="muted">None.</p>`
    : table(`<tr><th>metric</th>${runHeadings(c)}</tr>`, rows);
}

function trainingTable(c: Comparison): string {
  const rows: string[] = [];
  for (const m of c.metrics.filter((m) => m.headline)) {
    rows.push(
      `<tr><th scope="row">${escapeHtml(m.name)}</th>${
        m.values.map((v) => `<td class="num">${cell(v)}</td>`).join("")
      }</tr>`,
    );
  }
  for (const s of c.epochs) {
    const epochs = Math.max(0, ...s.runs.map((v) => v?.length ?? 0));
    for (let e = 0; e < epochs; e++) {
      rows.push(
        `<tr class="${e === 0 ? "group-start" : ""}"><th scope="row">${
          escapeHtml(`${s.label} epoch ${e + 1}`)
        }</th>${s.runs.map((v) => `<td class="num">${loss(v?.[e])}</td>`).join("")}</tr>`,
      );
    }
  }
  return table(`<tr><th>metric</th>${runHeadings(c)}</tr>`, rows);
}

/** The generated piece's statistics beside the training data's: token and music tables. */
export function statisticsTables(c: Comparison): string {
  if (c.statistics.length === 0) {
    return `<p class="muted">No run has statistics of a generated piece (the stats stage did not run).</p>`;
  }
  const head = `<tr><th>statistic</th>${runHeadings(c)}${
    c.data.map((_, i) => `<th class="data" scope="col">${escapeHtml(dataColumnLabel(c, i))}</th>`)
      .join("")
  }</tr>`;
  const parts = [
    `<p class="muted">Each run's value, with how many standard deviations (z) it lies from the ` +
    `training files' mean; |z| &gt; 2 is marked.</p>`,
  ];
  for (
    const [group, heading] of [
      ["tokens", "Token statistics"],
      ["music", "Music statistics (MusPy)"],
    ] as const
  ) {
    const rows = c.statistics.filter((s) => s.group === group).map((s) =>
      `<tr><th scope="row"><code>${escapeHtml(s.name)}</code></th>${
        s.runs.map((v) => `<td class="num">${pieceCell(v)}</td>`).join("")
      }${s.data.map((d) => `<td class="num data">${spreadCell(d)}</td>`).join("")}</tr>`
    );
    if (rows.length > 0) parts.push(`<h3>${heading}</h3>`, table(head, rows));
  }
  return parts.join("\n");
}

/** A scrollable table with a head row and body rows (HTML). */
export function table(head: string, rows: string[]): string {
  return `<div class="scroll"><table>\n<thead>${head}</thead>\n<tbody>\n${
    rows.join("\n")
  }\n</tbody>\n</table></div>`;
}

/** A value in a cell: numbers to at most 4 decimals, strings as they are, the rest as JSON. */
export function cell(v: unknown): string {
  if (v === undefined || v === null) return `<span class="muted">—</span>`;
  if (typeof v === "number") {
    return escapeHtml(Number.isInteger(v) ? String(v) : String(Number(v.toFixed(4))));
  }
  if (typeof v === "string") return escapeHtml(v);
  const json = JSON.stringify(v);
  return `<span class="json" title="${escapeHtml(json)}">${
    escapeHtml(json.length > 80 ? `${json.slice(0, 77)}...` : json)
  }</span>`;
}

function loss(v: number | null | undefined): string {
  return typeof v === "number" && Number.isFinite(v)
    ? v.toFixed(4)
    : `<span class="muted">—</span>`;
}

function pieceCell(v: PieceValue | undefined): string {
  if (v === undefined) return `<span class="muted">—</span>`;
  const value = escapeHtml(formatStat(v.value));
  if (v.z === null) return value;
  const far = Math.abs(v.z) > 2 ? " far" : "";
  return `${value}<span class="z${far}" title="${
    escapeHtml(`${v.z.toFixed(2)} standard deviations from the training files' mean`)
  }">z ${escapeHtml(v.z.toFixed(2))}</span>`;
}

function spreadCell(d: Spread | undefined): string {
  if (d === undefined) return "";
  const range = typeof d.min === "number" && typeof d.max === "number"
    ? `<span class="range">${escapeHtml(`${formatStat(d.min)} – ${formatStat(d.max)}`)}${
      d.n === undefined ? "" : escapeHtml(` · n ${d.n}`)
    }</span>`
    : "";
  return `${escapeHtml(formatSpread(d))}${range}`;
}

/**
 * Runs when the page loads: counts the loss curves the browser laid out (a path with a length)
 * and writes the counts on `<html>` as `data-curves` and `data-curves-drawn`, so a headless
 * browser's DOM dump shows whether the chart was drawn.
 */
const CHECK_SCRIPT = `
(function () {
  var paths = document.querySelectorAll("svg path.curve");
  var drawn = 0;
  for (var i = 0; i < paths.length; i++) {
    if (paths[i].getTotalLength() > 0 && paths[i].getBBox().width > 0) drawn++;
  }
  document.documentElement.setAttribute("data-curves", String(paths.length));
  document.documentElement.setAttribute("data-curves-drawn", String(drawn));
})();
`;

/** The pages' shared style sheet (the compare page and the report page). */
export const PAGE_CSS = `
:root { color-scheme: light; --fg: #1f2328; --muted: #6a737d; --line: #d8dee4; --soft: #f6f8fa;
  --accent: #2f6fd0; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--fg);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
header { border-bottom: 1px solid var(--line); margin-bottom: 8px; padding-bottom: 12px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 8px; }
.sub, .muted, figcaption { color: var(--muted); }
.sub { margin: 0; font-size: 13px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.sub code { background: var(--soft); padding: 1px 5px; border-radius: 4px; }
a { color: var(--accent); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; min-width: 40%; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; white-space: nowrap; }
thead th { background: var(--soft); font-weight: 600; border-bottom: 2px solid var(--line); }
tbody tr:nth-child(even) { background: #fbfcfd; }
tbody tr:hover { background: #f0f4fa; }
tbody th { font-weight: 500; }
tr.group-start > * { border-top: 2px solid var(--line); }
.num { text-align: right; }
td.wrap { white-space: normal; min-width: 16em; }
th.run { text-align: right; }
th.data, td.data { background: #f3f6fb; color: #3a4754; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px;
  margin-right: 7px; vertical-align: -1px; }
.status { padding: 1px 8px; border-radius: 10px; font-size: 12px; }
.status.ok { background: #dafbe1; color: #116329; }
.status.bad { background: #ffebe9; color: #a40e26; }
.z { display: block; font-size: 11px; color: var(--muted); }
.z.far { color: #b35900; font-weight: 600; }
.range { display: block; font-size: 11px; color: var(--muted); }
.json { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
figure { margin: 0; }
figure svg { display: block; max-width: 100%; height: auto; border: 1px solid var(--line);
  border-radius: 6px; }
figcaption { font-size: 13px; margin-top: 6px; }
`;
