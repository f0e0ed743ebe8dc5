// Focus and announcements across swaps. An answer replaces whole panels (out-of-band swaps), and the element that
// had the focus goes with its panel: the focus would drop to <body>. Before a panel is replaced, the id of the
// focused element inside it is kept, and once the new panel is in, the element of that id takes the focus back.
// The diagram keeps its own tab stop (diagram_keys.js), the worksheet its own (inspector.js).
let keptId = null;  // the id of the focused element inside a panel being replaced

function keep(event) {
  const panel = event.target, active = document.activeElement;
  if (!panel || !active || active === document.body || !panel.contains(active)) return;
  if (active.id && !active.closest("#network")) keptId = active.id;
}

function restore() {
  if (!keptId) return;
  const active = document.activeElement;
  if (active && active !== document.body && document.contains(active)) { keptId = null; return; }
  const el = document.getElementById(keptId);
  if (el) { keptId = null; el.focus({ preventScroll: true }); }
}

// The gradient check's result arrives in its own panel, below the diagram: it is brought into view (its panel is a
// live region, templates/partials/gradcheck.html, so a screen reader reads it out).
let revealCheck = false;

function reveal() {
  const result = document.querySelector("#gradcheck .gradcheck");
  if (!revealCheck || !result) return;
  revealCheck = false;
  const motion = matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
  result.scrollIntoView({ block: "nearest", behavior: motion });
}

export function listen() {
  document.addEventListener("htmx:oobBeforeSwap", keep);
  document.addEventListener("htmx:beforeSwap", keep);
  document.addEventListener("htmx:oobAfterSwap", restore);
  document.addEventListener("htmx:afterSettle", restore);
  document.addEventListener("submit", (event) => {
    if (event.target.querySelector && event.target.querySelector("#btn-gradcheck")) revealCheck = true;
  });
  document.addEventListener("htmx:afterSettle", reveal);  // once every panel of the answer is in
}
