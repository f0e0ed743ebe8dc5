// The two Plotly charts: the output plot (boundary heatmap or fitted curve) and the loss curve. The server sends
// their data as JSON in the panels; this draws it, and a click on the 2-D output plot asks for that point's prediction.
// The loss curve's train and test lines are told apart by dash and marker, in neutral ink and grey: orange and blue
// are the classes' colours (and negative and positive) everywhere else on the page (issue 25 §7).
const TRAIN = "#1f2933", TEST = "#616e7c";
const PLOT_CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
// On a phone Plotly's toolbar would sit over the plot's legend, the line that names its sets (issue 25 §5), and a tap
// shows it: there it is left out (tapping the legend still hides a set).
const NARROW = "(max-width: 760px)";
function plotConfig() {
  return matchMedia(NARROW).matches ? Object.assign({}, PLOT_CONFIG, { displayModeBar: false }) : PLOT_CONFIG;
}

function readJSON(id) {
  const el = document.getElementById(id);
  if (!el || el.dataset.done) return null;
  el.dataset.done = "1";
  return JSON.parse(el.textContent);
}

// Step answers and Play's frames arrive up to 60 times a second, and a Plotly redraw costs more than a frame: the
// output plot's picture is swapped in place (the <image> Plotly drew) at most every OUTPUT_MS, and the loss curve is
// extended (a redraw of the whole chart: 8-17 ms here alone, 20-46 ms at 3 epochs a frame in Play, whatever its
// points) at most every LOSS_MS, and never taking more than a twentieth of the page's time (a redraw of d ms waits
// 20 d for the next), while Play runs; a Step's or a Pause's points a display frame after its diagram. Every point
// is kept; the diagram is never delayed.
const OUTPUT_MS = 100, LOSS_MS = 400;
// At 3 epochs a frame each redraw costs the diagram a display frame or two: at a tenth, 1.4 updates a second fewer
// than at a twentieth (bench/README.md), which redraws every 0.4-0.9 s there.
const LOSS_SHARE = 0.05;
const LINES_FROM = 40;  // a loss curve of fewer points shows each as a marker
const XLINK = "http://www.w3.org/1999/xlink";
let pendingOutput = null, pendingLoss = [], outputTimer = null, lossTimer = null, lastOutput = 0, lastLoss = 0;
let lossGap = LOSS_MS;

function schedule() {
  const now = performance.now();
  if (pendingOutput && !outputTimer) outputTimer = setTimeout(flushOutput, Math.max(0, OUTPUT_MS - (now - lastOutput)));
  if (pendingLoss.length && !lossTimer) lossTimer = setTimeout(flushLoss, Math.max(0, lossGap - (now - lastLoss)));
}

// The output plot's new picture, set on the image Plotly drew, and in its layout (what it draws from should it
// redraw); a plot not drawn yet, or drawn without one, gets it by relayout.
function setPicture(out, source) {
  const img = out.querySelector(".imagelayer image");
  if (!img || !out.layout || !out.layout.images || !out.layout.images.length) {
    Plotly.relayout(out, { "images[0].source": source });
    return;
  }
  out.layout.images[0].source = source;
  img.setAttributeNS(XLINK, "xlink:href", source);
}

// Draws what is waiting now (a download of the chart wants every point).
export function flush() {
  clearTimeout(outputTimer);
  flushOutput();
  flushLoss();
}

function flushOutput() {
  outputTimer = null;
  lastOutput = performance.now();
  const out = document.getElementById("output-plot");
  if (pendingOutput && out && out.data) {
    if (pendingOutput.image) setPicture(out, pendingOutput.image);
    if (pendingOutput.fit) Plotly.restyle(out, { y: [pendingOutput.fit] }, [traceNamed(out, "network")]);
    const mark = traceNamed(out, "your input");
    if (pendingOutput.marker_y != null && mark >= 0) Plotly.restyle(out, { y: [pendingOutput.marker_y] }, [mark]);
  }
  pendingOutput = null;
}

function flushLoss() {
  clearTimeout(lossTimer);  // called early (a Step's points, a download): Play's timer would redraw for nothing
  lossTimer = null;
  const start = lastLoss = performance.now();
  const loss = document.getElementById("loss-plot");
  if (pendingLoss.length && loss && loss.data) {
    const t = lossTraces(pendingLoss), max = Number(loss.dataset.maxPoints) || 4000;
    const length = loss.data[0].x.length + pendingLoss.length;
    const toLines = loss.data[0].mode !== "lines" && length >= LINES_FROM;
    if (length <= max && !toLines) {
      Plotly.extendTraces(loss, { x: [t[0].x, t[1].x], y: [t[0].y, t[1].y] }, [0, 1]);
    } else {  // one redraw of the longer (or thinned) curve, rather than one to extend it and one to restyle it
      const x = loss.data[0].x.concat(t[0].x), train = loss.data[0].y.concat(t[0].y), test = loss.data[1].y.concat(t[1].y);
      const keep = length > max ? thinned(x, max) : () => true;
      const update = { x: [x.filter(keep), x.filter(keep)], y: [train.filter(keep), test.filter(keep)] };
      Plotly.restyle(loss, toLines ? Object.assign(update, { mode: "lines" }) : update, [0, 1]);
    }
    lossGap = Math.max(LOSS_MS, (performance.now() - start) / LOSS_SHARE);
  }
  pendingLoss = [];
}

function traceNamed(div, name) {
  for (let i = 0; i < div.data.length; i++) if (div.data[i].name === name) return i;
  return -1;
}

