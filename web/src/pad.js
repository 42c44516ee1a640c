// The drawing pad: strokes from the mouse, a finger or a pen, read by a LiteRT model in the browser.
// The strokes are kept here (which gives Undo) and rasterised as the notebook's pad does for the model.

import {
  BlankDrawing, allowedMask, features, inkMap, prepare, ranked, renderStrokes, restrict, unreadable,
} from "./reading.js";

const INK = "#111111";
const PAPER = "#ffffff";
const DRAW_PROMPT = "Draw a character";

const $ = (selector) => document.querySelector(selector);
const pad = $("#pad");
const context = pad.getContext("2d");
const statusLine = $("#status");

const strokes = [];
const readers = {}; // mode → {run, classes, reading, source}; loaded when first needed
const state = {
  settings: null, litert: null, runtime: null, drawing: false, lastRead: 0, busy: false, again: false, reads: 0,
  current: null,
};
// What tests and benchmarks look at: every read's milliseconds, and when the first guess was shown.
const stats = { readMs: [], firstGuessMs: null, lastReading: null };
window.hcrPad = { stats, strokes, settled: async () => { while (state.current) await state.current; } };

class PageProblem extends Error {} // a failure the visitor can understand: the message says what to do

function problem(message) {
  const box = $("#problem");
  box.textContent = message;
  box.hidden = false;
  statusLine.textContent = "";
  document.body.dataset.state = "failed";
}

const capitalised = (text) => text.charAt(0).toUpperCase() + text.slice(1);
const mode = () => document.querySelector("input[name=mode]:checked").value;
const answers = () => (mode() === "digits" ? "all" : document.querySelector("input[name=answers]:checked").value);

async function fetchOk(path, what) {
  let response;
  try {
    response = await fetch(path);
  } catch {
    throw new PageProblem(`Could not download ${what} (${path}): check the connection and reload the page.`);
  }
  if (!response.ok) {
    throw new PageProblem(`${capitalised(what)} (${path}) is missing from the site (HTTP ${response.status}): `
      + "rebuild the page with `make web-build` and publish the whole folder.");
  }
  return response;
}

async function fetchJson(path, what) {
  const response = await fetchOk(path, what);
  try {
    return await response.json();
  } catch {
    throw new PageProblem(`${capitalised(what)} (${path}) is damaged: rebuild the page with \`make web-build\`.`);
  }
}

// --- the model -----------------------------------------------------------------------------------------------

async function startRuntime() {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
    throw new PageProblem("This browser cannot run WebAssembly, which reads your drawing: open the page in a "
      + "recent Chrome, Edge, Firefox or Safari, or turn WebAssembly (JavaScript optimisation) back on.");
  }
  // The runtime writes its log (INFO and WARNING lines) to stderr, which would show as console errors
  self.Module = { printErr: (line) => (/^(INFO|WARNING)\b/.test(line) ? console.debug : console.error)(line) };
  try {
    state.litert = await import("./litert/core.js");
    await state.litert.loadLiteRt(new URL("./litert/wasm/", import.meta.url).href);
  } catch (err) {
    throw new PageProblem(`The reader's runtime (LiteRT.js) did not start: ${err.message || err}. `
      + "Rebuild the page with `make web-build`, or try a recent Chrome, Edge, Firefox or Safari.");
  }
}

async function loadReader(name) {
  const files = state.settings.modes[name];
  const [labels, reading, bytes] = await Promise.all([
    fetchJson(files.labels, "the model's labels file"),
    fetchJson(files.reading, "the model's reading settings"),
    fetchOk(files.model, "the model file").then((response) => response.arrayBuffer()),
  ]);
  await state.runtime; // downloaded alongside the model files
  let model;
  try {
    model = await state.litert.loadAndCompile(new Uint8Array(bytes), { accelerator: "wasm" });
  } catch (err) {
    throw new PageProblem(`The model file (${files.model}) is damaged and cannot be read (${err.message || err}): `
      + "rebuild the page with `make web-build`.");
  }
  const input = model.getInputDetails()[0];
  if (Array.from(input.shape).join("×") !== "1×28×28×1") {
    throw new PageProblem(`The model file (${files.model}) is not a character model for this page `
      + `(its input is ${Array.from(input.shape).join("×")}, not 1×28×28×1): rebuild the page with \`make web-build\`.`);
  }
  const run = async (seen) => {
    const tensor = new state.litert.Tensor(Float32Array.from(seen), [1, 28, 28, 1]);
    const [output] = await model.run([tensor]);
    const probabilities = Float32Array.from(output.toTypedArray());
    tensor.delete();
    output.delete();
    return probabilities;
  };
  const size = (files.bytes / 1e6).toFixed(1);
  return { run, classes: labels.classes, reading, source: `${files.source}, ${files.quantization}, ${size} MB` };
}

async function reader() {
  const name = mode();
  readers[name] ??= loadReader(name);
  const loaded = await readers[name];
  $("#source").textContent = `Reading with ${loaded.source}.`;
  return loaded;
}

// --- reading -----------------------------------------------------------------------------------------------------

function show(guesses, seen, message, refusal = false) {
  document.querySelectorAll("#guesses li").forEach((row, i) => {
    const [char, probability] = guesses[i] ?? ["", 0];
    const cell = row.querySelector(".char");
    cell.textContent = char;
    cell.dataset.probability = guesses[i] ? String(probability) : "";
    row.querySelector(".bar span").style.width = `${(100 * probability).toFixed(1)}%`;
    row.querySelector(".percent").textContent = guesses[i] ? `${(100 * probability).toFixed(1)}%` : "";
  });
  const picture = $("#seen").getContext("2d");
  const pixels = picture.createImageData(28, 28);
  (seen ?? new Uint8Array(784)).forEach((value, i) => {
    pixels.data.set([value, value, value, 255], 4 * i);
  });
  picture.putImageData(pixels, 0, 0);
  statusLine.textContent = message;
  statusLine.classList.toggle("refusal", refusal);
}

