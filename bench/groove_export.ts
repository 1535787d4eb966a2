/**
 * Exports the Groove MIDI Dataset (data/groove) as drum-grid token ids for the PyTorch reference
 * bench/groove_torch.py: every file tokenized with the project's own tokenizer
 * (music/encoding.ts `tokenizeFile`; drum-grid, 4 steps per quarter, velocity off), split by
 * data/groove/info.csv's `split` column.
 *
 * Vocabulary: the tokens occurring at least twice in the train split, sorted; every other token
 * (rarer training tokens, tokens absent from training) is `unk` = vocab.length, so the model
 * learns the unknown class from rare training tokens. `bos` = vocab.length + 1 is an input-only
 * begin-of-file id.
 *
 * Writes `{ vocab, unk, bos, stepsPerBar: 16, train, validation, test }` (each split a list of
 * files, each file a list of ids) and prints the counts per split and the vocabulary size.
 *
 * Run: `deno run --allow-read --allow-write bench/groove_export.ts [OUT.json] [DATASET_DIR]`
 * (default out: /tmp/groove_tokens.json).
 *
 * @module
 */
import type { TokenEncoding } from "../formats/tokens.ts";
import { tokenizeFile } from "../music/encoding.ts";

const out = Deno.args[0] ?? "/tmp/groove_tokens.json";
const dir = Deno.args[1] ?? new URL("../data/groove", import.meta.url).pathname;
const encoding: TokenEncoding = { encoding: "drum-grid", stepsPerQuarter: 4, velocity: "off" };
const SPLITS = ["train", "validation", "test"] as const;
type Split = typeof SPLITS[number];

/** One CSV line's fields (quoted fields with commas and doubled quotes allowed). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') field += '"', i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") fields.push(field), field = "";
    else field += ch;
  }
  fields.push(field);
  return fields;
}

const lines = (await Deno.readTextFile(`${dir}/info.csv`)).split(/\r?\n/).filter((l) => l !== "");
const header = csvFields(lines[0]!);
const col = (name: string) => {
  const at = header.indexOf(name);
  if (at < 0) throw new Error(`info.csv has no ${name} column`);
  return at;
};
const splitCol = col("split");
const fileCol = col("midi_filename");

const tokens: Record<Split, string[][]> = { train: [], validation: [], test: [] };
const skipped: Record<Split, number> = { train: 0, validation: 0, test: 0 };
const empty: Record<Split, number> = { train: 0, validation: 0, test: 0 };
for (const line of lines.slice(1)) {
  const f = csvFields(line);
  const split = f[splitCol] as Split;
  if (!SPLITS.includes(split)) throw new Error(`unknown split ${JSON.stringify(f[splitCol])}`);
  try {
    const bytes = await Deno.readFile(`${dir}/${f[fileCol]}`);
    const t = tokenizeFile(bytes, encoding).tokens;
    if (t.length === 0) empty[split]++;
    else tokens[split].push(t);
  } catch (e) {
    skipped[split]++;
    console.error(`skipped ${f[fileCol]}: ${e instanceof Error ? e.message : e}`);
  }
}

const counts = new Map<string, number>();
for (const file of tokens.train) for (const t of file) counts.set(t, (counts.get(t) ?? 0) + 1);
const vocab = [...counts].filter(([, n]) => n >= 2).map(([t]) => t).sort();
const ids = new Map(vocab.map((t, i) => [t, i]));
const unk = vocab.length;
const bos = vocab.length + 1;

const result: Record<string, unknown> = { vocab, unk, bos, stepsPerBar: 16 };
for (const split of SPLITS) {
  const files = tokens[split].map((file) => file.map((t) => ids.get(t) ?? unk));
  result[split] = files;
  const steps = files.reduce((n, f) => n + f.length, 0);
  const unks = files.reduce((n, f) => n + f.filter((id) => id === unk).length, 0);
  console.log(
    `${split}: ${files.length} files, ${steps} steps, ${unks} unk steps ` +
      `(${(100 * unks / steps).toFixed(3)}%), ${skipped[split]} failed to tokenize, ` +
      `${empty[split]} gave no tokens`,
  );
}
console.log(
  `vocabulary: ${vocab.length} tokens (of ${counts.size} distinct in train) + unk = ` +
    `${vocab.length + 1} classes; unk=${unk} bos=${bos}`,
);
await Deno.writeTextFile(out, JSON.stringify(result));
console.log(`wrote ${out}`);
