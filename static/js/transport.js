// The transport: Play's stream of frames, and the scrubber and Redo button that follow the metrics' step.
import { applyFrame } from "./frames.js";
import { structure } from "./diagram_patch.js";
import { errorText, NO_ANSWER, showError } from "./messages.js";

// Play: while #player says Play runs, one server-sent stream (app/web/play_stream.py) pushes its frames, read with
// fetch (so that a refusal's status, message and Retry-After reach the page). Each frame is drawn at the next
// animation frame, one a display frame, and the server is told so every ACK_EVERY frames, and whenever the page has
// drawn all it holds (the stream may be waiting for that word): it keeps at most ACK_EVERY + 1 frames ahead of the
// last it was told of (app/web/play_stream.py), so that a slow page gets fewer, larger frames instead of a queue.
// A word a frame would cost more than the frame's patch. The stream's last frame (Play stopped, for whatever reason)
// and `end` close it; Pause closes it at once, and its answer shows where Play stopped.
const ACK_EVERY = 4;
let stream = null, token = null, queue = [], drawing = false, told = 0;

function playerSaysPlay() {
  const player = document.getElementById("player");
  return !!(player && player.dataset.playing);
}

function close() {
  if (stream) stream.abort();
  stream = null;
  token = null;
  queue = [];
  told = 0;
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
  // The server waits for the words of an open stream's frames; none after a stream's last frame (Play stopped: it
  // sends `end` and forgets the stream), and a word then would only be noted for nothing.
  if (source === stream && frame.playing && (number - told >= ACK_EVERY || !queue.length)) {
    told = number;
    drawn(number);
  }
  if (queue.length) later();
}

function later() {
  if (!drawing) {
    drawing = true;
    requestAnimationFrame(draw);
  }
}

// One server-sent event ("event: kind", "id: n", "data: ..." lines) of the stream `mine`.
function received(mine, text) {
  let kind = "message", id = 0, data = "";
  for (const line of text.split("\n")) {
    if (line.startsWith("event: ")) kind = line.slice(7);
    else if (line.startsWith("id: ")) id = Number(line.slice(4));
    else if (line.startsWith("data: ")) data += line.slice(6);
  }
  if (stream !== mine) return;
  if (kind === "stream") token = JSON.parse(data).stream;
  else if (kind === "frame") {
    queue.push([id, JSON.parse(data), mine]);
    later();
  }
}

// A stream that drops (the server restarted, or ended it after a hidden tab drew nothing for a while) is opened
// anew while #player still says Play runs: the new one shows where Play is, or that it stopped. A refusal (a rate
// limit) is shown and Play goes on after its Retry-After; only a stream that fails again and again is reported.
let failures = 0;

async function open() {
  const mine = stream = new AbortController();
  told = 0;  // a new stream numbers its frames from 1
  let brought = false, wait = 0;
  try {
    const url = "/ui/play/stream?holds=" + encodeURIComponent(structure());
    const response = await fetch(url, { credentials: "same-origin", signal: mine.signal,
                                        headers: { Accept: "text/event-stream" } });
    if (!response.ok) {
      showError(errorText({ status: response.status, responseText: await response.text() }));
      wait = parseInt(response.headers.get("Retry-After"), 10) || 1;
    } else {
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          received(mine, buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
          brought = true;
        }
      }
    }
  } catch (error) {
    if (stream !== mine) return;  // closed by the page (Pause)
  }
  if (stream !== mine) return;
  stream = null;
  failures = brought || wait ? 0 : failures + 1;
  if (failures > 3) {
    failures = 0;
    showError(NO_ANSWER);
    return;
  }
  setTimeout(play, wait ? wait * 1000 : failures * 1000);
}

// A stream's frames still waiting to be drawn say how Play goes on: its last frame (Play stopped) may be among them,
// while #player still says Play runs. Another stream is opened only once they are drawn.
export function play() {
  if (!stream && !queue.length && window.htmx && window.fetch && playerSaysPlay()) open();
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
