/**
 * The error model/ throws when a setting cannot be honoured on this machine (a tfjs backend or
 * an LSTM implementation that does not load, a network too big for memory). Its message is one
 * sentence that names the setting and the fix, written for the user; model/ knows nothing of the
 * pipeline, so the stages that call it turn a ModelError into their own input error.
 *
 * @module
 */

/** A setting this machine cannot honour, explained in one sentence with the fix. */
export class ModelError extends Error {
  override name = "ModelError";
}
