/**
 * Where a fused LSTM call spends its time, for bench/train_step_bench.ts. A profiler is handed
 * to the layers to be measured (FusedLstm's `profiler`); layers without one skip every clock
 * read beyond a few per call, so training pays nothing for the ability to profile.
 *
 * @module
 */
import type { Gemm } from "./gemm.ts";

/** Milliseconds spent in each part of the fused layers. */
export interface LstmProfile {
  /** Copying tensors in and out of tfjs (dataSync, tensor creation). */
  transfer: number;
  /** Matrix products (BLAS or the tfjs fallback). */
  gemm: number;
  /** Gate arithmetic of the forward pass. */
  gatesForward: number;
  /** Gate arithmetic of the backward pass (and the dropout mask on dh). */
  gatesBackward: number;
}

/** Accumulates an {@link LstmProfile} over every call of the layers it is given to. */
export class LstmProfiler implements LstmProfile {
  transfer = 0;
  gemm = 0;
  gatesForward = 0;
  gatesBackward = 0;

  /** Starts again from zero. */
  reset(): void {
    this.transfer =
      this.gemm =
      this.gatesForward =
      this.gatesBackward =
        0;
  }

  /** The totals so far, as a plain object. */
  snapshot(): LstmProfile {
    const { transfer, gemm, gatesForward, gatesBackward } = this;
    return { transfer, gemm, gatesForward, gatesBackward };
  }

  /** `gemm` with its time added to {@link LstmProfiler.gemm}. */
  timed(gemm: Gemm): Gemm {
    return (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
      const t0 = performance.now();
      gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      this.gemm += performance.now() - t0;
    };
  }
}
