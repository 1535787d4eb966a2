/**
 * The report page of a run: `<store>/runs/<config-hash>/report.html`, one self-contained HTML
 * file that opens from file:// with no network. It shows the loss curves and the piano roll
 * (their SVGs inlined), a player for the generated audio and a link to the MIDI file (both copied
 * beside the page, into `report/`), a player that runs the run's checkpoint in the browser to
 * generate more (report/player.ts), the piece's statistics against the
 * training data, the resolved config and every stage with its time and whether it was cached.
 * Every piece of text from the run record is escaped.
 *
 * @module
 */
import { describeFsError, fsErrorAdvice, isFsError } from "../core/fs_errors.ts";
import type { RunRecord } from "../core/run_record.ts";
import type { Store } from "../core/storage.ts";
import { buildComparison } from "./comparison.ts";
import { cell, escapeHtml, htmlPage, section, statisticsTables, table } from "./compare_page.ts";
import { formatDuration } from "./text.ts";
import { bundle, pieceName } from "../formats/bundle.ts";
import {
  PLAYER_FILES,
  playerAssets,
  type PlayerKind,
  type PlayerModel,
  type SteppedKind,
} from "./player.ts";

/** A piece after the first (generate.count), as the page shows it. */
export interface Piece {
  /** Its number, from 2. */
  n: number;
  /** Its piano roll. */
  svg: string;
  /** Its MIDI and audio files' paths relative to the page, where there are some. */
  midi?: string;
  audio?: string;
}

/** What the page shows beside the run record. */
export interface ReportAssets {
  /** The pieces after the first, when generate.count is above 1. */
  pieces?: Piece[];
  /** losscurve's loss.svg (training and validation loss), when train ran. */
  lossSvg?: string;
  /** render's piano_roll.svg, when render ran. */
  pianoRollSvg?: string;
  /** The audio file's path relative to the page; undefined when there is none. */
  audio?: string;
  /** Why there is no audio (shown instead of a player). */
  noAudio?: string;
  /** The MIDI file's path relative to the page, when render ran. */
  midi?: string;
  /** What the "Play with the model" section offers; undefined when there is no player. */
  player?: PlayerView;
  /** Why there is no player (shown instead of it). */
  noPlayer?: string;
  /** The first piece as the humanizer played it (perform), when the run has a humanizer. */
  performed?: { svg: string; midi: string; audio?: string };
}

/** What the page says about the player; its scripts are in `report/`. */
export type PlayerView = WindowPlayerView | SequencePlayerView;

/** The tutorial network's player and its start windows. */
export interface WindowPlayerView {
  kind?: "window";
  /** Tokens per window (`window.length`). */
  windowLength: number;
  /** Tokens of the window generation started from that the page knows (0 when primed). */
  startLength: number;
  /** Tokens of the generated piece. */
  pieceLength: number;
  /** The TensorFlow.js version the page loads. */
  tfjsVersion: string;
}

/**
 * A stepped network's player (the sequence network's or the Transformer's): the run's primers,
 * and what generate drew after them.
 */
export interface SequencePlayerView {
  kind: SteppedKind;
  /** The file of each piece's primer, in generate's order. */
  primers: string[];
  /** Bars each primer holds. */
  primeBars: number;
  /** Steps a bar, and tokens each piece holds after its primer. */
  stepsPerBar: number;
  steps: number;
  /** The run's `generate.temperature` and `generate.seed`, the controls' first values. */
  temperature: number;
  seed: number;
}

/** The folder, under the page's, that holds the files the page plays and links. */
export const REPORT_ASSETS_DIR = "report";

/** The outputs copied beside the page: [stage, output]. */
const COPIED: readonly [string, string][] = [
  ["render", "generated.mid"],
  ["render", "piano_roll.svg"],
  ["audio", "generated.flac"],
  ["losscurve", "loss.svg"],
  ["perform", "performed.svg"],
  ["perform", "performed.mid"],
  ["audio", "performed.flac"],
];

