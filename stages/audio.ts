/**
 * The audio stage: the generated piece as something to listen to, `generated.flac`, rendered from
 * render's `generated.mid` by the pipeline's synthesizer (fluidsynth with a General MIDI soundfont,
 * audio/synth.ts).
 *
 * The synthesizer's version, its soundfont's sha256 and its settings are in the key, so audio
 * made by another synthesizer or soundfont is never reused, and where none is installed the key
 * says `synth: none`: the stage writes an empty `generated.flac` with one warning, the run goes
 * on, and installing fluidsynth later makes the stage run again.
 *
 * @module
 */
import {
  defineStage,
  input,
  StageInputError,
  type SynthDescription,
  SynthesisError,
  type Synthesizer,
} from "../core/stage.ts";
import { rawBytes } from "../formats/codec.ts";
import { type Bundle, bundle } from "../formats/bundle.ts";

/**
 * The audio stage, keyed by what `synthesizer` describes and rendering with it: the one
 * synthesizer of the pipeline (pipeline.ts passes audio/synth.ts's `systemSynthesizer()`), given
 * once, so the key always names what made the bytes.
 */
export function audioStage(synthesizer: Synthesizer) {
  return defineStage({
    name: "audio",
    module: import.meta.url,
    description: "renders the generated MIDI file to FLAC audio with fluidsynth and a GM soundfont",
    inputs: {
      midi: input("render", "generated.mid", rawBytes),
      pieces: input("render", "pieces.tar", bundle),
      // The first piece played by the humanizer; empty without one.
      performed: input("perform", "performed.mid", rawBytes),
    },
    outputs: {
      "generated.flac": rawBytes,
      "pieces-audio.tar": bundle,
      "performed.flac": rawBytes,
    },
    reads: [],
    async environment() {
      return synthEnvironment(await synthesizer.describe());
    },
    async run({ midi, pieces, performed }, _config, ctx) {
      const synth = await synthesizer.describe();
      if (!synth.available) {
        ctx.warn(`${synth.reason}; the run goes on without audio`);
        ctx.metric("synth", "none");
        return {
          "generated.flac": new Uint8Array(0),
          "pieces-audio.tar": new Map(),
          "performed.flac": new Uint8Array(0),
        };
      }
      const synthesize = async (bytes: Uint8Array, name: string) => {
        try {
          return await synthesizer.render(bytes, ctx.signal);
        } catch (e) {
          // fluidsynth's own failures, in its words; anything else (a full disk) as it is.
          if (!(e instanceof SynthesisError) || ctx.signal.aborted) throw e;
          throw new StageInputError(`${(e as Error).message} (rendering ${name})`, { cause: e });
        }
      };
      const flac = await synthesize(midi, "generated.mid");
      // Every piece of generate.count; the first is generated.mid, already rendered.
      const audio: Bundle = new Map();
      for (const [name, bytes] of pieces) {
        if (!name.endsWith(".mid")) continue;
        const same = bytes.length === midi.length && bytes.every((b, i) => b === midi[i]);
        audio.set(name.replace(/\.mid$/, ".flac"), same ? flac : await synthesize(bytes, name));
      }
      const info = flacInfo(flac);
      ctx.metric("synth", synth.program);
      ctx.metric("seconds", Math.round(info.seconds * 1000) / 1000);
      ctx.metric("bytes", flac.length);
      if (info.vendor !== undefined) ctx.metric("encoder", info.vendor);
      ctx.info(
        `${info.seconds.toFixed(1)} s of ${info.sampleRate} Hz audio, ${
          (flac.length / 1024).toFixed(0)
        } KiB of FLAC (${synth.program}, ${synth.soundfont.split("/").pop()})`,
      );
      return {
        "generated.flac": flac,
        "pieces-audio.tar": audio,
        "performed.flac": performed.length === 0
          ? new Uint8Array(0)
          : await synthesize(performed, "performed.mid"),
      };
    },
  });
}

/** The key's facts about a synthesizer: program and version, soundfont digest, settings. */
export function synthEnvironment(synth: SynthDescription): Record<string, string> {
  return synth.available
    ? { synth: synth.program, soundfont: synth.soundfontSha256, settings: synth.settings }
    : { synth: "none" };
}

/** What a FLAC file's STREAMINFO (and VORBIS_COMMENT vendor string, if any) says. */
export interface FlacInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Samples per channel (0 when the encoder did not know). */
  samples: number;
  /** samples ÷ sampleRate. */
  seconds: number;
  /** The encoder, e.g. `reference libFLAC 1.4.2 20221022`. */
  vendor?: string;
}

/**
 * Reads a FLAC file's header.
 * @throws {StageInputError} when the bytes are not FLAC
 */
export function flacInfo(bytes: Uint8Array): FlacInfo {
  const b = bytes;
  const tag = String.fromCharCode(...b.subarray(0, 4));
  // "fLaC", then the STREAMINFO block: header (type 0, length 34) and 34 bytes.
  if (tag !== "fLaC" || b.length < 42 || (b[4]! & 0x7f) !== 0) {
    throw new StageInputError(`the synthesizer wrote ${b.length} bytes that are not FLAC`);
  }
  const s = 8; // STREAMINFO: block sizes (4), frame sizes (6), then rate/channels/bits/samples
  const sampleRate = (b[s + 10]! << 12) | (b[s + 11]! << 4) | (b[s + 12]! >> 4);
  const channels = ((b[s + 12]! >> 1) & 0x7) + 1;
  const bitsPerSample = (((b[s + 12]! & 1) << 4) | (b[s + 13]! >> 4)) + 1;
  const samples = (b[s + 13]! & 0xf) * 2 ** 32 +
    ((b[s + 14]! << 24) >>> 0) + (b[s + 15]! << 16) + (b[s + 16]! << 8) + b[s + 17]!;
  const info: FlacInfo = {
    sampleRate,
    channels,
    bitsPerSample,
    samples,
    seconds: sampleRate > 0 ? samples / sampleRate : 0,
  };
  // The metadata blocks that follow: the VORBIS_COMMENT block (type 4) names the encoder.
  for (let at = 4; at + 4 <= b.length;) {
    const last = (b[at]! & 0x80) !== 0;
    const type = b[at]! & 0x7f;
    const length = (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
    const body = at + 4;
    if (type === 4 && body + 4 <= b.length) {
      const n = b[body]! | (b[body + 1]! << 8) | (b[body + 2]! << 16) | (b[body + 3]! * 2 ** 24);
      if (body + 4 + n <= b.length) {
        info.vendor = new TextDecoder().decode(b.subarray(body + 4, body + 4 + n));
      }
    }
    if (last) break;
    at = body + length;
  }
  return info;
}
