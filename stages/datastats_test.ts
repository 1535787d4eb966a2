import assert from "node:assert/strict";
import { defaultConfig } from "../formats/config_schema.ts";
import { sha256Hex } from "../core/hash.ts";
import { pieceFromMidi } from "../metrics/midi_piece.ts";
import { events, smf } from "../tests/_smf.ts";
import { tokenizeMidi } from "../music/tokenize.ts";
import { fakeContext } from "../tests/_helpers.ts";
import { datastats } from "./datastats.ts";

/** Two notes, C4 then D4: music21 and @tonejs/midi both read it. */
const good = smf({
  tracks: [events([0, 0x90, 60, 90], [480, 0x80, 60, 0], [0, 0x90, 62, 90], [480, 0x80, 62, 0])],
});
/**
 * The same notes, the first without its status byte: music21 takes running status as note-on
 * (`90`) where none came before, but @tonejs/midi throws a string, "Unrecognised MIDI event
 * type: 0".
 */
const damaged = smf({
  tracks: [events([0, 60, 90], [480, 0x80, 60, 0], [0, 0x90, 62, 90], [480, 0x80, 62, 0])],
});

Deno.test("datastats warns with @tonejs/midi's own reason for a file it cannot read, not undefined", async () => {
  assert.deepEqual(tokenizeMidi(damaged), ["C4", "D4"], "parse reads the damaged file");
  const files = { "damaged.mid": damaged, "good.mid": good };
  const ctx = fakeContext(files);
  const report = Object.entries(files).map(([path, bytes]) => ({
    path,
    sha256: sha256Hex(bytes),
    tokens: 2,
  }));
  const out = await datastats.run(
    {
      notes: ["C4", "D4", "C4", "D4"],
      report,
      encoding: { encoding: "music21", stepsPerQuarter: 4, velocity: "off" },
    },
    { render: defaultConfig().render },
    ctx,
  );
  assert.deepEqual(ctx.collected.warnings, [
    "cannot measure the notes of damaged.mid (Unrecognised MIDI event type: 0)",
  ]);
  assert.equal(out["data_stats.json"].files, 1, "good.mid is measured");
  // pieceFromMidi throws an Error, as it says, whatever @tonejs/midi threw.
  assert.throws(() => pieceFromMidi(damaged), {
    name: "Error",
    message: "Unrecognised MIDI event type: 0",
  });
});
