import assert from "node:assert/strict";
import { isConfigHash, isDigest, isOutputName, isRelativeName, quoteName } from "./names.ts";
import { keyEntryProblem, outputsProblem, runRecordProblem } from "./records.ts";

const DIGEST = "ab".repeat(32);
const TRAVERSAL = ["../../victim", "..", ".", "", "/tmp", "a/b", "a\u0000b", "\u001b[2J", "x\n"];

const record = () => ({
  configHash: "0123456789abcdef",
  finishedAt: "2026-12-07T20:18:11.123Z",
  status: "ok",
  config: {},
  metrics: {},
  stages: { scan: { key: DIGEST, outputs: { "files.json": DIGEST } } },
});

const entry = () => ({
  stage: "scan",
  outputs: { "files.json": DIGEST },
  components: { dataset: DIGEST },
  metrics: {},
  warnings: [],
});

Deno.test("names: a digest, a config hash and an output name have one exact shape each", () => {
  assert.ok(isDigest(DIGEST) && !isDigest(DIGEST.toUpperCase()) && !isDigest(`${DIGEST}0`));
  assert.ok(isConfigHash("0123456789abcdef") && !isConfigHash("0123456789abcde"));
  assert.ok(isOutputName("generated.mid") && isRelativeName("best/model.json"));
  for (const bad of [...TRAVERSAL, ".hidden", "x".repeat(129), 7, null]) {
    assert.ok(!isDigest(bad) && !isConfigHash(bad) && !isOutputName(bad), String(bad));
  }
  for (const bad of ["best/../x", "/abs", "a//b", "best/"]) assert.ok(!isRelativeName(bad), bad);
});

Deno.test("names: a name shown in a message cannot drive the terminal or flood it", () => {
  const shown = quoteName("\u001b]0;TITLE\u0007\u009b2J" + "x".repeat(500));
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(shown, /[\u0000-\u001f\u007f-\u009f]/);
  assert.ok(shown.length < 120);
});

Deno.test("records: a run record whose names are paths is refused, saying which name", () => {
  assert.equal(runRecordProblem(record()), undefined);
  for (const bad of TRAVERSAL) {
    assert.match(
      runRecordProblem({ ...record(), configHash: bad })!,
      /configHash .* is not a config hash/,
    );
    const stages = { scan: { key: bad, outputs: {} } };
    assert.match(runRecordProblem({ ...record(), stages })!, /stage scan has no stage key/);
    const outputs = { scan: { key: DIGEST, outputs: { [bad]: DIGEST } } };
    assert.match(runRecordProblem({ ...record(), stages: outputs })!, /is not an output name/);
    const digests = { scan: { key: DIGEST, outputs: { "x.json": bad } } };
    assert.match(runRecordProblem({ ...record(), stages: digests })!, /is not a digest/);
    assert.match(
      runRecordProblem({ ...record(), interrupted: { stage: "train", key: bad } })!,
      /interrupted/,
    );
  }
  assert.match(runRecordProblem({ ...record(), finishedAt: "../x" })!, /finishedAt/);
  assert.match(runRecordProblem([])!, /not a JSON object/);
});

Deno.test("records: a key entry whose digests are paths is refused; nested names only for work in progress", () => {
  assert.equal(keyEntryProblem(entry()), undefined);
  for (const bad of TRAVERSAL) {
    assert.match(keyEntryProblem({ ...entry(), outputs: { "x.json": bad } })!, /not a digest/);
    assert.match(keyEntryProblem({ ...entry(), stage: bad })!, /not a stage name/);
    assert.match(keyEntryProblem({ ...entry(), components: { dataset: bad } })!, /dataset/);
  }
  assert.match(outputsProblem({ "best/model.json": DIGEST })!, /not an output name/);
  assert.equal(outputsProblem({ "best/model.json": DIGEST }, true), undefined);
  assert.match(outputsProblem({ "../x": DIGEST }, true)!, /not an output name/);
});
