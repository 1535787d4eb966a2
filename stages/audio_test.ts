import assert from "node:assert/strict";
import { StageInputError } from "../core/stage.ts";
import { flacInfo, synthEnvironment } from "./audio.ts";

/** A FLAC header: STREAMINFO for `rate` Hz, `channels`, `bits`, `samples`, then a vendor string. */
function flacHeader(rate: number, channels: number, bits: number, samples: number, vendor: string) {
  const info = new Uint8Array(34);
  info[10] = rate >> 12;
  info[11] = (rate >> 4) & 0xff;
  info[12] = ((rate & 0xf) << 4) | ((channels - 1) << 1) | ((bits - 1) >> 4);
  info[13] = (((bits - 1) & 0xf) << 4) | Math.floor(samples / 2 ** 32);
  new DataView(info.buffer).setUint32(14, samples % 2 ** 32);
  const v = new TextEncoder().encode(vendor);
  const comment = new Uint8Array(8 + v.length);
  new DataView(comment.buffer).setUint32(0, v.length, true);
  comment.set(v, 4);
  return new Uint8Array([
    ...new TextEncoder().encode("fLaC"),
    ...[0x00, 0, 0, 34],
    ...info,
    ...[0x84, 0, 0, comment.length],
    ...comment,
  ]);
}

Deno.test("flacInfo reads STREAMINFO (a 36-bit sample count) and the encoder's vendor string", () => {
  const info = flacInfo(flacHeader(44100, 2, 16, 5647232, "reference libFLAC 1.4.2 20221022"));
  assert.deepEqual(info, {
    sampleRate: 44100,
    channels: 2,
    bitsPerSample: 16,
    samples: 5647232,
    seconds: 5647232 / 44100,
    vendor: "reference libFLAC 1.4.2 20221022",
  });
  assert.equal(flacInfo(flacHeader(96000, 1, 24, 2 ** 33 + 5, "x")).samples, 2 ** 33 + 5);
});

Deno.test("flacInfo: bytes that are not FLAC are the stage's input error", () => {
  for (const bytes of [new Uint8Array(0), new TextEncoder().encode("RIFF....WAVEfmt ")]) {
    assert.throws(() => flacInfo(bytes), StageInputError);
  }
});

Deno.test("the key says synth: none without a synthesizer, and names all that makes the bytes with one", () => {
  assert.deepEqual(synthEnvironment({ available: false, reason: "not installed" }), {
    synth: "none",
  });
  assert.deepEqual(
    synthEnvironment({
      available: true,
      program: "fluidsynth 2.3.1",
      soundfont: "/usr/share/sounds/sf2/FluidR3_GM.sf2",
      soundfontSha256: "ab".repeat(32),
      settings: "-T flac",
    }),
    { synth: "fluidsynth 2.3.1", soundfont: "ab".repeat(32), settings: "-T flac" },
  );
});
