// The transport: Play's stream of frames, and the scrubber and Redo button that follow the metrics' step.
import { applyFrame } from "./frames.js";
import { structure } from "./diagram_patch.js";
import { NO_ANSWER, showError } from "./messages.js";

// Play: while #player says Play runs, one server-sent stream (app/web/play_stream.py) pushes its frames. Each is
// drawn at the next animation frame, one a display frame, and the server is told it was drawn: it keeps at most two
// ahead of the page, so that a slow page gets fewer, larger frames instead of a queue. The stream's last frame
// (Play stopped, for whatever reason) and `end` close it; Pause closes it at once, and its answer shows where Play
// stopped.
let stream = null, token = null, queue = [], drawing = false;

function playerSaysPlay() {
  const player = document.getElementById("player");
  return !!(player && player.dataset.playing);
}

function close() {
  if (stream) stream.close();
  stream = null;
  token = null;
  queue = [];
}

function drawn(frame) {
  if (!token) return;
  fetch("/ui/play/drawn", { method: "POST", credentials: "same-origin", headers: { "HX-Request": "true" },
                            body: new URLSearchParams({ stream: token, frame: String(frame) }) })
    .catch(() => {});
}

function draw() {
  drawing = false;
  const item = queue.shift();
  if (!item) return;
  const [number, frame] = item;
  applyFrame(frame);
  drawn(number);
  if (queue.length) later();
}

function later() {
  if (!drawing) {
    drawing = true;
    requestAnimationFrame(draw);
  }
}

// A stream that drops (the server restarted, or ended it after a hidden tab drew nothing for a while) is opened
// anew while #player still says Play runs: the new one shows where Play is, or that it stopped. Only a stream that
// fails again and again, bringing nothing, is reported.
let failures = 0;

function open() {
  const source = stream = new EventSource("/ui/play/stream?holds=" + encodeURIComponent(structure()));
  let brought = false;
  source.addEventListener("stream", (event) => { if (stream === source) token = JSON.parse(event.data).stream; });
  source.addEventListener("frame", (event) => {
    if (stream !== source) return;
    brought = true;
    failures = 0;
    queue.push([Number(event.lastEventId), JSON.parse(event.data)]);
    later();
  });
  source.addEventListener("end", () => { if (stream === source) { source.close(); stream = null; } });
  source.onerror = () => {
    if (stream !== source) return;
    source.close();
    stream = null;
    failures = brought ? 0 : failures + 1;
    if (failures > 3) {
      failures = 0;
      showError(NO_ANSWER);
      return;
    }
    setTimeout(play, failures * 1000);
  };
}

export function play() {
  if (!stream && !queue.length && window.htmx && window.EventSource && playerSaysPlay()) open();
}

export function listen() {
  // Pause stops the frames at once: none is drawn after the click, and its answer shows the step Play reached.
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.requestConfig && event.detail.requestConfig.path === "/ui/pause") close();
  });
}

// The scrubber is not re-sent with every step; the metrics carry the step and the kept range.
export function moveScrubber() {
  const m = document.getElementById("metrics"), range = document.getElementById("rewind-step");
  const forward = document.getElementById("btn-forward");  // a new step discards the steps to redo
  if (m && forward) forward.disabled = Number(m.dataset.step) >= Number(m.dataset.keptNewest);
  if (!m || !range || document.activeElement === range) return;
  range.min = m.dataset.keptOldest;
  range.max = m.dataset.keptNewest;
  range.value = m.dataset.step;
  range.disabled = m.dataset.keptOldest === m.dataset.keptNewest;
  range.setAttribute("aria-valuetext", "step " + m.dataset.step);
  const out = document.querySelector('output[for="rewind-step"]');
  if (out) out.textContent = "step " + m.dataset.step + " · kept " + m.dataset.keptOldest + "–" + m.dataset.keptNewest;
}
