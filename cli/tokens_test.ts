import assert from "node:assert/strict";
import { SLOW_SHAPES } from "../tests/_slow_shapes.ts";
import { tokenizeMidi } from "../music/tokenize.ts";
import { MAX_FILE_BYTES } from "./tokens.ts";

const ROOT = new URL("../", import.meta.url);
const GOOD = "../shared/references/music21/synthetic/a1_vel0_is_off.mid";
const BAD = "../shared/references/music21/synthetic/n3_truncated_track_raises.mid";

async function tokensCli(...args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "cli/tokens.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    // A read that hangs (a FIFO) fails the test instead of stopping the suite.
    signal: AbortSignal.timeout(30_000),
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

Deno.test("tokens prints one JSON object of every path, exiting 1 when a file fails", async () => {
  const { code, stdout } = await tokensCli(GOOD, BAD, "no/such/file.mid");
  assert.equal(code, 1);
  const report = JSON.parse(stdout);
  assert.deepEqual(Object.keys(report), [GOOD, BAD, "no/such/file.mid"]);
  assert.deepEqual(report[GOOD], ["C4", "D4"]);
  assert.match(report[BAD].error, /^Cannot read MIDI: .*MTrk/);
  assert.equal(report["no/such/file.mid"].error, "Cannot read no/such/file.mid: no such file");
});

Deno.test("tokens exits 0 when every file parses", async () => {
  const { code, stdout } = await tokensCli(GOOD);
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(stdout), { [GOOD]: ["C4", "D4"] });
});

Deno.test("tokens prints a usage line and exits 2 without arguments", async () => {
  const { code, stdout, stderr } = await tokensCli();
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(stderr, /^usage: deno task tokens \[--encoding music21\|drum-grid\] FILE\.mid/);
});

Deno.test("the tokens CLI refuses a file over 16 MiB and still prints the others", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tokens-limit-" });
  const huge = `${dir}/huge.mid`;
  const small = `${dir}/small.mid`;
  await Deno.writeFile(huge, SLOW_SHAPES.programs(MAX_FILE_BYTES + 100));
  const smallBytes = SLOW_SHAPES.notes(100);
  await Deno.writeFile(small, smallBytes);
  const { code, stdout } = await tokensCli(huge, small);
  await Deno.remove(dir, { recursive: true });
  assert.equal(code, 1);
  const report = JSON.parse(stdout);
  assert.match(report[huge].error, /over the limit of 16777216 bytes \(16 MiB/);
  assert.deepEqual(report[small], tokenizeMidi(smallBytes));
});

Deno.test("tokens --encoding drum-grid prints the drum grid's steps; a wrong encoding is a usage error", async () => {
  const groove = "data/groove/drummer1/session1/1_funk_80_beat_4-4.mid";
  const { code, stdout } = await tokensCli("--encoding", "drum-grid", groove);
  assert.equal(code, 0);
  const tokens: string[] = JSON.parse(stdout)[groove];
  assert.ok(tokens.includes("hihat-closed+kick") && tokens.includes("-"), tokens.join(" "));
  const wrong = await tokensCli("--encoding", "midi", groove);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--encoding takes music21 or drum-grid \(found midi\)/);
});

Deno.test("tokens refuses a FIFO, a folder, /dev/zero and a symlink to it, unread, one sentence each", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tokens-special-" });
  const { success } = await new Deno.Command("mkfifo", { args: [`${dir}/fifo.mid`] }).output();
  assert.ok(success, "mkfifo");
  await Deno.mkdir(`${dir}/folder.mid`);
  await Deno.symlink("/dev/zero", `${dir}/zero.mid`);
  const cases: [string, string][] = [
    // The FIFO first: read as a file it blocks, and the timeout fails the test.
    [`${dir}/fifo.mid`, "a FIFO"],
    [`${dir}/folder.mid`, "a folder"],
    [`${dir}/zero.mid`, "a character device"],
    ["/dev/zero", "a character device"],
  ];
  for (const [path, kind] of cases) {
    const t0 = performance.now();
    const { code, stdout } = await tokensCli(path, GOOD);
    assert.equal(code, 1, path);
    const report = JSON.parse(stdout);
    assert.equal(
      report[path].error,
      `Cannot read ${path}: it is not a regular file (it is ${kind}); give a MIDI file`,
    );
    assert.deepEqual(report[GOOD], ["C4", "D4"], "the other files are still tokenized");
    assert.ok(performance.now() - t0 < 20_000, `${path} took ${performance.now() - t0} ms`);
  }
  await Deno.remove(dir, { recursive: true });
});
