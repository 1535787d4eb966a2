import assert from "node:assert/strict";
import { defaultConfig } from "../formats/config_schema.ts";
import { sha256Hex } from "../core/hash.ts";
import { events, smf } from "../tests/_smf.ts";
import { FAR_HIT_47, FAR_HITS_133 } from "../tests/_long_grid.ts";
import { fakeContext } from "../tests/_helpers.ts";
import { buildVocab } from "./vocab.ts";
import { heldout } from "./heldout.ts";
import type { FileEntry } from "../formats/files.ts";

/** Kick, silence, snare, then silence and a kick again: five sixteenth steps. */
const groove = smf({
  tracks: [events([0, 0x99, 36, 100], [240, 0x99, 38, 100], [240, 0x99, 36, 100])],
});

function entries(files: Record<string, Uint8Array>) {
  return Object.keys(files).map((path) => ({
    path,
    size: files[path]!.length,
    sha256: sha256Hex(files[path]!),
  }));
}

Deno.test("heldout holds drum grids to parse.maxQuarters: a too-long file is reported, quickly", async () => {
  const files = { "far47.mid": FAR_HIT_47, "far133.mid": FAR_HITS_133, "groove.mid": groove };
  const config = defaultConfig();
  config.parse.encoding = "drum-grid";
  config.window.length = 2;
  config.validation.count = 3;
  const began = performance.now();
  const out = await heldout.run(
    {
      dataset: entries(files),
      sample: [],
      vocab: buildVocab(["kick", "-", "snare"]),
    },
    config,
    fakeContext(files),
  );
  assert.ok(performance.now() - began < 2000, "the grids were refused before they were made");
  const byPath = Object.fromEntries(out["heldout.json"].map((r) => [r.path, r]));
  assert.deepEqual(byPath["far47.mid"], {
    path: "far47.mid",
    sha256: sha256Hex(FAR_HIT_47),
    error: "Drum grid too long: 268435456 quarter notes, over parse.maxQuarters (18000)",
  });
  assert.match(
    (byPath["far133.mid"] as { error: string }).error,
    /^Drum grid too long: 5033165 quarter notes/,
  );
  assert.deepEqual(byPath["groove.mid"], {
    path: "groove.mid",
    sha256: sha256Hex(groove),
    tokens: 5,
  });
  assert.equal(out["y.npy"].shape[0], 3, "groove.mid's 5 steps make 3 windows of 2");
  // The limit is the config's: 5 steps are 1.25 quarter notes.
  config.parse.maxQuarters = 1;
  const tight = await heldout.run(
    { dataset: entries({ "groove.mid": groove }), sample: [], vocab: buildVocab(["kick"]) },
    config,
    fakeContext(files),
  );
  assert.deepEqual(tight["heldout.json"][0], {
    path: "groove.mid",
    sha256: sha256Hex(groove),
    error: "Drum grid too long: 2 quarter notes, over parse.maxQuarters (1)",
  });
});

/** Kick, silence, hi-hat: three sixteenth steps ("kick", "-", "hihat-closed"). */
const hats = smf({ tracks: [events([0, 0x99, 36, 100], [240, 0x99, 42, 100])] });
/** A crash alone: one step. */
const crash = smf({ tracks: [events([0, 0x99, 49, 100])] });

