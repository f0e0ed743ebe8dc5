// A live room: the presenter's join card, the keyboard's focus across a redrawn question, a follower's refused
// answer, and the event stream's resume point.
export function liveRoom() { return document.getElementById("live-room"); }

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
  document.addEventListener("htmx:sseMessage", (event) => {
    const room = liveRoom(), id = event.detail && event.detail.lastEventId;
    if (room && id) room.setAttribute("sse-connect", room.getAttribute("sse-connect").replace(/after=\d+/, "after=" + id));
  });
}
