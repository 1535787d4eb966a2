/**
 * The buffers of one fused LSTM call, shared by the two implementations of its per-step loop
 * (the C loops of model/fused/lstm_native.ts and the JS loops of model/fused/lstm_js_gates.ts), and a pool
 * that reuses them: a training step needs ~20 MB of gate and state buffers per layer, and
 * allocating them afresh zero-fills that memory on every call.
 *
 * Layouts are row-major and batch-major: step t of batch row b of a [B, T, n] buffer starts at
 * (b·T + t)·n. Gates come in Keras's order i, f, c, o, each U wide.
 *
 * @module
 */

/** Sizes and flags of one layer call. */
export interface LstmShape {
  /** Batch rows, time steps, units. */
  B: number;
  T: number;
  U: number;
  /** Hard-sigmoid gates (tfjs's default) instead of sigmoid. */
  hard: boolean;
  /** Whether the output holds every step's h ([B, T, U]) or the last one ([B, U]). */
  returnSequences: boolean;
}

/** What the forward recurrence reads and writes. */
export interface ForwardPass extends LstmShape {
  /** Recurrent kernel [U, 4U]. */
  r: Float32Array;
  /** Bias [4U]. */
  bias: Float32Array;
  /** In: the input projections X·W; out: the gate activations. [B·T, 4U]. */
  g: Float32Array;
  /** Cell states c_t: [B, T, U]. */
  c: Float32Array;
  /** tanh(c_t): [B, T, U]. */
  tc: Float32Array;
  /** The masked previous state mask ⊙ h_{t-1}, zero at t = 0: [B, T, U]. */
  p: Float32Array;
  /** The layer's output. */
  out: Float32Array;
  /** Recurrent dropout mask [B, U] (already scaled), or null for none. */
  mask: Float32Array | null;
}

/** What the backward recurrence reads and writes. */
export interface BackwardPass extends LstmShape {
  r: Float32Array;
  /** Scratch for Rᵀ, [4U, U]. */
  rT: Float32Array;
  /** In: the gate activations; out: the gradients of the pre-activations (dZ). */
  g: Float32Array;
  c: Float32Array;
  tc: Float32Array;
  /** Gradient of the output, shaped as the output. */
  dy: Float32Array;
  /** Running recurrent gradients dh and dc: [B, U]. */
  dh: Float32Array;
  dc: Float32Array;
  mask: Float32Array | null;
}

/** The scratch buffers of one call; see {@link ForwardPass} for what each holds. */
export interface Workspace {
  key: string;
  g: Float32Array;
  c: Float32Array;
  tc: Float32Array;
  p: Float32Array;
  /** Views of `p` and `g` starting at time step t of batch row 0, made once per workspace. */
  pAt: Float32Array[];
  gAt: Float32Array[];
  dh: Float32Array;
  dc: Float32Array;
  /** Ones [B·T], for the bias gradient as a product. */
  ones: Float32Array;
  rT: Float32Array;
}

/**
 * A small free list of workspaces for one layer. A forward pass takes a workspace and its
 * backward pass gives it back; a forward pass without backward (inference) just drops it.
 */
export class WorkspacePool {
  #free: Workspace[] = [];

  take(b: number, t: number, u: number): Workspace {
    const key = `${b}x${t}x${u}`;
    const i = this.#free.findIndex((w) => w.key === key);
    if (i >= 0) return this.#free.splice(i, 1)[0]!;
    const g = new Float32Array(b * t * 4 * u);
    const p = new Float32Array(b * t * u);
    const pAt: Float32Array[] = [];
    const gAt: Float32Array[] = [];
    for (let s = 0; s < t; s++) {
      pAt.push(p.subarray(s * u));
      gAt.push(g.subarray(s * 4 * u));
    }
    return {
      key,
      g,
      c: new Float32Array(b * t * u),
      tc: new Float32Array(b * t * u),
      p,
      pAt,
      gAt,
      dh: new Float32Array(b * u),
      dc: new Float32Array(b * u),
      ones: new Float32Array(b * t).fill(1),
      rT: new Float32Array(4 * u * u),
    };
  }

  give(w: Workspace): void {
    if (this.#free.length < 2) this.#free.push(w);
  }
}
