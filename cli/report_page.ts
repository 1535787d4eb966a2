/**
 * The report page of a run: `<store>/runs/<config-hash>/report.html`, one self-contained HTML
 * file that opens from file:// with no network. It shows the loss curves and the piano roll
 * (their SVGs inlined), a player for the generated audio and a link to the MIDI file (both copied
 * beside the page, into `report/`), the piece's statistics against the training data, the
 * resolved config and every stage with its time and whether it was cached. Every piece of text
 * from the run record is escaped.
 *
 * @module
 */
import { describeFsError, fsErrorAdvice, isFsError } from "../core/fs_errors.ts";
import type { RunRecord } from "../core/run_record.ts";
import type { Store } from "../core/store.ts";
import { buildComparison } from "./compare.ts";
import { cell, escapeHtml, htmlPage, section, statisticsTables, table } from "./compare_page.ts";
import { formatDuration } from "./progress.ts";

/** What the page shows beside the run record. */
export interface ReportAssets {
  /** train's loss.svg (training and validation loss), when train ran. */
  lossSvg?: string;
  /** render's piano_roll.svg, when render ran. */
  pianoRollSvg?: string;
  /** The audio file's path relative to the page; undefined when there is none. */
  audio?: string;
  /** Why there is no audio (shown instead of a player). */
  noAudio?: string;
  /** The MIDI file's path relative to the page, when render ran. */
  midi?: string;
}

/** The folder, under the page's, that holds the files the page plays and links. */
export const REPORT_ASSETS_DIR = "report";

/** The outputs copied beside the page: [stage, output]. */
const COPIED: readonly [string, string][] = [
  ["render", "generated.mid"],
  ["render", "piano_roll.svg"],
  ["audio", "generated.flac"],
  ["train", "loss.svg"],
];

/** Where a run's report page lives. */
export function reportPagePath(store: Store, configHash: string): string {
  return `${store.root}/runs/${configHash}/report.html`;
}

/**
 * Writes the report page of `record` and copies the files it shows into `report/` beside it;
 * returns the page's path.
 */
export async function writeReportPage(store: Store, record: RunRecord): Promise<string> {
  const page = reportPagePath(store, record.configHash);
  const dir = page.slice(0, page.lastIndexOf("/"));
  const copied = new Map<string, Uint8Array>();
  for (const [stage, output] of COPIED) {
    const digest = record.stages[stage]?.outputs[output];
    if (digest === undefined) continue;
    const bytes = await store.get(digest);
    copied.set(output, bytes);
    // An empty output says "none here" (audio without a synthesizer): nothing to copy.
    if (bytes.length > 0) {
      await store.writeAtomic(`${dir}/${REPORT_ASSETS_DIR}/${output}`, bytes);
    }
  }
  const text = (name: string) => {
    const bytes = copied.get(name);
    return bytes && bytes.length > 0 ? new TextDecoder().decode(bytes) : undefined;
  };
  const flac = copied.get("generated.flac");
  const assets: ReportAssets = {
    lossSvg: text("loss.svg"),
    pianoRollSvg: text("piano_roll.svg"),
    midi: copied.has("generated.mid") ? `${REPORT_ASSETS_DIR}/generated.mid` : undefined,
  };
  if (flac !== undefined && flac.length > 0) {
    assets.audio = `${REPORT_ASSETS_DIR}/generated.flac`;
  } else {
    assets.noAudio = flac === undefined
      ? "no audio: the audio stage did not run"
      : "no audio: fluidsynth was not installed";
  }
  const html = reportPageHtml(record, assets, {
    store: store.root,
    generatedAt: new Date().toISOString(),
  });
  await store.writeAtomic(page, new TextEncoder().encode(html));
  return page;
}

/**
 * {@link writeReportPage}, or a warning saying why the page could not be written (a read-only
 * store): the run itself is done either way.
 */
export async function tryWriteReportPage(
  store: Store,
  record: RunRecord,
): Promise<string | undefined> {
  try {
    return await writeReportPage(store, record);
  } catch (e) {
    const reason = isFsError(e)
      ? `${describeFsError(e)}; ${fsErrorAdvice(e)}`
      : (e as Error).message;
    console.error(`warning: could not write the report page under ${store.root}: ${reason}`);
    return undefined;
  }
}

/** The report page's HTML. */
export function reportPageHtml(
  record: RunRecord,
  assets: ReportAssets,
  ctx: { store: string; generatedAt: string },
): string {
  const title = `Run ${record.configHash}`;
  const body = [
    `<header>`,
    `<h1>Run <code>${escapeHtml(record.configHash)}</code></h1>`,
    `<p class="sub">config <code>${escapeHtml(record.configPath)}</code> · <span class="status ${
      record.status === "ok" ? "ok" : "bad"
    }">${escapeHtml(record.status)}</span> · finished ${
      escapeHtml(utc(record.finishedAt))
    } UTC · took ${escapeHtml(formatDuration(record.seconds))} · store <code>${
      escapeHtml(ctx.store)
    }</code> · written ${escapeHtml(utc(ctx.generatedAt))} UTC</p>`,
    `</header>`,
    section("listen", "The generated piece", listenSection(assets)),
    section("curves", "Loss curves", lossSection(assets)),
    section(
      "statistics",
      "Generated piece vs. training data",
      statisticsTables(
        buildComparison([record]),
      ),
    ),
    section("stages", "Stages", stagesTable(record)),
    section("config", "Config", configTable(record.config)),
  ];
  return htmlPage(title, body, CHECK_SCRIPT, CSS);
}

