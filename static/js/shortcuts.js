// The page's keyboard shortcuts: each key clicks a button, so a key does just what its button does.
const KEYS = { " ": "btn-step", "e": "btn-epoch", "p": "btn-play", "r": "btn-reset", "b": "btn-back", "f": "btn-forward",
               "[": "btn-row-prev", "]": "btn-row-next" };
const REPEATS = ["btn-step", "btn-back", "btn-forward"];  // holding R must not reset 30 times a second

function click(id) {
  const el = document.getElementById(id);
  if (el && !el.disabled) el.click();
}

export function listen() {
  document.addEventListener("keydown", (event) => {
    const bracket = event.key === "[" || event.key === "]";  // typed with AltGr (Ctrl+Alt) on many keyboards
    if (event.metaKey || (!bracket && (event.ctrlKey || event.altKey))) return;
    const tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea" || event.target.isContentEditable) return;
    if (tag === "button" && !bracket) return;  // a button takes Space and Enter itself
    if (event.key === " " && event.target.closest && event.target.closest(".edge, .node")) return;
    const id = KEYS[event.key.toLowerCase()];
    if (!id) return;
    event.preventDefault();
    if (event.repeat && !REPEATS.includes(id)) return;
    click(id);
  });
}
