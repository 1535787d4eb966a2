import { selectBackend } from "./model/backend.ts";
import { resolveLstm } from "./model/lstm_implementation.ts";
import { fitSequenceModel, DEFAULT_SEQUENCE_FIT } from "./model/sequence/fit.ts";
import { grooveTokenIds } from "./bench/groove_export.ts";
const data = await grooveTokenIds("data/groove");
const { backend } = await selectBackend("auto");
const lstm = resolveLstm("auto", backend);
const files = data.train.map((f) => Int32Array.from(f));
for (const [crop, batch] of [[128, 32], [256, 16]]) {
  const fit = await fitSequenceModel({ files, vocabSize: data.unk + 1, stepsPerBar: 16 }, [], {
    ...DEFAULT_SEQUENCE_FIT, cropLength: crop, batchSize: batch, epochs: 1, lstm,
  });
  console.log(`gemm ${Deno.env.get("EXP_GEMM") ?? "off"} crop ${crop} batch ${batch}: ${(1000 * fit.secondsPerEpoch[0]! / fit.stepsPerEpoch[0]!).toFixed(1)} ms/step, ${fit.stepsPerEpoch[0]} steps`);
}
console.log(`optimizer total ${((globalThis as unknown as { OPT: number }).OPT / (91 + 114)).toFixed(1)} ms/step`);
