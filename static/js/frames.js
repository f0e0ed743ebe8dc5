// Light frames (app/web/frames.py): what an action or a Play frame changed, applied in place in one go, so that a
// frame is never half applied. The diagram is patched (diagram_patch.js), the charts get their new data (charts.js),
// and the panels that changed come as HTML: those a step changes (the metrics, the row picker and the diagram's words)
// are morphed into the ones on the page (idiomorph: only changed text and attributes are touched, and the focus stays
// where it was), the others swapped out of band as an HTML answer's are. main.js brings the rest of the page up to
// date on the "bp:frame" event that follows.
import { Idiomorph } from "/vendor/idiomorph/idiomorph.esm.js";
import * as charts from "./charts.js";
import { applyPatch, structure } from "./diagram_patch.js";

export const FRAME_TYPE = "application/vnd.backprop.frame+json";
// The page's actions whose answers are light frames: the transport's training and history buttons.
const LIGHT_ACTIONS = new Set(["/ui/step", "/ui/epoch", "/ui/play", "/ui/back", "/ui/forward"]);
// Panels morphed in place: their forms keep their targets (htmx bound them once), only values and words change.
const MORPHED = new Set(["metrics", "row-picker", "narration", "diagram-caption", "player"]);

function swapPanels(html) {
  const parts = document.createElement("template");
  parts.innerHTML = html;
  let rest = "";
  for (const part of Array.from(parts.content.children)) {
    const old = MORPHED.has(part.id) && document.getElementById(part.id);
    if (old) {
      part.removeAttribute("hx-swap-oob");
      Idiomorph.morph(old, part, { morphStyle: "outerHTML" });
    } else {
      rest += part.outerHTML;
    }
  }
  if (rest) htmx.swap(document.body, rest, { swapStyle: "none" });
}

export function applyFrame(frame) {
  if (frame.html) swapPanels(frame.html);
  if (frame.diagram) applyPatch(frame.diagram);
  if (frame.output) charts.updateOutput(frame.output);
  if (frame.loss) charts.updateLoss(frame.loss, !frame.playing);
  document.dispatchEvent(new CustomEvent("bp:frame", { detail: { step: frame.step, playing: frame.playing } }));
}

export function listen() {
  // Ask for a light frame, saying which picture the page draws ...
  document.addEventListener("htmx:configRequest", (event) => {
    if (LIGHT_ACTIONS.has(event.detail.path)) event.detail.headers["X-BP-Frame"] = structure();
  });
  // ... and apply it instead of swapping it.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const xhr = event.detail.xhr;
    if (xhr.status !== 200 || !(xhr.getResponseHeader("Content-Type") || "").startsWith(FRAME_TYPE)) return;
    event.detail.shouldSwap = false;
    applyFrame(JSON.parse(xhr.responseText));
  });
}
