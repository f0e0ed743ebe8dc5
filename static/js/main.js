// The page's script, loaded as a module after htmx and Plotly (both globals): it wires the modules' listeners and
// brings the page up to date after each answer. Every number comes from the server.
import * as charts from "./charts.js";
import * as controls from "./controls.js";
import * as copyDownload from "./copy_download.js";
import * as diagramKeys from "./diagram_keys.js";
import * as focus from "./focus.js";
import * as frames from "./frames.js";
import * as inspector from "./inspector.js";
import * as live from "./live.js";
import * as messages from "./messages.js";
import * as shortcuts from "./shortcuts.js";
import * as transport from "./transport.js";

// The order in which listeners of one event run: live, diagram, focus, inspector, keys, messages, charts, controls, copy,
// frames, transport.
for (const part of [live, diagramKeys, focus, inspector, shortcuts, messages, charts, controls, copyDownload, frames,
                    transport]) part.listen();

function refresh() {
  refreshing = false;
  charts.drawOutput();
  charts.drawLoss();
  controls.applyNumbers();
  live.applyJoinCard();
  inspector.markStaleInspector();
  transport.moveScrubber();
  controls.syncAddress();
  transport.play();
}

// An answer swaps about eight panels one after another: the page is brought up to date once, after the last.
let refreshing = false;
function refreshSoon() {
  if (refreshing) return;
  refreshing = true;
  queueMicrotask(refresh);
}
document.addEventListener("htmx:oobAfterSwap", refreshSoon);
document.addEventListener("htmx:afterSettle", refreshSoon);
document.addEventListener("bp:frame", refreshSoon);
document.addEventListener("DOMContentLoaded", refresh);
