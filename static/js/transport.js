// The transport: Play's frame loop, and the scrubber and Redo button that follow the metrics' step.
import { errorText, NO_ANSWER, showError } from "./messages.js";

// Play: while #player says Play runs, the next frame is asked for as soon as one arrives, before it is drawn,
// so that the server trains frame k + 1 while the browser draws frame k. One frame is on its way at a time,
// so frames are drawn in order; an answer whose #player no longer says so (Pause, a stop, an explosion) ends
// the loop.
let framing = false;
function playerSaysPlay() {
  const player = document.getElementById("player");
  return !!(player && player.dataset.playing);
}

function nextFrame() {
  framing = true;
  fetch("/ui/play-frame", { method: "POST", headers: { "HX-Request": "true" }, credentials: "same-origin" })
    .then((response) => response.text().then((text) => {
      if (!response.ok) {
        framing = false;
        showError(errorText({ status: response.status, responseText: text }));
        if (response.status === 429 || response.status === 503) {
          // Playing faster than the limit: wait as long as the server asks, then go on if still playing.
          const wait = parseInt(response.headers.get("Retry-After"), 10) || 1;
          setTimeout(() => { if (playerSaysPlay() && !framing) nextFrame(); }, wait * 1000);
        }
        return;
      }
      const more = /<div id="player"[^>]*data-playing="1"/.test(text);
      if (more) nextFrame();
      htmx.swap(document.body, text, { swapStyle: "none" });  // its swaps see the old #player: still framing
      if (!more) framing = false;
    }), () => {
      framing = false;
      showError(NO_ANSWER);
    });
}

export function play() { if (!framing && window.htmx && playerSaysPlay()) nextFrame(); }

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
