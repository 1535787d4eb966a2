/**
 * audio/synth.ts without a real fluidsynth: a stand-in script says its version and writes (or
 * fails to write) the audio; a small file stands in for the soundfont.
 */
import assert from "node:assert/strict";
import { sha256Hex } from "../core/hash.ts";
import { fluidsynth, soundfontDigest, SynthesisError } from "./synth.ts";

/** A temp folder for `work`, removed afterwards. */
function inTempDir(work: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "synth-test-" }));
    try {
      await work(dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  };
}

/** A file that starts like a SoundFont: RIFF, a size, `sfbk`. */
async function fakeSoundfont(dir: string, tail = "samples"): Promise<string> {
  const path = `${dir}/GM.sf2`;
  await Deno.writeFile(path, new TextEncoder().encode(`RIFF\u0000\u0000\u0000\u0000sfbk${tail}`));
  return path;
}

/** An executable shell script standing in for fluidsynth. */
async function fakeFluidsynth(dir: string, body: string): Promise<string> {
  const path = `${dir}/fluidsynth`;
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

const VERSION = 'if [ "$1" = --version ]; then echo "FluidSynth runtime version 9.8.7"; exit 0; fi';

Deno.test(
  "synth: the description names the version, the soundfont's real path and sha256, the settings",
  inTempDir(async (dir) => {
    const soundfont = await fakeSoundfont(dir);
    await Deno.symlink(soundfont, `${dir}/default.sf2`);
    const binary = await fakeFluidsynth(dir, VERSION);
    const d = await fluidsynth({ binary, soundfont: `${dir}/default.sf2`, cacheDir: null })
      .describe();
    assert.deepEqual(d, {
      available: true,
      program: "fluidsynth 9.8.7",
      soundfont,
      soundfontSha256: sha256Hex(await Deno.readFile(soundfont)),
      settings: "-T flac -O s16 -r 44100 -g 1",
    });
  }),
);

Deno.test(
  "synth: a file that is not a SoundFont, or a program that names no version, is unavailable",
  inTempDir(async (dir) => {
    const binary = await fakeFluidsynth(dir, VERSION);
    await Deno.writeTextFile(`${dir}/notes.txt`, "not a soundfont at all");
    assert.deepEqual(
      await fluidsynth({ binary, soundfont: `${dir}/notes.txt`, cacheDir: null }).describe(),
      {
        available: false,
        reason: `SOUNDFONT=${dir}/notes.txt: not a SoundFont (.sf2/.sf3) file`,
      },
    );
    const mute = await fakeFluidsynth(dir, "echo hello");
    const d = await fluidsynth({
      binary: mute,
      soundfont: await fakeSoundfont(dir),
      cacheDir: null,
    })
      .describe();
    assert.equal(d.available, false);
    assert.match((d as { reason: string }).reason, /--version names no FluidSynth version/);
  }),
);

Deno.test(
  "synth: the soundfont's digest is remembered by path, size and mtime",
  inTempDir(async (dir) => {
    const cacheDir = `${dir}/cache`;
    const soundfont = await fakeSoundfont(dir);
    const right = sha256Hex(await Deno.readFile(soundfont));
    assert.equal(await soundfontDigest(soundfont, cacheDir), right);
    const cacheFile = `${cacheDir}/soundfont-digests.json`;
    const cache = JSON.parse(await Deno.readTextFile(cacheFile));
    assert.equal(cache[soundfont].sha256, right);
    // What the cache says is believed while the file's size and mtime are unchanged...
    cache[soundfont].sha256 = "a".repeat(64);
    await Deno.writeTextFile(cacheFile, JSON.stringify(cache));
    assert.equal(await soundfontDigest(soundfont, cacheDir), "a".repeat(64));
    // ...and not once the file changes.
    await Deno.utime(soundfont, new Date(2001, 1, 1), new Date(2001, 1, 1));
    assert.equal(await soundfontDigest(soundfont, cacheDir), right);
    // A cache that cannot be read or written is passed over.
    await Deno.writeTextFile(cacheFile, "{ not json");
    assert.equal(await soundfontDigest(soundfont, cacheDir), right);
    assert.equal(await soundfontDigest(soundfont, `${cacheFile}/inside-a-file`), right);
  }),
);

Deno.test(
  "synth: fluidsynth's failures are SynthesisErrors in its words; its temp folder goes",
  inTempDir(async (dir) => {
    const soundfont = await fakeSoundfont(dir);
    const render = async (body: string) =>
      await fluidsynth({
        binary: await fakeFluidsynth(dir, `${VERSION}\n${body}`),
        soundfont,
        cacheDir: null,
      })
        .render(new Uint8Array([1, 2, 3]));
    // fluidsynth exits 0 when it cannot open its output file; so do these.
    await assert.rejects(
      render("exit 0"),
      (e) => e instanceof SynthesisError && /wrote no audio/.test(e.message),
    );
    await assert.rejects(
      render('echo "fluidsynth: error: boom" >&2'),
      (e) =>
        e instanceof SynthesisError &&
        /^fluidsynth failed \(exit status 0\): fluidsynth: error: boom$/.test(e.message),
    );
    await assert.rejects(render("exit 3"), /fluidsynth failed \(exit status 3\)/);
    // The output file is the argument after -F; the MIDI file is the last argument.
    const copy = 'while [ "$1" != -F ]; do shift; done; out="$2"; eval "mid=\\${$#}"; ';
    await assert.rejects(
      render(`${copy} cp "$mid" "$out"`),
      (e) => e instanceof SynthesisError && /3 bytes that are not FLAC/.test(e.message),
    );
    const flac = await render(
      `${copy} pwd > "${dir}/cwd.txt"; printf 'fLaC' > "$out"; cat "$mid" >> "$out"`,
    );
    assert.deepEqual([...flac], [0x66, 0x4c, 0x61, 0x43, 1, 2, 3]);
    // It ran in a temp folder of its own (out.flac and in.mid inside), removed afterwards.
    const cwd = (await Deno.readTextFile(`${dir}/cwd.txt`)).trim();
    assert.match(cwd, /deep-lstm-midi-synth-/);
    assert.equal(await Deno.stat(cwd).catch(() => undefined), undefined, `${cwd} is left behind`);
  }),
);

Deno.test(
  "synth: an aborted render stops fluidsynth",
  inTempDir(async (dir) => {
    const soundfont = await fakeSoundfont(dir);
    // exec: one process, as fluidsynth is (a child of the script would keep its pipes open).
    const binary = await fakeFluidsynth(dir, `${VERSION}\nexec sleep 30`);
    const abort = new AbortController();
    const started = performance.now();
    const rendering = fluidsynth({ binary, soundfont, cacheDir: null }).render(
      new Uint8Array(4),
      abort.signal,
    );
    setTimeout(() => abort.abort(), 100);
    await assert.rejects(rendering);
    assert.ok(performance.now() - started < 10_000, "the sleep was killed");
  }),
);