Deno.test("heldout with the dataset's split: every validation and every test file, whole, as token-id sequences", async () => {
  const files = {
    "t1.mid": groove,
    "t2.mid": groove,
    "v1.mid": hats,
    "v2.mid": groove,
    "x1.mid": crash,
    "x2.mid": groove,
    "nosplit.mid": crash,
  };
  const split: Record<string, "train" | "validation" | "test"> = {
    "t1.mid": "train",
    "t2.mid": "train",
    "v1.mid": "validation",
    "v2.mid": "validation",
    "x1.mid": "test",
    "x2.mid": "test",
  };
  const dataset: FileEntry[] = entries(files).map((f) =>
    split[f.path] === undefined ? f : { ...f, split: split[f.path]! }
  );
  const config = defaultConfig();
  config.parse.encoding = "drum-grid";
  config.window.length = 2;
  // Ignored with a split: every validation file is taken.
  config.validation.count = 1;
  config.validation.seed = 99;
  const sample = dataset.filter((f) => f.split === "train");
  const vocab = buildVocab(["kick", "-", "snare", "-", "kick", "snare"], 2); // -, kick, snare, <unk>
  const ctx = fakeContext(files);
  const out = await heldout.run({ dataset, sample, vocab }, config, ctx);
  assert.deepEqual(out["heldout.json"].map((r) => r.path), ["v1.mid", "v2.mid"]);
  // hats: kick - hihat-closed (hihat-closed → <unk> = 3); groove: kick - snare - kick.
  assert.deepEqual(out["validation-sequences.json"], {
    paths: ["v1.mid", "v2.mid"],
    lengths: [3, 5],
    ids: [1, 0, 3, 1, 0, 2, 0, 1],
  });
  assert.deepEqual(out["test-sequences.json"], {
    paths: ["x1.mid", "x2.mid"],
    lengths: [1, 5],
    ids: [3, 1, 0, 2, 0, 1],
  });
  // The windows are cut from the validation files' tokens, <unk> numbered, none left out.
  assert.equal(out["y.npy"].shape[0], 8 - 2);
  assert.deepEqual([...out["y.npy"].data], [3, 1, 0, 2, 0, 1]);
  assert.equal(ctx.collected.metrics.validationUnknownSteps, 1);
  assert.equal(ctx.collected.metrics.testUnknownSteps, 1);
  assert.equal(ctx.collected.metrics.windowsLeftOut, 0);

  // Without <unk> (vocab.minCount 1), files holding a token the vocabulary lacks are left out of
  // the sequences, and said so; their windows are left out as before.
  const plain = buildVocab(["kick", "-", "snare"]);
  const ctx2 = fakeContext(files);
  const out2 = await heldout.run({ dataset, sample, vocab: plain }, config, ctx2);
  assert.deepEqual(out2["validation-sequences.json"].paths, ["v2.mid"]);
  assert.deepEqual(out2["test-sequences.json"], {
    paths: ["x2.mid"],
    lengths: [5],
    ids: [1, 0, 2, 0, 1],
  });
  assert.equal(ctx2.collected.metrics.testSequencesLeftOut, 1);

  // Tempos and primary styles from the split table travel with the files (a primer's, for
  // generate, render and generate.style).
  const timed = dataset.map((f) =>
    f.path === "x2.mid" ? { ...f, bpm: 96, style: "jazz/swing" } : f
  );
  const out3 = await heldout.run({ dataset: timed, sample, vocab }, config, fakeContext(files));
  assert.deepEqual(out3["test-sequences.json"].bpm, [null, 96]);
  assert.deepEqual(out3["test-sequences.json"].styles, [null, "jazz"]);
  assert.equal(out3["validation-sequences.json"].bpm, undefined, "no tempos: none written");
  assert.equal(out3["validation-sequences.json"].styles, undefined, "no styles: none written");
  assert.ok(
    ctx2.collected.infos.some((l) =>
      /^test-sequences\.json: 1 files, 5 steps; 1 of 6 steps unknown to the vocabulary; 1 files holding them left out/
        .test(l)
    ),
  );
});

Deno.test("heldout without a split writes empty sequences and draws validation.count files as before", async () => {
  const files = { "a.mid": groove, "b.mid": hats, "c.mid": crash };
  const config = defaultConfig();
  config.parse.encoding = "drum-grid";
  config.window.length = 2;
  config.validation.count = 2;
  const out = await heldout.run(
    { dataset: entries(files), sample: [], vocab: buildVocab(["kick", "-", "snare"]) },
    config,
    fakeContext(files),
  );
  assert.equal(out["heldout.json"].length, 2);
  assert.deepEqual(out["validation-sequences.json"], { paths: [], lengths: [], ids: [] });
  assert.deepEqual(out["test-sequences.json"], { paths: [], lengths: [], ids: [] });
});
