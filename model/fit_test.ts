import assert from "node:assert/strict";
import { epochOrder } from "./fit.ts";

Deno.test("epochOrder() shuffles each epoch differently, repeatably from the seed", () => {
  assert.deepEqual(epochOrder(10, true, 1, 1), epochOrder(10, true, 1, 1));
  assert.notDeepEqual(epochOrder(10, true, 1, 1), epochOrder(10, true, 1, 2));
  assert.notDeepEqual(epochOrder(10, true, 1, 1), epochOrder(10, true, 2, 1));
  assert.deepEqual(
    [...epochOrder(10, true, 1, 1)].sort((a, b) => a - b),
    epochOrder(10, false, 1, 1),
  );
  assert.deepEqual(epochOrder(4, false, 1, 1), [0, 1, 2, 3]);
});
