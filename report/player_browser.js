// The report page's "Play with the model" section, written beside the page as report/player.js
// by report/player.ts. A classic browser script, not a module (Chromium refuses module
// scripts from file://), that runs after report/tf.min.js (TensorFlow.js) and report/model.js
// (the run's checkpoint and tokens as `RUN_MODEL`). player.ts puts model/random.js, the
// pipeline's own seeded generator, in front of it as `MODEL_RANDOM`: one seed gives the same
// draws here as in Deno.
//
// It loads the checkpoint as model/checkpoint.ts does, predicts as stages/generate.ts does (each
// token id divided by the vocabulary size, one window of `windowLength` tokens, softmax over the
// vocabulary) and chooses as model/sampling.ts does (argmax at temperature 0, else a draw from
// p^(1/T)), then plays the tokens with WebAudio, one token every render step.
//
// With `?probe` (or `#probe`) in the URL it also writes, once the model is loaded, the
// next-token probabilities after the piece's last window and a few greedy tokens as JSON into
// <pre id="probe">, so a headless browser's DOM dump can be compared with the pipeline's own
// prediction (report/run_page_test.ts).
(() => {
  "use strict";
  const data = globalThis.RUN_MODEL;
  const tf = globalThis.tf;
  const random = globalThis.MODEL_RANDOM;
  const $ = (id) => document.getElementById(id);
  const root = $("player");
  const status = $("player-status");
  const controls = {
    start: $("player-start"),
    index: $("player-index"),
    temperature: $("player-temperature"),
    length: $("player-length"),
    seed: $("player-seed"),
    generate: $("player-generate"),
    play: $("player-play"),
    progress: $("player-progress"),
    tokens: $("player-tokens"),
    caption: $("player-caption"),
  };
  const probing = /(^|[?&#])probe\b/.test(location.search + location.hash);

  /** Shows `text` under the controls; `state` goes on #player for tests and styles. */
  const say = (text, state) => {
    status.textContent = text;
    root.setAttribute("data-state", state);
  };

  if (!data || !tf) {
    say("The player cannot start: report/model.js or report/tf.min.js did not load.", "error");
    return;
  }
  if (!random) {
    say("The player cannot start: report/player.js lacks model/random.js's generator.", "error");
    return;
  }

  const ids = new Map(data.vocabulary.map((token, i) => [token, i]));
  // What a start window can be cut from: the window generation started from, then the piece.
  const sequence = data.startWindow.concat(data.piece);
  let model = null;
  let busy = false;
  let result = null; // the latest generated tokens; until there are some, Play plays the piece
  let playback = null;

  const messageOf = (e) => (e && e.message ? e.message : String(e));

  const base64Bytes = (text) => {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  };

  const argMax = (p) => {
    let best = 0;
    for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
    return best;
  };

  // model/sampling.ts's chooseNext, without its top-k and top-p cuts.
  const chooseNext = (p, temperature, rng) => {
    if (temperature === 0) return argMax(p);
    const weights = Array.from(p, (v) => Math.pow(Math.max(v, 0), 1 / temperature));
    const total = weights.reduce((a, b) => a + b, 0);
    if (!(total > 0) || !isFinite(total)) return argMax(p);
    let r = rng() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    return weights.length - 1;
  };

  // The softmax after `pattern` (class ids), as stages/generate.ts's predictNext computes it.
  const probabilities = async (pattern) => {
    const size = data.vocabulary.length;
    const output = tf.tidy(() => {
      const input = Float32Array.from(pattern, (id) => id / size);
      return model.predict(tf.tensor3d(input, [1, pattern.length, 1]));
    });
    try {
      return await output.data();
    } finally {
      output.dispose();
    }
  };

  const idsOf = (tokens) => tokens.map((token) => ids.get(token));

  // The chosen start: the end of the piece, or the window from the chosen token on.
  const startPattern = () => {
    const last = sequence.length - data.windowLength;
    let at = last;
    if (controls.start.value === "index") {
      at = Math.min(Math.max(Math.floor(Number(controls.index.value) || 0), 0), last);
      controls.index.value = String(at);
    }
    return idsOf(sequence.slice(at, at + data.windowLength));
  };

  // A number input's value within [low, high], `fallback` when it is not a number.
  const numberOf = (input, fallback, low, high) => {
    let v = Number(input.value);
    if (input.value.trim() === "" || !isFinite(v)) v = fallback;
    v = Math.min(Math.max(v, low), high);
    input.value = String(v);
    return v;
  };

  // `count` tokens after `pattern`, one at a time, listed as they come; it yields to the page
  // after each so the progress bar moves and the page stays responsive.
  const generate = async (pattern, count, temperature, rng) => {
    const context = pattern.slice();
    const out = [];
    controls.tokens.textContent = "";
    controls.caption.textContent = "";
    controls.progress.max = count;
    controls.progress.value = 0;
    for (let i = 0; i < count; i++) {
      const next = chooseNext(await probabilities(context), temperature, rng);
      const token = data.vocabulary[next];
      out.push(token);
      context.push(next);
      context.shift();
      const item = document.createElement("li");
      item.textContent = token;
      controls.tokens.appendChild(item);
      controls.progress.value = i + 1;
      say(`Generating: token ${i + 1} of ${count}.`, "generating");
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return out;
  };

  // --- Sound: a short tone per pitch for piano, a synthesized hit per drum. ------------------

  let audio = null;
  let noise = null;

  // Made on a click only: Chromium warns on the console about an AudioContext made without a
  // user gesture. Null where the browser has no WebAudio.
  const audioContext = () => {
    if (audio === null) {
      const Context = globalThis.AudioContext || globalThis.webkitAudioContext;
      if (!Context) return null;
      audio = new Context();
      noise = audio.createBuffer(1, audio.sampleRate, audio.sampleRate);
      const samples = noise.getChannelData(0);
      for (let i = 0; i < samples.length; i++) samples[i] = Math.random() * 2 - 1;
    }
    if (audio.state === "suspended") audio.resume();
    return audio;
  };

  const frequency = (pitch) => 440 * Math.pow(2, (pitch - 69) / 12);

  // A gain node into `out` that strikes at `at` and dies away over `seconds`.
  const envelope = (out, at, peak, seconds) => {
    const gain = audio.createGain();
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(peak, at + 0.005);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + seconds);
    gain.connect(out);
    return gain;
  };

  const tone = (out, pitch, at, seconds, peak) => {
    const osc = audio.createOscillator();
    osc.type = "triangle";
    osc.frequency.value = frequency(pitch);
    osc.connect(envelope(out, at, peak, seconds));
    osc.start(at);
    osc.stop(at + seconds + 0.02);
  };

  const noiseBurst = (out, at, seconds, filterType, hz, peak) => {
    const src = audio.createBufferSource();
    src.buffer = noise;
    const filter = audio.createBiquadFilter();
    filter.type = filterType;
    filter.frequency.value = hz;
    src.connect(filter);
    filter.connect(envelope(out, at, peak, seconds));
    src.start(at);
    src.stop(at + seconds + 0.02);
  };

  const TOMS = [41, 43, 45, 47, 48, 50];
  const CLOSED_HATS = [42, 44];
  const RINGING = [46, 49, 51, 52, 53, 55, 57, 59]; // open hi-hat, cymbals and rides

  // A General MIDI drum key, roughly: kicks thump, toms are pitched, hi-hats and cymbals hiss,
  // everything else (snares, claps, percussion) is a band of noise.
  const drum = (out, pitch, at, seconds) => {
    if (pitch === 35 || pitch === 36) {
      const osc = audio.createOscillator();
      osc.frequency.setValueAtTime(150, at);
      osc.frequency.exponentialRampToValueAtTime(45, at + 0.12);
      osc.connect(envelope(out, at, 0.9, 0.18));
      osc.start(at);
      osc.stop(at + 0.2);
    } else if (TOMS.includes(pitch)) {
      tone(out, pitch - 12, at, Math.max(seconds, 0.2), 0.5);
    } else if (CLOSED_HATS.includes(pitch)) {
      noiseBurst(out, at, 0.05, "highpass", 7000, 0.3);
    } else if (RINGING.includes(pitch)) {
      noiseBurst(out, at, pitch === 46 ? 0.3 : 0.6, "highpass", 5000, 0.25);
    } else {
      noiseBurst(out, at, 0.12, "bandpass", 1800, 0.6);
    }
  };

  const stop = () => {
    if (playback === null) return;
    playback.out.disconnect();
    clearInterval(playback.timer);
    for (const item of controls.tokens.children) item.classList.remove("now");
    playback = null;
    controls.play.textContent = "Play";
  };

  // Schedules every token's sounds, a render step apart, and marks the token being heard.
  const play = (tokens) => {
    stop();
    const ctx = audioContext();
    if (ctx === null) {
      say("This browser has no WebAudio, so the tokens cannot be played.", "ready");
      return;
    }
    const out = ctx.createGain();
    out.gain.value = 0.5;
    out.connect(ctx.destination);
    const t0 = ctx.currentTime + 0.1;
    tokens.forEach((token, k) => {
      const pitches = data.pitches[ids.get(token)] || [];
      const at = t0 + k * data.stepSeconds;
      for (const pitch of pitches) {
        if (data.instrument === "drums") drum(out, pitch, at, data.noteSeconds);
        else tone(out, pitch, at, data.noteSeconds, 0.25 / Math.sqrt(pitches.length));
      }
    });
    const end = t0 + tokens.length * data.stepSeconds + data.noteSeconds;
    // The list shows the generated tokens; the run's piece is not listed, so nothing to mark.
    const listed = tokens === result;
    playback = {
      out,
      timer: setInterval(() => {
        if (ctx.currentTime >= end) return stop();
        if (!listed) return;
        const k = Math.floor((ctx.currentTime - t0) / data.stepSeconds);
        [...controls.tokens.children].forEach((item, i) => item.classList.toggle("now", i === k));
      }, 50),
    };
    controls.play.textContent = "Stop";
  };

  // --- Wiring --------------------------------------------------------------------------------

  const onGenerate = async () => {
    if (busy || model === null) return;
    // Made now, inside the click, so that playing once the tokens are ready is allowed.
    audioContext();
    stop();
    busy = true;
    controls.generate.disabled = true;
    try {
      const temperature = numberOf(controls.temperature, 1, 0, 10);
      const count = Math.floor(numberOf(controls.length, 64, 1, 2000));
      const seedText = controls.seed.value.trim();
      const rng = seedText === "" ? Math.random : random.seededRandom(Number(seedText));
      result = await generate(startPattern(), count, temperature, rng);
      controls.caption.textContent = `${count} tokens at temperature ${temperature}` +
        (seedText === "" ? ":" : `, seed ${seedText}:`);
      say(`Generated ${count} tokens; playing them.`, "ready");
      play(result);
    } catch (e) {
      say(`Generation failed: ${messageOf(e)}`, "error");
    } finally {
      busy = false;
      controls.generate.disabled = false;
    }
  };

  const onPlay = () => {
    if (playback !== null) return stop();
    play(result !== null ? result : data.piece);
  };

  // The test's view of the model: the probabilities after the piece's last window, and four
  // greedy tokens through the same loop the Generate button runs.
  const probe = async () => {
    const window = sequence.slice(sequence.length - data.windowLength);
    const p = await probabilities(idsOf(window));
    const greedy = await generate(idsOf(window), 4, 0, Math.random);
    $("probe").textContent = JSON.stringify({
      backend: tf.getBackend(),
      window,
      probabilities: Array.from(p),
      greedy,
    });
  };

  const start = async () => {
    say("Loading the model…", "loading");
    // The pure-JavaScript backend: it works in every browser, headless Chromium with
    // --disable-gpu included (where WebGL is missing, or a software fallback that warns on the
    // console), and computes in float32 as the pipeline does, so the probe can match it.
    await tf.setBackend("cpu");
    await tf.ready();
    model = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: data.modelTopology,
      weightSpecs: data.weightSpecs,
      weightData: base64Bytes(data.weightsBase64).buffer,
    }));
    controls.generate.addEventListener("click", onGenerate);
    controls.play.addEventListener("click", onPlay);
    controls.index.addEventListener("input", () => {
      controls.start.value = "index";
    });
    if (probing) await probe();
    controls.generate.disabled = false;
    controls.play.disabled = false;
    say(
      `Ready: TensorFlow.js ${tf.version.tfjs} on its ${tf.getBackend()} backend. ` +
        "Play plays the run's piece until you generate.",
      "ready",
    );
  };

  start().catch((e) => say(`The model could not be loaded: ${messageOf(e)}`, "error"));
})();
