import assert from "node:assert/strict";
import { selectStages, topologicalOrder } from "./dag.ts";
import { text } from "../formats/codec.ts";
import { input, type Stage } from "./stage.ts";

const stage = (name: string, from: string[] = []): Stage => ({
  name,
  module: `stages/${name}.ts`,
  description: name,
  inputs: Object.fromEntries(from.map((s) => [s, input(s, "out.txt", text)])),
  outputs: { "out.txt": text },
  reads: [],
  run: () => Promise.resolve({ "out.txt": name }),
});
const names = (stages: Stage[]) => stages.map((s) => s.name);

Deno.test("topologicalOrder() puts every stage after its inputs, keeping declaration order where free", () => {
  const order = topologicalOrder([stage("c", ["b"]), stage("a"), stage("b", ["a"]), stage("d")]);
  assert.deepEqual(names(order), ["a", "b", "c", "d"]);
});

Deno.test("topologicalOrder() names a stage declared twice, an undeclared input and a cycle", () => {
  assert.throws(
    () => topologicalOrder([stage("a"), stage("a")]),
    /Cannot build the DAG: stage a is declared twice/,
  );
  assert.throws(
    () => topologicalOrder([stage("a", ["ghost"])]),
    /Cannot build the DAG: stage a reads ghost, which is not declared/,
  );
  assert.throws(
    () => topologicalOrder([stage("a", ["c"]), stage("b", ["a"]), stage("c", ["b"])]),
    /Cannot build the DAG: cycle a → c → b → a/,
  );
});

Deno.test("selectStages() keeps a stage and what it needs, and refuses an unknown name", () => {
  const dag = [
    stage("a"),
    stage("b", ["a"]),
    stage("x"),
    stage("c", ["b", "x"]),
    stage("d", ["c"]),
  ];
  assert.deepEqual(names(selectStages(dag, "c")), ["a", "b", "x", "c"]);
  assert.deepEqual(names(selectStages(dag)), ["a", "b", "x", "c", "d"]);
  assert.throws(() => selectStages(dag, "e"), /no stage is named e/);
});
