// A light frame's diagram patch (app/views/diagram_patch.py): the values of the edges and nodes that changed, set in
// place on the picture the page drew, in the order app/views/network_svg.py's edge_values and node_values give them.
// Only what differs from the values last set is written, so that the browser restyles and repaints only that.
const SVG = "http://www.w3.org/2000/svg";
const EDGE = { cls: 0, text: 1, selected: 2, weight: 3, grad: 4, change: 5, before: 6, halo: 7, color: 8, width: 9,
               labelCls: 10, label: 11 };
const NODE = { cls: 0, text: 1, selected: 2, activation: 3, z: 4, delta: 5, bias: 6, before: 7, target: 8,
               ring: 9, ringWidth: 10, lines: 11 };
// The nodes' pictures: one image that each node shows a slice of (app/views/network_svg.py pictures_markup).
const PICTURES = "node-pictures";

function attr(el, name, value) {
  if (value === null || value === undefined) el.removeAttribute(name);
  else el.setAttribute(name, value);
}

// The element's values as last set: from the patch before, or (the first time) none, so that all are written.
function changed(el, values) {
  const old = el.__values || [];
  el.__values = values;
  return (i) => old[i] !== values[i];
}

function common(g, v, diff, K) {
  if (diff(K.cls)) g.setAttribute("class", v[K.cls]);
  if (diff(K.text)) {
    g.setAttribute("aria-label", v[K.text]);
    const title = g.querySelector("title");
    if (title) title.textContent = v[K.text];
  }
  if (diff(K.selected)) attr(g, "aria-current", v[K.selected] ? "true" : null);
}

function patchEdge(g, v) {
  const diff = changed(g, v);
  common(g, v, diff, EDGE);
  if (diff(EDGE.weight)) g.setAttribute("data-weight", v[EDGE.weight]);
  if (diff(EDGE.grad)) g.setAttribute("data-grad", v[EDGE.grad]);
  if (diff(EDGE.change)) g.setAttribute("data-change", v[EDGE.change]);
  if (diff(EDGE.before)) attr(g, "data-weight-before", v[EDGE.before]);
  if (diff(EDGE.halo)) {
    let halo = g.querySelector("path.halo");
    if (v[EDGE.halo] === null) {
      if (halo) halo.remove();
    } else {
      if (!halo) {
        const hit = g.querySelector("path.hit");
        halo = document.createElementNS(SVG, "path");
        halo.setAttribute("class", "halo");
        halo.setAttribute("d", hit.getAttribute("d"));
        g.insertBefore(halo, hit);
      }
      halo.setAttribute("stroke-width", v[EDGE.halo]);
    }
  }
  if (diff(EDGE.color) || diff(EDGE.width)) {
    const line = g.querySelector("path.line");
    line.setAttribute("stroke", v[EDGE.color]);
    line.setAttribute("stroke-width", v[EDGE.width]);
  }
  if (diff(EDGE.labelCls)) g.querySelector("text.num").setAttribute("class", v[EDGE.labelCls]);
  if (diff(EDGE.label)) {
    const label = g.querySelector("text.num"), text = v[EDGE.label];
    if (text.indexOf("<") < 0) label.textContent = text;  // one number; the backward phase's two lines are markup
    else label.innerHTML = text;
  }
}

function patchNode(g, v) {
  const diff = changed(g, v);
  common(g, v, diff, NODE);
  for (const [name, key] of [["data-activation", "activation"], ["data-z", "z"], ["data-delta", "delta"],
                             ["data-bias", "bias"], ["data-bias-before", "before"], ["data-target", "target"]]) {
    if (diff(NODE[key])) attr(g, name, v[NODE[key]]);
  }
  if (diff(NODE.ring) || diff(NODE.ringWidth)) {
    const ring = g.querySelector("rect.ring");
    ring.setAttribute("stroke", v[NODE.ring]);
    ring.setAttribute("stroke-width", v[NODE.ringWidth]);
  }
  if (diff(NODE.lines)) setLines(g.querySelector("text.lines"), v[NODE.lines]);
}

// The number lines under a node, [css class, text] each: the <tspan>s there are kept and their text set; a line
// more or fewer is a copy of the first (its place and pitch) or goes.
function setLines(text, lines) {
  if (!text || !lines || !text.firstElementChild) return;
  const model = text.firstElementChild;
  while (text.children.length < lines.length) text.appendChild(model.cloneNode(false));
  while (text.children.length > lines.length) text.lastElementChild.remove();
  lines.forEach(([cls, words], i) => {
    const span = text.children[i];
    if (span.getAttribute("class") !== cls) span.setAttribute("class", cls);
    if (span.textContent !== words) span.textContent = words;
  });
}

// Applies `patch` to #network; false (nothing changed) when the page draws another structure.
export function applyPatch(patch) {
  const svg = document.getElementById("network");
  if (!svg || svg.dataset.structure !== patch.structure) return false;
  const [step, row, batchRow, batchSize, cls] = patch.svg;
  svg.setAttribute("data-step", step);
  // What the picture shows (a forward phase's numbers appear anew by it); a patch from before it was sent has none.
  if (cls && svg.getAttribute("class") !== cls) svg.setAttribute("class", cls);
  attr(svg, "data-row", row);
  attr(svg, "data-batch-row", batchRow);
  attr(svg, "data-batch-size", batchSize);
  svg.setAttribute("aria-label", "Network diagram at step " + step);
  for (const id in patch.edges) {
    const g = document.getElementById(id);
    if (g) patchEdge(g, patch.edges[id]);
  }
  for (const id in patch.nodes) {
    const g = document.getElementById(id);
    if (g) patchNode(g, patch.nodes[id]);
  }
  const pictures = patch.pictures && document.getElementById(PICTURES);
  if (pictures) pictures.setAttribute("href", patch.pictures);
  return true;
}

// What the page draws, for the server: the structure of its picture (a request for a light frame says it).
export function structure() {
  const svg = document.getElementById("network");
  return (svg && svg.dataset.structure) || "";
}
