// The diagram's keyboard and pointer: it is one tab stop (roving tabindex) kept across redraws; arrow keys move
// between its nodes and edges; Enter, Space or a click inspects one; hovering or focusing one describes it.
import { inspect } from "./inspector.js";

const TARGET = "#network .edge, #network .node";
let diagramFocus = null;  // the id of the diagram element that holds the tab stop, kept across redraws

// Up and down move within a layer's nodes, or among the edges that leave the same node; right and left go from a
// node to its outgoing or incoming edges and from an edge to the node at its head or its tail.
function neighbour(el, key) {
  const svg = document.getElementById("network"), d = el.dataset;
  const pick = (selector) => svg.querySelector(selector);
  const all = (selector) => Array.prototype.slice.call(svg.querySelectorAll(selector));
  const step = (list, delta) => {
    const i = list.indexOf(el);
    return list[Math.min(list.length - 1, Math.max(0, i + delta))];
  };
  const layer = Number(d.layer);
  if (el.classList.contains("node")) {
    if (key === "ArrowUp" || key === "ArrowDown") return step(all('.node[data-layer="' + layer + '"]'), key === "ArrowUp" ? -1 : 1);
    if (key === "ArrowRight") return pick('.edge[data-layer="' + layer + '"][data-from="' + d.index + '"]');
    return pick('.edge[data-layer="' + (layer - 1) + '"][data-to="' + d.index + '"]');
  }
  if (key === "ArrowUp" || key === "ArrowDown") return step(all('.edge[data-layer="' + layer + '"][data-from="' + d.from + '"]'), key === "ArrowUp" ? -1 : 1);
  if (key === "ArrowRight") return pick('.node[data-layer="' + (layer + 1) + '"][data-index="' + d.to + '"]');
  return pick('.node[data-layer="' + layer + '"][data-index="' + d.from + '"]');
}

function rove(el, focus) {
  const svg = document.getElementById("network");
  if (!svg || !el) return;
  const current = svg.querySelector('[tabindex="0"]');
  if (current && current !== el) current.setAttribute("tabindex", "-1");
  el.setAttribute("tabindex", "0");
  diagramFocus = el.id;
  if (focus) el.focus();
}

// After a redraw the tab stop stays on the same node or edge, and keeps the focus if it had it.
function restoreDiagramFocus(hadFocus) {
  const el = diagramFocus && document.getElementById(diagramFocus);
  if (el) rove(el, hadFocus);
}

function describe(event) {
  const target = event.target.closest && event.target.closest(".edge, .node");
  const info = document.getElementById("edge-info");
  if (target && info) info.textContent = target.getAttribute("aria-label");
}

export function listen() {
  document.addEventListener("keydown", (event) => {
    const el = event.target.closest && event.target.closest(TARGET);
    if (!el) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      inspect(el);
    } else if (/^Arrow(Up|Down|Left|Right)$/.test(event.key)) {
      event.preventDefault();
      const next = neighbour(el, event.key);
      if (next) rove(next, true);
    }
  });
  document.addEventListener("mouseover", describe);
  document.addEventListener("focusin", describe);
  document.addEventListener("click", (event) => {
    const el = event.target.closest && event.target.closest(TARGET);
    if (el) { rove(el, false); inspect(el); }
  });
  document.addEventListener("focusin", (event) => {
    const el = event.target.closest && event.target.closest(TARGET);
    if (el) rove(el, false);
  });
  // The diagram is redrawn after every action: note whether it had the focus, to give it back.
  let diagramHadFocus = false;
  const redrawsDiagram = (el) => el.id === "network-panel" || el.id === "network";
  document.addEventListener("htmx:oobBeforeSwap", (event) => {
    if (!redrawsDiagram(event.target)) return;
    diagramHadFocus = !!(document.activeElement && document.activeElement.closest &&
                         document.activeElement.closest("#network"));
  });
  document.addEventListener("htmx:oobAfterSwap", (event) => {
    if (!redrawsDiagram(event.target)) return;
    restoreDiagramFocus(diagramHadFocus);
    diagramHadFocus = false;
  });
}
