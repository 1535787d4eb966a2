import assert from "node:assert/strict";
import { defaultConfig } from "../core/config_schema.ts";
import { sha256Hex } from "../core/hash.ts";
import { events, smf } from "../tests/_smf.ts";
import { FAR_HIT_47, FAR_HITS_133 } from "../tests/_long_grid.ts";
import { fakeContext } from "../tests/_helpers.ts";
import { buildVocab } from "./vocab.ts";
import { heldout } from "./heldout.ts";

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
