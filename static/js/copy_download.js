// The Copy and download buttons (button[data-copy], button[data-download]): copy a text to the clipboard, save
// the diagram as SVG or the loss curve as PNG.
import { flush } from "./charts.js";

function save(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// The diagram is styled by style.css; a downloaded SVG carries the computed styles inline instead.
const SVG_STYLE = ["fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity", "stroke-dasharray",
                   "stroke-linecap", "opacity", "font-family", "font-size", "font-weight", "text-anchor",
                   "dominant-baseline", "paint-order", "display", "visibility"];
function downloadDiagram() {
  const svg = document.getElementById("network");
  if (!svg) return;
  const copy = svg.cloneNode(true), from = svg.querySelectorAll("*"), to = copy.querySelectorAll("*");
  for (let i = 0; i < from.length; i++) {
    const computed = getComputedStyle(from[i]);
    to[i].setAttribute("style", SVG_STYLE.map((p) => p + ":" + computed.getPropertyValue(p)).join(";"));
  }
  copy.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  copy.setAttribute("width", svg.viewBox.baseVal.width);
  copy.setAttribute("height", svg.viewBox.baseVal.height);
  const text = '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(copy);
  save(new Blob([text], { type: "image/svg+xml" }), "network-step-" + svg.dataset.step + ".svg");
}

function downloadLoss() {
  const loss = document.getElementById("loss-plot"), m = document.getElementById("metrics");
  if (!loss || !loss.data) return;
  flush();
  Plotly.downloadImage(loss, { format: "png", width: 900, height: 450,
                               filename: "loss-curve-step-" + (m ? m.dataset.step : "") });
}

function copy(button) {
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  const text = source.value !== undefined ? source.value : source.textContent;
  const done = () => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => selectAndCopy(source) && done());
  } else if (selectAndCopy(source)) {
    done();
  }
}

// Plain http on a LAN address has no Clipboard API: select the text and use the old copy command.
function selectAndCopy(source) {
  if (source.select) {
    source.select();
  } else {
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  return document.execCommand("copy");
}

export function listen() {
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button[data-copy], button[data-download]");
    if (!button) return;
    if (button.dataset.copy) copy(button);
    else if (button.dataset.download === "diagram") downloadDiagram();
    else if (button.dataset.download === "loss") downloadLoss();
  });
}