async function readOnce() {
  const loaded = await reader();
  const start = performance.now();
  if (!strokes.length) {
    show([], null, DRAW_PROMPT);
    return;
  }
  const { size, brush_width: brushWidth, top_k: topK } = state.settings;
  let ink;
  let seen;
  try {
    ink = inkMap(renderStrokes(strokes, size, brushWidth), size);
    seen = prepare(ink, loaded.reading);
  } catch (err) {
    if (!(err instanceof BlankDrawing)) throw err;
    show([], null, capitalised(err.message));
    return;
  }
  const raw = await loaded.run(seen);
  const probabilities = answers() === "all" ? raw : restrict(raw, allowedMask(loaded.classes, answers()));
  const refusal = unreadable(features(probabilities, ink, loaded.reading), loaded.reading);
  const guesses = refusal ? [] : ranked(probabilities, loaded.classes, topK);
  show(guesses, seen, refusal ? `I can't read this: ${refusal}` : "", Boolean(refusal));
  stats.readMs.push(performance.now() - start);
  stats.lastReading = { guesses, best: ranked(probabilities, loaded.classes, topK), seen: Array.from(seen), refusal };
  if (stats.firstGuessMs === null && guesses.length) stats.firstGuessMs = performance.now();
}

/** Read the drawing; a read asked for while one runs is done once that one ends. */
async function read() {
  if (document.body.dataset.state !== "ready") return; // strokes drawn before are read once it is
  state.lastRead = performance.now();
  if (state.busy) {
    state.again = true;
    return;
  }
  state.busy = true;
  state.current = (async () => {
    try {
      do {
        state.again = false;
        await readOnce();
      } while (state.again);
      pad.dataset.reads = String(++state.reads);
    } catch (err) {
      problem(err instanceof PageProblem ? err.message : `Something went wrong while reading: ${err.message || err}. `
        + "Reload the page.");
    } finally {
      state.busy = false;
      state.current = null;
    }
  })();
  await state.current;
}

// --- drawing -------------------------------------------------------------------------------------------------------

function paint() {
  const { brush_width: brushWidth } = state.settings ?? { brush_width: 32 };
  context.fillStyle = PAPER;
  context.fillRect(0, 0, pad.width, pad.height);
  Object.assign(context, { lineWidth: brushWidth, lineCap: "round", lineJoin: "round", strokeStyle: INK, fillStyle: INK });
  for (const stroke of strokes) {
    context.beginPath();
    if (stroke.length === 1) {
      context.arc(stroke[0][0], stroke[0][1], brushWidth / 2, 0, 2 * Math.PI);
      context.fill();
      continue;
    }
    context.moveTo(...stroke[0]);
    stroke.slice(1).forEach((point) => context.lineTo(...point));
    context.stroke();
  }
}

/** Where an event is, in the canvas's own pixels (inside its border, whatever size the page shows it at). */
function padPoint(event) {
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left - pad.clientLeft) * (pad.width / pad.clientWidth),
    (event.clientY - box.top - pad.clientTop) * (pad.height / pad.clientHeight)];
}

pad.addEventListener("pointerdown", (event) => {
  if (!event.isPrimary || event.button !== 0) return;
  event.preventDefault();
  pad.setPointerCapture?.(event.pointerId);
  state.drawing = true;
  strokes.push([padPoint(event)]);
  paint();
});

pad.addEventListener("pointermove", (event) => {
  if (!state.drawing || !event.isPrimary) return;
  const stroke = strokes[strokes.length - 1];
  const coalesced = event.getCoalescedEvents?.() ?? []; // the moves between two frames (none when synthetic)
  for (const each of coalesced.length ? coalesced : [event]) stroke.push(padPoint(each));
  paint();
  if (performance.now() - state.lastRead >= (state.settings?.live_interval_ms ?? 150)) read();
});

const endStroke = (event) => {
  if (!state.drawing || !event.isPrimary) return;
  state.drawing = false;
  read();
};
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);

$("#clear").addEventListener("click", () => {
  strokes.length = 0;
  state.drawing = false;
  paint();
  read();
});

$("#undo").addEventListener("click", () => {
  strokes.pop();
  state.drawing = false;
  paint();
  read();
});

document.querySelectorAll("input[name=mode]").forEach((radio) => radio.addEventListener("change", () => {
  $("#answers").hidden = mode() === "digits";
  if (!readers[mode()]) statusLine.textContent = "Loading the model…";
  read();
}));
document.querySelectorAll("input[name=answers]").forEach((radio) => radio.addEventListener("change", read));

window.addEventListener("unhandledrejection", (event) => problem(`Something went wrong: ${event.reason}. Reload the page.`));

// --- start -----------------------------------------------------------------------------------------------------------

async function start() {
  document.body.dataset.state = "loading";
  paint();
  try {
    state.settings = await fetchJson("pad.json", "the page's settings file");
    state.runtime = startRuntime();
    await Promise.all([state.runtime, reader()]);
  } catch (err) {
    problem(err instanceof PageProblem ? err.message : `The reader did not start: ${err.message || err}`);
    return;
  }
  document.body.dataset.state = "ready";
  paint();
  await read();
}

start();