function utc(iso: string): string {
  return iso.slice(0, 19).replace("T", " ");
}

function listenSection(a: ReportAssets): string {
  const parts: string[] = [];
  if (a.audio !== undefined) {
    parts.push(
      `<p><audio controls preload="metadata" src="${escapeHtml(a.audio)}"></audio></p>`,
    );
  } else {
    parts.push(`<p class="noaudio">${escapeHtml(a.noAudio ?? "no audio")}</p>`);
  }
  const links = [
    ...(a.midi ? [`<a href="${escapeHtml(a.midi)}" download>generated.mid</a> (MIDI)`] : []),
    ...(a.audio ? [`<a href="${escapeHtml(a.audio)}" download>generated.flac</a> (audio)`] : []),
  ];
  if (links.length > 0) parts.push(`<p>Download: ${links.join(" · ")}</p>`);
  parts.push(
    a.pianoRollSvg === undefined
      ? `<p class="muted">No piano roll (the render stage did not run).</p>`
      : `<figure>${a.pianoRollSvg.trim()}<figcaption>The piece's piano roll.</figcaption></figure>`,
  );
  return parts.join("\n");
}

function lossSection(a: ReportAssets): string {
  return a.lossSvg === undefined
    ? `<p class="muted">No loss curves (the train stage did not run).</p>`
    : `<figure>${a.lossSvg.trim()}<figcaption>Training loss per epoch, and validation loss ` +
      `where the run has held-out files.</figcaption></figure>`;
}

function stagesTable(record: RunRecord): string {
  const rows = Object.entries(record.stages).map(([name, s]) =>
    `<tr><th scope="row"><code>${escapeHtml(name)}</code></th>` +
    `<td>${
      s.cached ? `<span class="status ok">cached</span>` : `<span class="status ran">ran</span>`
    }</td>` +
    `<td class="num">${escapeHtml(formatDuration(s.seconds))}</td>` +
    `<td class="num">${escapeHtml(formatDuration(s.executedSeconds))}</td>` +
    `<td class="wrap">${
      s.warnings.length === 0
        ? `<span class="muted">—</span>`
        : s.warnings.map((w) => escapeHtml(w)).join("<br>")
    }</td></tr>`
  );
  return table(
    `<tr><th>stage</th><th>this run</th><th class="num">took</th>` +
      `<th class="num">when it last ran</th><th>warnings</th></tr>`,
    rows,
  );
}

function configTable(config: unknown): string {
  const rows = flatten(config, "").map(([key, value]) =>
    `<tr><th scope="row"><code>${escapeHtml(key)}</code></th><td>${cell(value)}</td></tr>`
  );
  return table(`<tr><th>key</th><th>value</th></tr>`, rows);
}

/** A JSON-like value's leaves as [dotted path, value] (arrays are leaves). */
function flatten(value: unknown, prefix: string): [string, unknown][] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [[prefix, value]];
  }
  return Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}

/**
 * Runs when the page loads: counts the pictures the browser laid out (inline SVGs and images
 * with a size) and, when there is a player, waits for the audio's metadata; writes what it found
 * on `<body>` (`data-svgs`, `data-svgs-drawn`, `data-images`, `data-images-drawn`,
 * `data-audio-duration` or `data-audio-error`), so a headless browser's DOM dump shows it.
 */
const CHECK_SCRIPT = `
(function () {
  var body = document.body;
  var audio = document.querySelector("audio");
  if (audio) {
    var done = function () {
      body.setAttribute("data-audio-duration", String(audio.duration));
    };
    if (audio.readyState >= 1) done();
    else audio.addEventListener("loadedmetadata", done);
    audio.addEventListener("error", function () {
      body.setAttribute("data-audio-error", String(audio.error ? audio.error.code : "?"));
    });
  }
  window.addEventListener("load", function () {
    var svgs = document.querySelectorAll("figure > svg");
    var drawn = 0;
    for (var i = 0; i < svgs.length; i++) {
      var r = svgs[i].getBoundingClientRect();
      if (r.width > 0 && r.height > 0 && svgs[i].getBBox().width > 0) drawn++;
    }
    var images = document.images;
    var shown = 0;
    for (var j = 0; j < images.length; j++) if (images[j].naturalWidth > 0) shown++;
    body.setAttribute("data-svgs", String(svgs.length));
    body.setAttribute("data-svgs-drawn", String(drawn));
    body.setAttribute("data-images", String(images.length));
    body.setAttribute("data-images-drawn", String(shown));
  });
})();
`;

const CSS = `
audio { width: 100%; max-width: 640px; }
.noaudio { padding: 10px 14px; background: #fff8e6; border: 1px solid #f0d58c; border-radius: 6px;
  color: #6b4e00; max-width: 640px; }
.status.ran { background: #ddf4ff; color: #0a4a8a; }
figure + figure { margin-top: 16px; }
`;
