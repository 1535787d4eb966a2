import assert from "node:assert/strict";
import { FormatError } from "./codec.ts";
import { fileList, parseReport } from "./files.ts";
import { npyCodec } from "./npy.ts";
import { tokenList, vocabulary } from "./tokens.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("tokenList reads a JSON list of strings and says what is wrong with anything else", () => {
  assert.deepEqual(tokenList.decode(tokenList.encode(["C4", "0.4.7"])), ["C4", "0.4.7"]);
  assert.equal(new TextDecoder().decode(tokenList.encode(["C4"])), '["C4"]');
  const cases: [Uint8Array, RegExp][] = [
    [bytes("not json"), /it is not UTF-8 JSON/],
    [new Uint8Array([0x5b, 0xff, 0x5d]), /it is not UTF-8 JSON/],
    [bytes('{"tokens": []}'), /should be a list of token strings, but it is not a list/],
    [bytes('["C4", 60]'), /should be a list of token strings, but item 1 is 60/],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => tokenList.decode(input),
      (e: Error) => e instanceof FormatError && message.test(e.message),
    );
  }
});

Deno.test("vocabulary wants unique token strings", () => {
  assert.deepEqual(vocabulary.decode(bytes('{"tokens":["A4","C4"]}')), { tokens: ["A4", "C4"] });
  assert.throws(() => vocabulary.decode(bytes('{"tokens":["C4","C4"]}')), /its tokens repeat/);
  assert.throws(() => vocabulary.decode(bytes("[]")), /it has no tokens list/);
});

Deno.test("fileList writes one entry a line and reads back only complete entries", () => {
  const files = [{ path: "a.mid", size: 3, sha256: "ab" }, {
    path: "b.mid",
    size: 4,
    sha256: "cd",
  }];
  const text = new TextDecoder().decode(fileList.encode(files));
  assert.equal(text, `[\n${JSON.stringify(files[0])},\n${JSON.stringify(files[1])}\n]\n`);
  assert.deepEqual(fileList.decode(fileList.encode(files)), files);
  assert.throws(
    () => fileList.decode(bytes('[{"path":"a.mid"}]')),
    /entry 0 is \{"path":"a\.mid"\}/,
  );
  assert.deepEqual(
    parseReport.decode(
      bytes('[{"path":"a","sha256":"x","tokens":3},{"path":"b","sha256":"y","error":"e"}]'),
    )
      .length,
    2,
  );
});

Deno.test("npyCodec checks the dtype and rank it was made for", () => {
  const x = npyCodec("float32", 3);
  const array = { dtype: "float32" as const, shape: [1, 2, 1], data: new Float32Array([0.5, 1]) };
  assert.deepEqual(x.decode(x.encode(array)), array);
  assert.throws(
    () => npyCodec("int32", 1).decode(x.encode(array)),
    /should be a 1-dimensional int32 \.npy array, but it is float32 of shape \[1, 2, 1\]/,
  );
  assert.throws(() => x.decode(bytes("nope")), FormatError);
});