// A long curve is thinned as the server thins its own (app/core/session.py MAX_HISTORY): beyond the limit every
// other point of the older half goes, so that fast Play does not redraw an ever longer line.
// Which points of a curve over `max` points it keeps, as the server thins its own as it grows: every point of the
// newer half and every other of the older, again until at most `max` are left (a frame brings many points at once).
function thinned(x, max) {
  let kept = x.map((v, i) => i);
  while (kept.length > max) {
    const half = Math.floor(kept.length / 2);
    kept = kept.filter((k, i) => i >= half || i % 2 === 0);
  }
  const keep = new Set(kept);
  return (v, i) => keep.has(i);
}

export function drawOutput() {
  const data = readJSON("output-data");
  if (data) updateOutput(data);
}

// The output plot's data: a whole figure (drawn at once), or a step's update (drawn with the next flush).
export function updateOutput(data) {
  const div = document.getElementById("output-plot");
  if (!div || !window.Plotly) return;
  if (data.figure) {
    const fallback = div.querySelector("img.fallback");
    if (fallback) fallback.remove();
    pendingOutput = null;
    Plotly.react(div, data.figure.data, Object.assign({ uirevision: data.kind }, data.figure.layout), plotConfig());
  } else {
    pendingOutput = data;
    schedule();
  }
}

function lossLayout() {
  const log = document.getElementById("log-scale");
  return {
    margin: { l: 52, r: 12, t: 26, b: 36 }, showlegend: true,
    legend: { orientation: "h", x: 1, xanchor: "right", y: 1.02, yanchor: "bottom" },
    // Tick labels fit in the margins: "allow" spares each redraw measuring them for overflow (a third of its time).
    xaxis: { title: { text: "step" }, ticklabeloverflow: "allow" },
    yaxis: { type: log && log.checked ? "log" : "linear", exponentformat: "e", ticklabeloverflow: "allow" },
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#ffffff", font: { size: 11 }, uirevision: "loss"
  };
}

function lossTraces(points) {
  const x = [], train = [], test = [];
  points.forEach((p) => { x.push(p[0]); train.push(p[1]); test.push(p[2]); });
  const mode = points.length < LINES_FROM ? "lines+markers" : "lines";  // a short curve is a few dots; see flushLoss()
  return [
    { type: "scatter", mode: mode, name: "train", x: x, y: train, line: { color: TRAIN, width: 2 }, marker: { size: 5 } },
    { type: "scatter", mode: mode, name: "test", x: x.slice(), y: test, line: { color: TEST, width: 2, dash: "dash" }, marker: { size: 6, symbol: "circle-open" } }
  ];
}

function lastStep(div) {
  const x = div.data && div.data[0] && div.data[0].x;
  return x && x.length ? x[x.length - 1] : null;
}

export function drawLoss() {
  const data = readJSON("loss-data");
  if (data) updateLoss(data);
}

// The loss curve's data: the whole curve ("replace") or the points of the steps since the last answer; `now`: an
// answer outside Play (a Step, an Epoch, Pause), whose points are drawn a frame after its diagram rather than with
// Play's next redraw.
export function updateLoss(data, now = false) {
  const div = document.getElementById("loss-plot");
  if (!div || !window.Plotly) return;
  if (data.mode === "replace" || !div.data) {
    pendingLoss = [];
    const keep = thinned(data.points, Number(div.dataset.maxPoints) || 4000);
    Plotly.react(div, lossTraces(data.points.filter(keep)), lossLayout(), plotConfig());
  } else if (data.points.length) {
    // Only steps after the last one drawn: a live room's page may already hold a frame's first points.
    const last = pendingLoss.length ? pendingLoss[pendingLoss.length - 1][0] : lastStep(div);
    pendingLoss = pendingLoss.concat(data.points.filter((p) => last === null || p[0] > last));
    if (now) {
      clearTimeout(lossTimer);
      lossTimer = null;
      flushAfterNextFrame();
    } else {
      schedule();
    }
  }
}

// An answer's points are drawn as the frame after the one that shows its diagram begins: the diagram and the
// numbers are not held back by the redraw (10-30 ms here), and the curve follows a display frame later.
let lossSoon = false;
function flushAfterNextFrame() {
  if (lossSoon) return;
  lossSoon = true;
  requestAnimationFrame(() => requestAnimationFrame(() => {
    lossSoon = false;
    flushLoss();
  }));
}

// Clicking the 2-D output plot predicts that point: the click position in data coordinates.
function predictAt(event) {
  const div = document.getElementById("output-plot");
  if (!div || div.dataset.kind !== "boundary" || !div._fullLayout || event.target.closest(".modebar")) return;
  const xa = div._fullLayout.xaxis, ya = div._fullLayout.yaxis, box = div.getBoundingClientRect();
  const px = event.clientX - box.left - xa._offset, py = event.clientY - box.top - ya._offset;
  if (px < 0 || py < 0 || px > xa._length || py > ya._length) return;
  const a = document.getElementById("f-input_0"), b = document.getElementById("f-input_1");
  if (!a || !b) return;
  a.value = xa.p2d(px).toPrecision(4);
  b.value = ya.p2d(py).toPrecision(4);
  htmx.trigger(document.getElementById("predict-form"), "submit");
}

export function listen() {
  document.addEventListener("change", (event) => {
    if (event.target.id !== "log-scale") return;
    const div = document.getElementById("loss-plot");
    if (div && div.data) Plotly.relayout(div, { "yaxis.type": event.target.checked ? "log" : "linear" });
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest && event.target.closest("#output-plot")) predictAt(event);
  });
}
