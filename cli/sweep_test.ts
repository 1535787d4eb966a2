import assert from "node:assert/strict";
import { UsageError } from "../core/errors.ts";
import { parseCli } from "./args.ts";
import { combinations, parseGrid } from "./sweep.ts";

Deno.test("parseGrid(): keys and their values, as written", () => {
  assert.deepEqual(parseGrid(["train.learningRate=0.001, 0.01", "generate.length=16"]), [
    { key: "train.learningRate", values: ["0.001", "0.01"] },
    { key: "generate.length", values: ["16"] },
  ]);
});

Deno.test("parseGrid(): a malformed, repeated or doubly given key is a usage error", () => {
  const cases: [string[], string[], RegExp][] = [
    [[], [], /sweep needs at least one --grid/],
    [["train.epochs"], [], /--grid train\.epochs: write it as section\.key=value1,value2/],
    [["=1,2"], [], /write it as section\.key=value1,value2/],
    [["train.epochs=1,,2"], [], /a value is empty/],
    [["train.epochs=1,2", "train.epochs=3"], [], /--grid train\.epochs is given twice/],
    [["train.epochs=1,2"], ["train.epochs=3"], /given to both --grid and --set/],
    [["train.epochs=1,2,1"], [], /the value 1 is listed twice/],
  ];
  for (const [grid, set, message] of cases) {
    assert.throws(
      () => parseGrid(grid, set),
      (e) => e instanceof UsageError && message.test(e.message),
    );
  }
});

Deno.test("combinations(): the cartesian product, the last key varying fastest", () => {
  assert.deepEqual(
    combinations([
      { key: "a.x", values: ["1", "2"] },
      { key: "b.y", values: ["p", "q", "r"] },
    ]),
    [
      ["a.x=1", "b.y=p"],
      ["a.x=1", "b.y=q"],
      ["a.x=1", "b.y=r"],
      ["a.x=2", "b.y=p"],
      ["a.x=2", "b.y=q"],
      ["a.x=2", "b.y=r"],
    ],
  );
  assert.deepEqual(combinations([{ key: "a.x", values: ["1"] }]), [["a.x=1"]]);
});

Deno.test("parseCli(): sweep's --grid and --jobs; compare takes any number of hashes", () => {
  const args = parseCli([
    "sweep",
    "-c",
    "quick.yaml",
    "--grid",
    "a.b=1,2",
    "--grid",
    "c.d=3",
    "-j",
    "2",
  ]);
  assert.equal(args.command, "sweep");
  assert.deepEqual(args.grid, ["a.b=1,2", "c.d=3"]);
  assert.equal(args.jobs, 2);
  assert.equal(parseCli(["sweep"]).jobs, undefined);
  for (const bad of ["0", "-1", "1.5", "many"]) {
    assert.throws(() => parseCli(["sweep", `--jobs=${bad}`]), /--jobs .*whole number ≥ 1/);
  }
  assert.deepEqual(parseCli(["compare", "a", "b", "c"]).rest, ["a", "b", "c"]);
  assert.throws(() => parseCli(["sweep", "extra"]), /sweep takes no arguments/);
});
