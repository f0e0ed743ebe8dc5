// The inspector: clicking an edge or a node, or Enter on it, selects it; the server then draws it with every
// later change of state until it is closed (Esc or ×).
// A follower of a live room inspects the room's network on its own screen (a GET that changes nothing).
import { liveRoom } from "./live.js";

let inspected = null;  // a follower's last inspected edge or node

export function inspect(el) {
  if (el && el.id && !el.dataset) el = document.getElementById(el.id);  // a follower's remembered target
  if (!el || !window.htmx) return;
  const d = el.dataset;
  let values;
  if (el.classList.contains("edge")) values = { kind: "edge", layer: d.layer, from: d.from, to: d.to };
  else values = { kind: "node", layer: d.layer, to: d.index };
  const room = liveRoom();
  if (room) inspected = el.id && document.getElementById(el.id) === el ? { id: el.id } : null;
  if (room) htmx.ajax("GET", room.dataset.inspect, { target: "#inspector", swap: "outerHTML", values: values }).then(uncover);
  else htmx.ajax("POST", "/ui/inspect", { target: "#inspector", swap: "outerHTML", values: values }).then(uncover);
}

// On a phone the inspector is a sheet over the bottom of the window: the page scrolls so that the diagram it
// explains stays in view above it.
function uncover() {
  const sheet = document.getElementById("inspector"), svg = document.getElementById("network");
  if (!sheet || !svg || !sheet.classList.contains("open") || !matchMedia("(max-width: 760px)").matches) return;
  const hidden = svg.getBoundingClientRect().bottom - sheet.getBoundingClientRect().top;
  if (hidden > 0) window.scrollBy(0, hidden + 8);
}

function closeInspector() {
  const panel = document.getElementById("inspector");
  if (!panel || !panel.classList.contains("open")) return false;
  const hadFocus = panel.contains(document.activeElement);
  panel.classList.remove("open");
  if (window.htmx && !liveRoom()) htmx.ajax("POST", "/ui/inspect/close", { swap: "none" });
  const tabStop = document.querySelector('#network [tabindex="0"]');
  if (hadFocus && tabStop) tabStop.focus();  // back to the diagram's node or edge it was opened from
  return true;
}

// The worksheet ("Check my calculation") takes the focus into its first input when it opens; Esc or "Back to the
// inspector" closes it and gives the focus back to the button that opened it. Both arrive as out-of-band swaps of
// the whole inspector, so the focus is placed once the new inspector is in the page.
let wantFocus = null;  // "worksheet" or "opener", until the answer that opens or closes the worksheet is swapped in

function closeWorksheet() {
  if (!document.getElementById("worksheet") || !window.htmx) return false;
  wantFocus = "opener";
  htmx.ajax("POST", "/ui/worksheet/close", { swap: "none" });
  return true;
}

function placeFocus() {
  const sheet = document.getElementById("worksheet");
  let el = null;
  if (wantFocus === "worksheet" && sheet) el = sheet.querySelector("input:not([type=hidden])");
  if (wantFocus === "opener" && !sheet) el = document.getElementById("insp-worksheet-open");
  if (!el) return;
  wantFocus = null;
  el.focus({ preventScroll: true });
  el.scrollIntoView({ block: "nearest" });
}

// A follower's inspector shows the step it was opened at; once the room has moved on it says so, and offers the
// room's current step (asking again on every frame would cost the server a request per follower per frame).
export function markStaleInspector() {
  const room = liveRoom(), panel = document.getElementById("inspector"), status = document.getElementById("live-status");
  if (!room || !panel || !status) return;
  let note = document.getElementById("insp-stale");
  const stale = panel.classList.contains("open") && inspected && panel.dataset.step !== status.dataset.step;
  if (!stale) { if (note) note.remove(); return; }
  if (!note) {
    note = document.createElement("p");
    note.id = "insp-stale";
    note.className = "hint insp-stale";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "small";
    button.addEventListener("click", () => inspect(inspected));
    note.append(document.createTextNode(""), button);
    panel.querySelector(".insp-top").after(note);
  }
  note.firstChild.textContent = "This is step " + panel.dataset.step + "; the room is at step " + status.dataset.step + ". ";
  note.lastChild.textContent = "Show step " + status.dataset.step;
}

export function listen() {
  document.addEventListener("click", (event) => {
    if (!event.target.closest) return;
    if (event.target.closest("#insp-close")) closeInspector();
    if (event.target.closest("#ws-close")) wantFocus = "opener";
  });
  document.addEventListener("submit", (event) => {
    if (event.target.matches && event.target.matches("form.insp-worksheet")) wantFocus = "worksheet";
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (closeWorksheet() || closeInspector()) event.preventDefault();
  });
  document.addEventListener("htmx:oobAfterSwap", (event) => { if (wantFocus && event.target.id === "inspector") placeFocus(); });
  document.addEventListener("htmx:afterSettle", () => { if (wantFocus) placeFocus(); });
  document.addEventListener("htmx:responseError", () => { wantFocus = null; });
}
