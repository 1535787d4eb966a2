/**
 * Exports the Groove MIDI Dataset (data/groove) as drum-grid token ids for the PyTorch reference
 * bench/groove_torch.py and the time-to-quality bench (bench/groove_time_to_quality.ts): every
 * file tokenized with the project's own tokenizer (music/encoding.ts `tokenizeFile`; drum-grid,
 * 4 steps per quarter, velocity off), split by data/groove/info.csv's `split` column (read by the
 * pipeline's own reader, formats/files.ts).
 *
 * Vocabulary: the tokens occurring at least twice in the train split, sorted; every other token
 * (rarer training tokens, tokens absent from training) is `unk` = vocab.length, so the model
 * learns the unknown class from rare training tokens. `bos` = vocab.length + 1 is an input-only
 * begin-of-file id. This is the vocabulary groove.yaml's run builds (vocab.minCount 2 over every
 * train-split file).
 *
 * Writes `{ vocab, unk, bos, stepsPerBar: 16, train, validation, test }` (each split a list of
 * files, each file a list of ids) and prints the counts per split and the vocabulary size.
 *
 * Run: `deno run --allow-read --allow-write bench/groove_export.ts [OUT.json] [DATASET_DIR]`
 * (default out: /tmp/groove_tokens.json).
 *
 * @module
 */
import { parseSplitTable, type Split, SPLITS } from "../formats/files.ts";
import type { TokenEncoding } from "../formats/tokens.ts";
import { tokenizeFile } from "../music/encoding.ts";

/** The dataset as token ids per split (see the module comment). */
export interface GrooveTokenIds {
  vocab: string[];
  unk: number;
  bos: number;
  stepsPerBar: number;
  train: number[][];
  validation: number[][];
  test: number[][];
}

const ENCODING: TokenEncoding = { encoding: "drum-grid", stepsPerQuarter: 4, velocity: "off" };

/** Tokenizes every file info.csv lists in `dir`; `log` gets one line per split. */
export async function grooveTokenIds(
  dir: string,
  log: (line: string) => void = () => {},
): Promise<GrooveTokenIds> {
  const table = parseSplitTable(await Deno.readFile(`${dir}/info.csv`));
  for (const column of ["split", "midi_filename"]) {
    if (!table.columns.includes(column)) throw new Error(`${dir}/info.csv has no ${column} column`);
  }
  const tokens: Record<Split, string[][]> = { train: [], validation: [], test: [] };
  const skipped: Record<Split, number> = { train: 0, validation: 0, test: 0 };
  for (const row of table.rows) {
    const split = row.split as Split;
    if (!SPLITS.includes(split)) {
      throw new Error(`${dir}/info.csv: unknown split ${JSON.stringify(row.split)}`);
    }
    try {
      const t = tokenizeFile(await Deno.readFile(`${dir}/${row.midi_filename}`), ENCODING).tokens;
      if (t.length > 0) tokens[split].push(t);
      else skipped[split]++;
    } catch (e) {
      skipped[split]++;
      log(`skipped ${row.midi_filename}: ${e instanceof Error ? e.message : e}`);
    }
  }
  const counts = new Map<string, number>();
  for (const file of tokens.train) for (const t of file) counts.set(t, (counts.get(t) ?? 0) + 1);
  const vocab = [...counts].filter(([, n]) => n >= 2).map(([t]) => t).sort();
  const ids = new Map(vocab.map((t, i) => [t, i]));
  const unk = vocab.length;
  const ofSplit = (split: Split) => {
    const files = tokens[split].map((file) => file.map((t) => ids.get(t) ?? unk));
    const steps = files.reduce((n, f) => n + f.length, 0);
    const unks = files.reduce((n, f) => n + f.filter((id) => id === unk).length, 0);
    log(
      `${split}: ${files.length} files, ${steps} steps, ${unks} unk steps ` +
        `(${(100 * unks / steps).toFixed(3)}%), ${skipped[split]} skipped (unreadable or empty)`,
    );
    return files;
  };
  const result = {
    vocab,
    unk,
    bos: unk + 1,
    stepsPerBar: 4 * ENCODING.stepsPerQuarter,
    train: ofSplit("train"),
    validation: ofSplit("validation"),
    test: ofSplit("test"),
  };
  log(`vocabulary: ${vocab.length} tokens (of ${counts.size} in train) + unk; bos=${unk + 1}`);
  return result;
}

if (import.meta.main) {
  const out = Deno.args[0] ?? "/tmp/groove_tokens.json";
  const dir = Deno.args[1] ?? new URL("../data/groove", import.meta.url).pathname;
  const result = await grooveTokenIds(dir, (line) => console.log(line));
  await Deno.writeTextFile(out, JSON.stringify(result));
  console.log(`wrote ${out}`);
}
