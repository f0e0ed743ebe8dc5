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
  const [number, frame, source] = item;
  applyFrame(frame);
  // The server waits for the acks of an open stream's frames. It waits for none after a stream's last frame (Play
  // stopped: it sends `end` and forgets the stream's token), and an ack would then be refused.
  if (source === stream && frame.playing) drawn(number);
  if (queue.length) later();
}

function later() {
  if (!drawing) {
    drawing = true;
    requestAnimationFrame(draw);
  }
}

function open() {
  const source = stream = new EventSource("/ui/play/stream?holds=" + encodeURIComponent(structure()));
  source.addEventListener("stream", (event) => { if (stream === source) token = JSON.parse(event.data).stream; });
  source.addEventListener("frame", (event) => {
    if (stream !== source) return;
    queue.push([Number(event.lastEventId), JSON.parse(event.data), source]);
    later();
  });
  source.addEventListener("end", () => { if (stream === source) { source.close(); stream = null; } });
  source.onerror = () => {
    // A dropped stream is not reopened as it was (what the page holds may have changed): the next frame's answer
    // or a new Play opens another.
    if (stream !== source) return;
    source.close();
    stream = null;
    if (!queue.length && playerSaysPlay()) showError(NO_ANSWER);
  };
}

// A stream's frames still waiting to be drawn say how Play goes on: its last frame (Play stopped) may be among them,
// while #player still says Play runs. Another stream is opened only once they are drawn.
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
