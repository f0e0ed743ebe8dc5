// A live room: the presenter's join card, the keyboard's focus across a redrawn question, a follower's refused
// answer, a follower's patches, and the event stream's resume point.
import { structure } from "./diagram_patch.js";
import { applyFrame } from "./frames.js";

export function liveRoom() { return document.getElementById("live-room"); }

// A follower's stream: htmx's SSE extension swaps the HTML events (frame, poll, count, end); a `patch` (a step or a
// phase, app/web/live_publisher.py) is a light frame, applied in place as the presenter's page applies its own
// (frames.js). Each patch goes on from the frame or patch before it (its `base`); the page's picture is from the
// event it resumes after, then from each frame or patch it applied. Should a patch not fit (an event missed, another
// picture), the page is loaded again: it then draws the room as it is, and follows from there.
let held = null;  // the number of the last event the page's picture is from

function resumeAfter(id) {
  const room = liveRoom();
  if (room && id) room.setAttribute("sse-connect", room.getAttribute("sse-connect").replace(/after=\d+/, "after=" + id));
}

function frameArrived(event) { held = Number(event.lastEventId); }

function patchArrived(event) {
  const frame = JSON.parse(event.data);
  if ((frame.base !== null && held !== null && frame.base > held) ||
      (frame.diagram && frame.diagram.structure !== structure())) {
    location.reload();
    return;
  }
  applyFrame(frame);
  held = Number(event.lastEventId);
  resumeAfter(event.lastEventId);
}

function followPatches(event) {
  const room = liveRoom(), source = event.detail && event.detail.source;
  if (!room || event.target !== room || !source) return;
  const after = /after=(\d+)/.exec(room.getAttribute("sse-connect"));
  if (held === null && after) held = Number(after[1]);
  // The same functions each time the stream opens again: a listener is added once.
  source.addEventListener("frame", frameArrived);
  source.addEventListener("patch", patchArrived);
}

// The presenter's join card (QR code and code) can be put away once the class has joined; the choice is kept.
export function applyJoinCard() {
  const card = document.getElementById("live-join"), button = document.getElementById("btn-join-card");
  if (!card || !button) return;
  const hidden = localStorage.getItem("bp-join-card") === "hidden";
  card.hidden = hidden;
  button.textContent = hidden ? "Show the join card" : "Hide the join card";
  button.setAttribute("aria-expanded", hidden ? "false" : "true");
}

// A live room's panels are redrawn whole when a question is asked, revealed or cancelled: the keyboard's focus,
// when it was in one, goes to its main control (Reveal, the next question, the first answer) instead of the page.
let focusWasIn = null;
function redrawnLivePanel(el) { return el && (el.id === "live-present" || el.id === "live-poll"); }
function noteFocus(event) {
  const el = event.detail && (event.detail.target || event.target);
  if (!redrawnLivePanel(el)) return;
  const active = document.activeElement;
  focusWasIn = active && active !== document.body && el.contains(active) ? el.id : null;
}
function giveFocus(event) {
  const el = event.detail && (event.detail.target || event.target);
  if (!el || !focusWasIn || focusWasIn !== el.id) return;
  focusWasIn = null;
  const now = document.getElementById(el.id), first = now && now.querySelector("[data-focus-first]");
  if (first) first.focus({ preventScroll: true });
}

export function listen() {
  document.addEventListener("htmx:oobBeforeSwap", noteFocus);
  document.addEventListener("htmx:beforeSwap", noteFocus);
  document.addEventListener("htmx:oobAfterSwap", giveFocus);
  document.addEventListener("htmx:afterSwap", giveFocus);

  // A follower's answer that is not counted (403: this browser has not joined the room) still brings its line,
  // #live-mine, with the reason: swap it as a counted one is swapped.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const path = event.detail.requestConfig && event.detail.requestConfig.path;
    if (event.detail.xhr.status === 403 && /^\/live\/[^/]+\/answer$/.test(path || "")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Present is at the foot of the page; the join card it opens is at the top of the stage: bring it into view.
  let presenting = !!document.querySelector("#live-present:not([hidden])");
  document.addEventListener("htmx:oobAfterSwap", (event) => {
    if (event.target.id !== "live-present") return;
    const now = !event.target.hidden;
    if (now && !presenting) event.target.scrollIntoView({ block: "start" });
    presenting = now;
  });
  document.addEventListener("click", (event) => {
    if (!event.target.closest || !event.target.closest("#btn-join-card")) return;
    localStorage.setItem("bp-join-card", localStorage.getItem("bp-join-card") === "hidden" ? "shown" : "hidden");
    applyJoinCard();
  });

  // When htmx's SSE extension has to open the stream anew, it resumes after the last event received.
  document.addEventListener("htmx:sseMessage", (event) => resumeAfter(event.detail && event.detail.lastEventId));
  document.addEventListener("htmx:sseOpen", followPatches);
}
