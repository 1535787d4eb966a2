/**
 * The humanizer's files: `humanizer.json`, its layout and weights (base64 of little-endian
 * float32, in model/humanizer/humanize_step.js's order), or `null` for a run without one
 * (`humanize.epochs: 0`); and `scores.json`, what training measured.
 *
 * JSON so that the report page can carry the model as it is and the `humanize` command can read
 * it from the store with no tfjs; the layout is checked where it is decoded, so a model file
 * from elsewhere is refused in one sentence instead of playing garbage.
 *
 * @module
 */
import { type Codec, FormatError, jsonCodec } from "./codec.ts";
import {
  type HumanizerLayout,
  type HumanizerModel,
  weightShapes,
} from "../model/humanizer/humanize_step.js";
import type { HumanizeErrors } from "../model/humanizer/scoring.ts";

interface StoredHumanizer {
  layout: HumanizerLayout;
  weights: string[];
}

const json = jsonCodec<StoredHumanizer | null>(
  "a humanizer ({layout, weights}) or null",
  (value) => {
    if (value === null) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) return "it is not an object";
    const { layout, weights } = value as Partial<StoredHumanizer>;
    const problem = layoutProblem(layout);
    if (problem !== undefined) return problem;
    if (!Array.isArray(weights) || weights.some((w) => typeof w !== "string")) {
      return "its weights are not a list of base64 strings";
    }
    return undefined;
  },
);

/** What is wrong with a stored layout, or undefined. */
function layoutProblem(layout: unknown): string | undefined {
  if (typeof layout !== "object" || layout === null) return "it has no layout";
  const l = layout as Record<string, unknown>;
  const counts = [
    "drums",
    "context",
    "stepsPerBar",
    "stepsPerQuarter",
    "hidden",
    "velocityClasses",
    "offsetClasses",
  ];
  for (const key of counts) {
    const v = l[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v < (key === "context" ? 0 : 1)) {
      return `its layout's ${key} is ${JSON.stringify(v)}`;
    }
  }
  if (typeof l.offsetMin !== "number" || !Number.isInteger(l.offsetMin)) {
    return `its layout's offsetMin is ${JSON.stringify(l.offsetMin)}`;
  }
  if (!Array.isArray(l.styles) || l.styles.some((s) => typeof s !== "string")) {
    return "its layout's styles are not a list of names";
  }
  if ((l.drums as number) > 16) return `its layout has ${l.drums} drums (at most 16)`;
  // Offsets are 96ths of a quarter note: a step must be a whole number of them, and a bar 4/4.
  const steps = l.stepsPerQuarter as number;
  if (96 % steps !== 0) return `its layout's stepsPerQuarter ${steps} does not divide 96`;
  if (l.stepsPerBar !== 4 * steps) {
    return `its layout's stepsPerBar is ${l.stepsPerBar}, not 4 × stepsPerQuarter`;
  }
  return undefined;
}

function toBase64(w: Float32Array): string {
  const bytes = new Uint8Array(w.length * 4);
  const view = new DataView(bytes.buffer);
  w.forEach((x, i) => view.setFloat32(i * 4, x, true));
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function fromBase64(s: string, length: number, index: number): Float32Array {
  let raw: string;
  try {
    raw = atob(s);
  } catch {
    throw new FormatError(`it should be a humanizer, but weight ${index} is not base64`);
  }
  if (raw.length !== length * 4) {
    throw new FormatError(
      `it should be a humanizer, but weight ${index} holds ${raw.length / 4} numbers where ` +
        `its layout needs ${length}`,
    );
  }
  const view = new DataView(Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer);
  return Float32Array.from({ length }, (_, i) => view.getFloat32(i * 4, true));
}

/** The codec of `humanizer.json`. */
export const humanizerModel: Codec<HumanizerModel | null> = {
  what: "a humanizer ({layout, weights}) or null",
  encode: (model) =>
    json.encode(
      model === null ? null : {
        layout: model.layout,
        weights: model.weights.map(toBase64),
      },
    ),
  decode(bytes) {
    const stored = json.decode(bytes);
    if (stored === null) return null;
    const shapes = weightShapes(stored.layout);
    if (stored.weights.length !== shapes.length) {
      throw new FormatError(
        `it should be a humanizer, but it has ${stored.weights.length} weights, not ${shapes.length}`,
      );
    }
    const weights = stored.weights.map((w, i) =>
      fromBase64(w, shapes[i]!.reduce((a, b) => a * b, 1), i)
    );
    return { layout: stored.layout, weights };
  },
};

/** `scores.json`: training's course and the errors on the validation and test splits. */
export interface HumanizerScores {
  epochs: { epoch: number; loss: number; validationLoss: number }[];
  bestEpoch: number;
  /** Per split: the humanizer's errors and the two baselines'. */
  splits: Record<
    "validation" | "test",
    { humanizer: HumanizeErrors; quantized: HumanizeErrors; template: HumanizeErrors }
  >;
}

/** The codec of `scores.json` (null for a run without a humanizer). */
export const humanizerScores: Codec<HumanizerScores | null> = jsonCodec<HumanizerScores | null>(
  "the humanizer's scores or null",
  (value) =>
    value === null ||
      (typeof value === "object" && Array.isArray((value as HumanizerScores).epochs) &&
        typeof (value as HumanizerScores).splits === "object")
      ? undefined
      : "it has no epochs or splits",
  (value) => JSON.stringify(value, null, 1),
);
