// The report page's "Play with the model" section, written beside the page as report/player.js
// by report/player.ts. A classic browser script, not a module (Chromium refuses module
// scripts from file://), that runs after report/model.js (the run's checkpoint and tokens as
// `RUN_MODEL`). player.ts puts the pipeline's own plain-JS modules in front of it, as classic
// scripts: model/random.js (`MODEL_RANDOM`, the seeded generator: one seed gives the same draws
// here as in Deno), model/sampling.js (`MODEL_SAMPLING`, the choice of the next token) and, for
// a network stepped in plain JavaScript, model/continuation.js (`SEQUENCE_CONTINUATION`,
// generation's loop) and the network's step module.
//
// One kind of player per network, picked by `RUN_MODEL.kind` (PLAYERS, at the end):
// - `window`, the tutorial's network, runs after report/tf.min.js (TensorFlow.js): it loads the
//   checkpoint as model/checkpoint.ts does, predicts as stages/generate.ts does (each token id
//   divided by the vocabulary size, one window of `windowLength` tokens, softmax over the
//   vocabulary) and chooses with chooseNext (argmax at temperature 0, else a draw from p^(1/T));
// - `sequence` and `transformer`, the Groove recipe's networks: the network's step module
//   (model/sequence/lstm_step.js as `LSTM_STEP`, transformer_step.js as `TRANSFORMER_STEP`) and
//   continuation.js, the code generate runs, continue the run's primers together, drawing from
//   one seeded stream as generate does, so the run's temperature and seed give the run's pieces
//   token for token. Both share one player (steppedPlayer) and one set of controls.
// Either way the page plays the tokens with WebAudio, one token every render step.
//
// With `?probe` (or `#probe`) in the URL it also writes, once the model is loaded, JSON into
// <pre id="probe"> that a headless browser's DOM dump can compare with the pipeline: for a
// window player the next-token probabilities after the piece's last window and a few greedy
// tokens (report/run_page_test.ts); for a stepped network's player it presses Generate once and
// writes every piece (tests/sequence_player_page_test.ts).
(() => {
  "use strict";
  const data = globalThis.RUN_MODEL;
  const random = globalThis.MODEL_RANDOM;
  const sampling = globalThis.MODEL_SAMPLING;
  const $ = (id) => document.getElementById(id);
  const root = $("player");
  const status = $("player-status");
  const controls = {
    temperature: $("player-temperature"),
    seed: $("player-seed"),
    generate: $("player-generate"),
    play: $("player-play"),
    tokens: $("player-tokens"),
    caption: $("player-caption"),
  };
  const probing = /(^|[?&#])probe\b/.test(location.search + location.hash);

  /** Shows `text` under the controls; `state` goes on #player for tests and styles. */
  const say = (text, state) => {
    status.textContent = text;
    root.setAttribute("data-state", state);
  };

  if (!data) {
    say("The player cannot start: report/model.js did not load.", "error");
    return;
  }
  if (!random || !sampling) {
    say(
      "The player cannot start: report/player.js lacks model/random.js's or model/sampling.js's code.",
      "error",
    );
    return;
  }

  const ids = new Map(data.vocabulary.map((token, i) => [token, i]));
  let busy = false;
  let result = null; // the tokens listed; until there are some, Play plays the run's piece
  let timing = data; // how fast `result` sounds: {stepSeconds, noteSeconds}
  let playback = null;

  const messageOf = (e) => (e && e.message ? e.message : String(e));

  const base64Bytes = (text) => {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  };

  const idsOf = (tokens) => tokens.map((token) => ids.get(token));

  // A number input's value within [low, high], `fallback` when it is not a number.
  const numberOf = (input, fallback, low, high) => {
    let v = Number(input.value);
    if (input.value.trim() === "" || !isFinite(v)) v = fallback;
    v = Math.min(Math.max(v, low), high);
    input.value = String(v);
    return v;
  };

  // The seed input's generator: the pipeline's, seeded, or Math.random when it is empty.
  const seeded = () => {
    const text = controls.seed.value.trim();
    return {
      rng: text === "" ? Math.random : random.seededRandom(Number(text)),
      words: text === "" ? "" : `, seed ${text}`,
    };
  };

  const nextPaint = () => new Promise((resolve) => setTimeout(resolve, 0));

  // Lists `tokens`, a bar line before each bar's first where `stepsPerBar` is given.
  const list = (tokens, stepsPerBar) => {
    controls.tokens.textContent = "";
    tokens.forEach((token, k) => {
      const item = document.createElement("li");
      item.textContent = token;
      if (stepsPerBar && k > 0 && k % stepsPerBar === 0) item.className = "bar";
      controls.tokens.appendChild(item);
    });
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
    // The run's piece sounds as the model's top level says; the listed tokens as theirs.
    const listed = tokens === result;
    const { stepSeconds, noteSeconds } = listed ? timing : data;
    tokens.forEach((token, k) => {
      const pitches = data.pitches[ids.get(token)] || [];
      const at = t0 + k * stepSeconds;
      for (const pitch of pitches) {
        if (data.instrument === "drums") drum(out, pitch, at, noteSeconds);
        else tone(out, pitch, at, noteSeconds, 0.25 / Math.sqrt(pitches.length));
      }
    });
    const end = t0 + tokens.length * stepSeconds + noteSeconds;
    playback = {
      out,
      timer: setInterval(() => {
        if (ctx.currentTime >= end) return stop();
        if (!listed) return;
        const k = Math.floor((ctx.currentTime - t0) / stepSeconds);
        [...controls.tokens.children].forEach((item, i) => item.classList.toggle("now", i === k));
      }, 50),
    };
    controls.play.textContent = "Stop";
  };

  // --- The tutorial's network: TensorFlow.js on windows of tokens. ---------------------------

  const windowPlayer = () => {
    const tf = globalThis.tf;
    const own = {
      start: $("player-start"),
      index: $("player-index"),
      length: $("player-length"),
      progress: $("player-progress"),
    };
    // What a start window can be cut from: the window generation started from, then the piece.
    const sequence = data.startWindow.concat(data.piece);
    let model = null;

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

    // The chosen start: the end of the piece, or the window from the chosen token on.
    const startPattern = () => {
      const last = sequence.length - data.windowLength;
      let at = last;
      if (own.start.value === "index") {
        at = Math.min(Math.max(Math.floor(Number(own.index.value) || 0), 0), last);
        own.index.value = String(at);
      }
      return idsOf(sequence.slice(at, at + data.windowLength));
    };

    // `count` tokens after `pattern`, one at a time, listed as they come; it yields to the page
    // after each so the progress bar moves and the page stays responsive.
    const tokensAfter = async (pattern, count, temperature, rng) => {
      const context = pattern.slice();
      const out = [];
      controls.tokens.textContent = "";
      controls.caption.textContent = "";
      own.progress.max = count;
      own.progress.value = 0;
      const how = { temperature, topK: 0, topP: 1 };
      for (let i = 0; i < count; i++) {
        const next = sampling.chooseNext(await probabilities(context), how, rng);
        const token = data.vocabulary[next];
        out.push(token);
        context.push(next);
        context.shift();
        const item = document.createElement("li");
        item.textContent = token;
        controls.tokens.appendChild(item);
        own.progress.value = i + 1;
        say(`Generating: token ${i + 1} of ${count}.`, "generating");
        await nextPaint();
      }
      return out;
    };

    const generate = async () => {
      const temperature = numberOf(controls.temperature, 1, 0, 10);
      const count = Math.floor(numberOf(own.length, 64, 1, 2000));
      const { rng, words } = seeded();
      const tokens = await tokensAfter(startPattern(), count, temperature, rng);
      controls.caption.textContent = `${count} tokens at temperature ${temperature}${words}:`;
      return tokens;
    };

    // The test's view of the model: the probabilities after the piece's last window, and four
    // greedy tokens through the same loop the Generate button runs.
    const probe = async () => {
      const window = sequence.slice(sequence.length - data.windowLength);
      const p = await probabilities(idsOf(window));
      const greedy = await tokensAfter(idsOf(window), 4, 0, Math.random);
      $("probe").textContent = JSON.stringify({
        backend: tf.getBackend(),
        window,
        probabilities: Array.from(p),
        greedy,
      });
    };

    const start = async () => {
      if (!tf) throw new Error("report/tf.min.js did not load");
      // The pure-JavaScript backend: it works in every browser, headless Chromium with
      // --disable-gpu included (where WebGL is missing, or a software fallback that warns on
      // the console), and computes in float32 as the pipeline does, so the probe can match it.
      await tf.setBackend("cpu");
      await tf.ready();
      model = await tf.loadLayersModel(tf.io.fromMemory({
        modelTopology: data.modelTopology,
        weightSpecs: data.weightSpecs,
        weightData: base64Bytes(data.weightsBase64).buffer,
      }));
      own.index.addEventListener("input", () => {
        own.start.value = "index";
      });
      return `TensorFlow.js ${tf.version.tfjs} on its ${tf.getBackend()} backend`;
    };

    return { start, generate, probe: probing ? probe : null };
  };

  // --- The stepped networks: their step module and continuation.js, the code generate runs. --

  // A player of the network whose step module is the global `global` (its makeStepper,
  // initialState and step); `running` says what runs, from the stepper, once it is made.
  const steppedPlayer = (global, running) => () => {
    const step = globalThis[global];
    const continuation = globalThis.SEQUENCE_CONTINUATION;
    const primer = $("player-primer");
    let stepper = null;
    let drawn = null; // the latest pieces, one per primer, and how they were drawn

    // The chosen primer's piece, listed with its caption, at its primer's tempo (render.tempo).
    const show = () => {
      const n = Number(primer.value);
      const piece = drawn.pieces[n];
      timing = data.primers[n];
      list(piece, data.layout.stepsPerBar);
      controls.caption.textContent = `Piece ${n + 1}, after the first ${data.primeBars} bar` +
        `${data.primeBars === 1 ? "" : "s"} of ${data.primers[n].path}: ${piece.length} ` +
        `tokens at temperature ${drawn.temperature}${drawn.words}:`;
      return piece;
    };

    // Every primer continued together, as generate draws them: one stream, one step of every
    // piece at a time, the chosen piece shown.
    const generate = async () => {
      const temperature = numberOf(controls.temperature, data.temperature, 0, 10);
      const { rng, words } = seeded();
      say(`Generating ${data.primers.length} × ${data.steps} tokens…`, "generating");
      await nextPaint();
      const how = { temperature, topK: 0, topP: 1 };
      const pieces = continuation.continueSequences(
        step,
        stepper,
        data.primers.map((p) => p.ids),
        data.steps,
        (p) => sampling.chooseNext(p, how, rng),
      );
      drawn = {
        pieces: pieces.map((piece) => Array.from(piece, (id) => data.vocabulary[id])),
        temperature,
        words,
      };
      return show();
    };

    // The test's view: what Generate draws (run as its button runs it, without the sound), and
    // every piece it drew.
    const probe = async (generateOnce) => {
      await generateOnce();
      $("probe").textContent = JSON.stringify({
        pieces: drawn === null ? [] : drawn.pieces,
        shown: Number(primer.value),
      });
    };

    const start = async () => {
      if (!step || !continuation) {
        throw new Error(
          `report/player.js lacks the step module (${global}) or model/continuation.js`,
        );
      }
      const weights = {};
      for (const [layer, arrays] of Object.entries(data.weights)) {
        weights[layer] = arrays.map((text) => new Float32Array(base64Bytes(text).buffer));
      }
      stepper = step.makeStepper(weights, data.layout);
      primer.addEventListener("change", () => {
        if (drawn === null || busy) return;
        stop();
        result = show();
      });
      return `${running(stepper)} in plain JavaScript`;
    };

    return { start, generate, probe: probing ? probe : null };
  };

  // --- Wiring --------------------------------------------------------------------------------

  /** The kinds of player, by `RUN_MODEL.kind`: another network adds its own here. */
  const PLAYERS = {
    window: windowPlayer,
    sequence: steppedPlayer("LSTM_STEP", (s) => `the sequence network's ${s.units} LSTM units`),
    transformer: steppedPlayer(
      "TRANSFORMER_STEP",
      (s) =>
        `the Transformer's ${s.layout.blocks} block${s.layout.blocks === 1 ? "" : "s"} of ` +
        `width ${s.layout.width}`,
    ),
  };

  const kind = PLAYERS[data.kind];
  if (!kind) {
    say(`The player cannot start: it has no player for a ${data.kind} network.`, "error");
    return;
  }
  const player = kind();

  // The Generate button: new tokens, listed, then played where `playing` (not for a probe: a
  // page may not start sound before a click, and Chromium says so on the console).
  const generateTokens = async (playing) => {
    if (busy) return;
    // Made now, inside the click, so that playing once the tokens are ready is allowed.
    if (playing) audioContext();
    stop();
    busy = true;
    controls.generate.disabled = true;
    try {
      result = await player.generate();
      say(`Generated ${result.length} tokens${playing ? "; playing them" : ""}.`, "ready");
      if (playing) play(result);
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

  const start = async () => {
    say("Loading the model…", "loading");
    const running = await player.start();
    controls.generate.addEventListener("click", () => generateTokens(true));
    controls.play.addEventListener("click", onPlay);
    controls.generate.disabled = false;
    controls.play.disabled = false;
    if (player.probe) await player.probe(() => generateTokens(false));
    if (root.getAttribute("data-state") === "error") return; // the probe's failure stays shown
    say(`Ready: ${running}. Play plays the run's piece until you generate.`, "ready");
  };

  start().catch((e) => say(`The model could not be loaded: ${messageOf(e)}`, "error"));
})();