/** Where a run's report page lives. */
export function reportPagePath(store: Store, configHash: string): string {
  return store.pathOf("runs", configHash, "report.html");
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
  const player = await playerAssets(store, record);
  if ("files" in player) {
    for (const [name, bytes] of Object.entries(player.files)) {
      await store.writeAtomic(`${dir}/${REPORT_ASSETS_DIR}/${name}`, bytes);
    }
  }
  const flac = copied.get("generated.flac");
  const pieces = await morePieces(store, record, `${dir}/${REPORT_ASSETS_DIR}`);
  const assets: ReportAssets = {
    pieces,
    lossSvg: text("loss.svg"),
    pianoRollSvg: text("piano_roll.svg"),
    midi: copied.has("generated.mid") ? `${REPORT_ASSETS_DIR}/generated.mid` : undefined,
  };
  const performedSvg = text("performed.svg");
  if (performedSvg !== undefined) {
    assets.performed = { svg: performedSvg, midi: `${REPORT_ASSETS_DIR}/performed.mid` };
    if ((copied.get("performed.flac")?.length ?? 0) > 0) {
      assets.performed.audio = `${REPORT_ASSETS_DIR}/performed.flac`;
    }
  }
  if ("files" in player) assets.player = playerView(player.model);
  else assets.noPlayer = player.reason;
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

/** What the page says about `model`'s player. */
function playerView(model: PlayerModel): PlayerView {
  if (model.kind !== "window") {
    return {
      kind: model.kind,
      primers: model.primers.map((p) => p.path),
      primeBars: model.primeBars,
      stepsPerBar: model.layout.stepsPerBar,
      steps: model.steps,
      temperature: model.temperature,
      seed: model.seed,
    };
  }
  return {
    windowLength: model.windowLength,
    startLength: model.startWindow.length,
    pieceLength: model.piece.length,
    tfjsVersion: model.tfjsVersion,
  };
}

/**
 * The pieces after the first (`generate.count` above 1), from render's `pieces.tar` and audio's
 * `pieces-audio.tar`: their MIDI and audio copied into `assets`, their piano rolls inline.
 */
async function morePieces(store: Store, record: RunRecord, assets: string): Promise<Piece[]> {
  const bundleOf = async (stage: string, output: string) => {
    const digest = record.stages[stage]?.outputs[output];
    return digest === undefined ? new Map() : bundle.decode(await store.get(digest));
  };
  const midi = await bundleOf("render", "pieces.tar");
  const audio = await bundleOf("audio", "pieces-audio.tar");
  const pieces: Piece[] = [];
  for (let n = 2; midi.has(pieceName(n, "mid")); n++) {
    const piece: Piece = { n, svg: new TextDecoder().decode(midi.get(pieceName(n, "svg"))) };
    for (const [files, extension] of [[midi, "mid"], [audio, "flac"]] as const) {
      const bytes = files.get(pieceName(n, extension));
      if (bytes === undefined || bytes.length === 0) continue;
      await store.writeAtomic(`${assets}/${pieceName(n, extension)}`, bytes);
      piece[extension === "mid" ? "midi" : "audio"] = `${REPORT_ASSETS_DIR}/${
        pieceName(n, extension)
      }`;
    }
    pieces.push(piece);
  }
  return pieces;
}

/**
 * {@link writeReportPage}, or a warning saying why the page could not be written (a read-only
 * store): the run itself is done either way.
 */
export async function tryWriteReportPage(
  store: Store,
  record: RunRecord,
  warn: (message: string) => void,
): Promise<string | undefined> {
  try {
    return await writeReportPage(store, record);
  } catch (e) {
    const reason = isFsError(e)
      ? `${describeFsError(e)}; ${fsErrorAdvice(e)}`
      : (e as Error).message;
    warn(`could not write the report page under ${store.root}: ${reason}`);
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
    ...(assets.pieces && assets.pieces.length > 0
      ? [section("pieces", "More pieces (generate.count)", piecesSection(assets.pieces))]
      : []),
    section("play", "Play with the model", playerSection(assets)),
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

function piecesSection(pieces: readonly Piece[]): string {
  return pieces.map((p) => {
    const name = `piece ${p.n}`;
    const links = [
      ...(p.midi ? [`<a href="${escapeHtml(p.midi)}" download>MIDI</a>`] : []),
      ...(p.audio ? [`<a href="${escapeHtml(p.audio)}" download>audio</a>`] : []),
    ];
    return [
      `<h3>Piece ${p.n}</h3>`,
      p.audio ? audioPlayer(p.audio) : "",
      links.length > 0 ? `<p>Download ${name}: ${links.join(" · ")}</p>` : "",
      `<figure>${p.svg.trim()}</figure>`,
    ].filter((line) => line !== "").join("\n");
  }).join("\n");
}

/** A player for the audio file at `src` (a path relative to the page). */
function audioPlayer(src: string): string {
  return `<p><audio controls preload="metadata" src="${escapeHtml(src)}"></audio></p>`;
}

function listenSection(a: ReportAssets): string {
  const parts: string[] = [];
  if (a.audio !== undefined) {
    parts.push(
      audioPlayer(a.audio),
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
  const played = a.performed;
  if (played !== undefined) {
    parts.push(
      `<h3>Played by the humanizer</h3>`,
      `<p>The same piece with the velocity and timing the run's humanizer gives each hit.</p>`,
      ...(played.audio ? [audioPlayer(played.audio)] : []),
      `<p>Download: <a href="${escapeHtml(played.midi)}" download>performed.mid</a> (MIDI)</p>`,
      `<figure>${played.svg.trim()}<figcaption>Shaded by velocity.</figcaption></figure>`,
    );
  }
  return parts.join("\n");
}

function playerSection(a: ReportAssets): string {
  const p = a.player;
  if (p === undefined) {
    return `<p class="muted">${escapeHtml(a.noPlayer ?? "No model to play with.")}</p>`;
  }
  // A stepped network's player (either kind) has primers; the window player has none.
  if ("primers" in p) return sequencePlayerSection(p);
  const total = p.startLength + p.pieceLength;
  const last = total - p.windowLength;
  const known = p.startLength > 0
    ? `the ${p.startLength} tokens generation started from, then the ${p.pieceLength} it generated`
    : `the ${p.pieceLength} generated tokens`;
  return `<div id="player" data-state="loading">
<p>The run's checkpoint, running in this browser with TensorFlow.js ${
    escapeHtml(p.tfjsVersion)
  }: it writes one token after another, each from a fresh pass over the last ${p.windowLength}
tokens (the tutorial's way), and plays what it wrote.
Start from the end of the piece, or from a window starting at a chosen token of ${known}
(token 0 to ${last}).</p>
<form class="player" onsubmit="return false">
<label>Start <select id="player-start">
<option value="end" selected>the end of the piece</option>
<option value="index">a window starting at token</option>
</select></label>
<input id="player-index" type="number" min="0" max="${last}" step="1" value="0" aria-label="first token of the start window">
<label>Temperature <input id="player-temperature" type="number" min="0" max="10" step="0.1" value="1.0"></label>
<label>Length <input id="player-length" type="number" min="1" max="2000" step="1" value="64"> tokens</label>
<label>Seed <input id="player-seed" type="number" min="0" step="1" placeholder="random"></label>
<button id="player-generate" type="button" disabled>Generate</button>
<button id="player-play" type="button" disabled>Play</button>
<progress id="player-progress" max="1" value="0"></progress>
</form>
<p id="player-status" class="muted" role="status">Loading the model…</p>
<p id="player-caption" class="muted"></p>
<ol id="player-tokens" class="tokens"></ol>
<pre id="probe" hidden></pre>
</div>
${playerScripts("window")}`;
}

/** How each stepped network's step runs, as the page says it. */
const STEP_WORDS: Readonly<Record<SteppedKind, string>> = {
  sequence: "one LSTM step per token, in the plain JavaScript generate itself runs " +
    "(model/sequence/lstm_step.js)",
  transformer: "one pass through the Transformer's blocks per token, each block's keys and " +
    "values kept, in the plain JavaScript generate itself runs " +
    "(model/sequence/transformer_step.js)",
};

/**
 * A stepped network's controls (the sequence network's or the Transformer's, the same): the
 * primer (which piece), temperature and seed.
 */
function sequencePlayerSection(p: SequencePlayerView): string {
  const bars = (steps: number) => {
    const n = steps / p.stepsPerBar;
    return Number.isInteger(n) ? `${n} bar${n === 1 ? "" : "s"}` : `${steps} steps`;
  };
  const count = p.primers.length;
  const options = p.primers.map((path, i) =>
    `<option value="${i}"${i === 0 ? " selected" : ""}>piece ${i + 1}: ${escapeHtml(path)}</option>`
  );
  return `<div id="player" data-state="loading" data-kind="${p.kind}">
<p>The run's checkpoint, running in this browser: ${STEP_WORDS[p.kind]}. Generate draws the
run's ${count} piece${count === 1 ? "" : "s"} again, each ${bars(p.steps)} after the first ${
    bars(p.primeBars * p.stepsPerBar)
  } of its primer's file, all from one stream seeded by the seed, as generate draws them; it
shows and plays the piece of the chosen primer. With the run's temperature and seed (filled in),
every piece is the run's own, token for token.</p>
<form class="player" onsubmit="return false">
<label>Primer <select id="player-primer">
${options.join("\n")}
</select></label>
<label>Temperature <input id="player-temperature" type="number" min="0" max="10" step="0.1" value="${p.temperature}"></label>
<label>Seed <input id="player-seed" type="number" min="0" step="1" value="${p.seed}"></label>
<button id="player-generate" type="button" disabled>Generate</button>
<button id="player-play" type="button" disabled>Play</button>
</form>
<p id="player-status" class="muted" role="status">Loading the model…</p>
<p id="player-caption" class="muted"></p>
<ol id="player-tokens" class="tokens"></ol>
<pre id="probe" hidden></pre>
</div>
${playerScripts(p.kind)}`;
}

/** The `<script>` elements of a kind of player, in the order they must run. */
function playerScripts(kind: PlayerKind): string {
  return PLAYER_FILES[kind].map((name) =>
    `<script defer src="${REPORT_ASSETS_DIR}/${name}"></script>`
  ).join("\n");
}

function lossSection(a: ReportAssets): string {
  return a.lossSvg === undefined
    ? `<p class="muted">No loss curves (the train stage did not run).</p>`
    : `<figure>${a.lossSvg.trim()}<figcaption>Training loss per epoch, and validation loss ` +
      `where the run has held-out files, with the dotted level of a model that ignores its ` +
      `context (the training targets' frequencies): a validation curve above it has learnt ` +
      `nothing from the context.</figcaption></figure>`;
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
  var audios = document.querySelectorAll("audio");
  var durations = [];
  Array.prototype.forEach.call(audios, function (audio, i) {
    var done = function () {
      durations[i] = audio.duration;
      body.setAttribute("data-audio-durations", durations.join(","));
      if (i === 0) body.setAttribute("data-audio-duration", String(audio.duration));
    };
    if (audio.readyState >= 1) done();
    else audio.addEventListener("loadedmetadata", done);
    audio.addEventListener("error", function () {
      body.setAttribute("data-audio-error", String(audio.error ? audio.error.code : "?"));
    });
  });
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
form.player { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; }
form.player input[type=number] { width: 6em; }
ol.tokens { display: flex; flex-wrap: wrap; gap: 4px; padding: 0; list-style: none;
  font-family: ui-monospace, monospace; font-size: 12px; }
ol.tokens li { padding: 1px 5px; border: 1px solid #d0d7de; border-radius: 4px; }
ol.tokens li.now { background: #ddf4ff; border-color: #0a4a8a; }
ol.tokens li.bar { margin-left: 12px; }
`;
