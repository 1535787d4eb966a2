/**
 * The report page in a real browser: a small run writes `<store>/runs/<hash>/report.html`;
 * headless Chromium opens it from file:// (no network) and must log nothing to the console, find
 * both pictures (loss curves, piano roll) laid out, and load the audio player's metadata with the
 * FLAC file's own duration. A cached rerun writes the page again.
 *
 * Needs Chromium (`/usr/bin/chromium`, or the path in $CHROMIUM) and, for the player, fluidsynth
 * with a soundfont; without Chromium the test is skipped, without fluidsynth the player check is,
 * and each says why.
 */
import assert from "node:assert/strict";
import { pipeline, SMALL_RUN } from "./_helpers.ts";
import { consoleLines, headless, skipWithoutChromium } from "./_chromium.ts";

const skipped = skipWithoutChromium("report page test");

/** Seconds of audio a FLAC file holds, from its STREAMINFO block. */
function flacSeconds(bytes: Uint8Array): number {
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), "fLaC");
  const info = new DataView(bytes.buffer, bytes.byteOffset + 8, 34);
  const packed = info.getBigUint64(10); // 20 bits rate, 3 channels, 5 depth, 36 samples
  const rate = Number(packed >> 44n);
  const samples = Number(packed & ((1n << 36n) - 1n));
  return samples / rate;
}

Deno.test({
  name: "report page: written by a run, opens from file:// with pictures drawn and audio loaded",
  ignore: skipped,
  fn: async () => {
    const store = await Deno.makeTempDir({ prefix: "report-page-" });
    // Two pieces (generate.count): the page shows the second below the first.
    const args = [
      ...SMALL_RUN,
      "--set",
      "generate.length=16",
      "--set",
      "generate.count=2",
      "--store",
      store,
    ];
    const run = await pipeline(...args);
    assert.equal(run.code, 0, run.stderr);
    const hash = /config hash ([0-9a-f]{16})/.exec(run.stdout)![1]!;
    const page = `${store}/runs/${hash}/report.html`;
    assert.match(run.stdout, new RegExp(`\\n {2}report {11}${page}\\n`));

    const flac = await Deno.readFile(`${store}/out/${hash}/generated.flac`).catch(() => undefined);
    const html = await Deno.readTextFile(page);
    for (const name of ["generated.mid", "piano_roll.svg", "loss.svg", "piece-02.mid"]) {
      assert.ok((await Deno.stat(`${store}/runs/${hash}/report/${name}`)).size > 0, name);
    }
    assert.match(html, /<a href="report\/generated\.mid" download>/);
    assert.match(html, /<th scope="row"><code>generate\.length<\/code><\/th><td>16<\/td>/);
    assert.match(html, /<th scope="row"><code>train<\/code><\/th><td><span class="status ran">/);
    assert.match(html, /<code>distinct_tokens<\/code>/);

    const shown = await headless(`file://${page}`, ["--virtual-time-budget=5000", "--dump-dom"]);
    assert.equal(shown.code, 0, shown.log);
    assert.deepEqual(consoleLines(shown.log), [], "the page logs nothing to the console");
    const body = /<body[^>]*>/.exec(shown.dom)?.[0] ?? "";
    assert.match(body, /data-svgs="3"/, "the loss curves and both pieces' piano rolls");
    assert.match(body, /data-svgs-drawn="3"/, body);
    assert.match(body, /data-images-drawn="(\d+)"/);
    assert.equal(
      /data-images="(\d+)"/.exec(body)?.[1],
      /data-images-drawn="(\d+)"/.exec(body)?.[1],
    );

    if (flac === undefined) {
      console.log(
        "report page test: the audio player check SKIPPED: the run made no audio (fluidsynth or " +
          "its soundfont is missing; set FLUIDSYNTH and SOUNDFONT or install fluidsynth)",
      );
      assert.match(html, /no audio: fluidsynth was not installed/);
      assert.doesNotMatch(html, /<audio/);
    } else {
      assert.match(html, /<audio controls preload="metadata" src="report\/generated\.flac">/);
      assert.doesNotMatch(body, /data-audio-error/);
      const duration = Number(/data-audio-duration="([\d.]+)"/.exec(body)?.[1]);
      const expected = flacSeconds(flac);
      // 16 tokens half a beat apart at 120 bpm, a second's tail and the synthesizer's release.
      assert.ok(expected > 4 && expected < 15, `the audio lasts ${expected} s`);
      assert.ok(Math.abs(duration - expected) < 0.05, `player ${duration} s, file ${expected} s`);
      // The second piece has its own player, and it loads too.
      assert.match(html, /<audio controls preload="metadata" src="report\/piece-02\.flac">/);
      const second = flacSeconds(await Deno.readFile(`${store}/runs/${hash}/report/piece-02.flac`));
      const durations = /data-audio-durations="([\d.,]+)"/.exec(body)?.[1]?.split(",").map(Number);
      assert.equal(durations?.length, 2, body);
      assert.ok(
        Math.abs(durations![1]! - second) < 0.05,
        `piece 2: ${durations![1]} s, ${second} s`,
      );
    }

    // A cached rerun writes the page again.
    await Deno.remove(page);
    const again = await pipeline(...args, "--quiet");
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /everything cached/);
    assert.match(again.stdout, new RegExp(`\\n {2}report {11}${page}\\n`));
    assert.match(
      await Deno.readTextFile(page),
      /<th scope="row"><code>train<\/code><\/th><td><span class="status ok">cached/,
    );
  },
});
