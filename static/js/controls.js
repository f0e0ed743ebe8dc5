// The page's own controls where the browser does part of the work: the numbers toggle, the sliders' read-outs,
// the address bar's setup link, a chosen CSV's target column and size, and the Matrix form's reveal.
export function applyNumbers() {
  const box = document.getElementById("show-numbers");
  const on = localStorage.getItem("bp-show-numbers") === "1";
  document.body.classList.toggle("show-numbers", on);
  if (box) box.checked = on;
}

// The address bar always holds the link that rebuilds the current setup ("/" when no link can describe it).
export function syncAddress() {
  const form = document.getElementById("controls-form");
  if (!form || location.pathname !== "/") return;
  const url = form.getAttribute("data-setup-url");  // not form.dataset: the form has a control named "dataset"
  if (url && location.pathname + location.search !== url) history.replaceState(null, "", url);
}

// A newly chosen CSV predicts its own last column by default, not the previous file's target: the field is
// cleared (the server then takes the last column) and filled with that column's name once the header is read.
// Its unit, too, is the new file's: Unit of the target is cleared, and the server reads it from the column name.
function guessTarget(event) {
  if (event.target.id !== "f-csv") return;
  const targets = document.getElementById("f-targets"), file = event.target.files && event.target.files[0];
  const unit = document.getElementById("f-unit");
  if (unit) unit.value = "";
  if (!targets) return;
  targets.value = "";
  if (!file || !file.slice) return;
  file.slice(0, 65536).text().then((text) => {
    const header = (text.split(/\r?\n/).find((line) => line.trim()) || "").split(",");
    const last = header[header.length - 1].trim().replace(/^"(.*)"$/, "$1");
    if (last && event.target.files[0] === file) targets.value = last;
  }, () => { /* unreadable here: the server still takes the last column */ });
}

// A file over the CSV cap is refused here, next to its control, instead of being sent only to be refused.
function checkSize(event) {
  const input = event.target;
  if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) return;
  const max = parseInt(input.dataset.maxBytes, 10), file = input.files && input.files[0];
  const text = file && file.size > max ? file.name + " is " + Math.ceil(file.size / 1000).toLocaleString("en") +
    " KB; the limit is " + Math.round(max / 1000).toLocaleString("en") + " KB. Choose a smaller file." : "";
  input.setCustomValidity(text);
  let note = document.getElementById(input.id + "-size");
  if (text && !note) {
    note = document.createElement("p");
    note.id = input.id + "-size";
    note.className = "field-error";
    note.setAttribute("role", "alert");
    input.insertAdjacentElement("afterend", note);
  }
  if (note) note.textContent = text;
  if (note && !text) note.remove();
}

export function listen() {
  document.addEventListener("change", (event) => {
    if (event.target.id !== "show-numbers") return;
    localStorage.setItem("bp-show-numbers", event.target.checked ? "1" : "0");
    applyNumbers();
  });
  document.addEventListener("input", (event) => {
    if (event.target.type !== "range") return;
    const out = document.querySelector('output[for="' + event.target.id + '"]');
    if (out) out.textContent = event.target.value + (event.target.name === "train_percent" ? "%" : "");
  });
  document.addEventListener("change", guessTarget);
  document.addEventListener("change", checkSize);

  // The Matrix form: when its toggle opens the panel (under the diagram) below the window's lower part, the page
  // scrolls so that the panel starts part-way down the window, with the diagram's lower part still above it.
  let revealMatrix = false;
  document.addEventListener("change", (event) => {
    if (event.target.id === "matrix-form-toggle") revealMatrix = event.target.checked;
  });
  document.addEventListener("htmx:oobAfterSwap", (event) => {
    if (event.target.id !== "matrix-form" || !revealMatrix) return;
    revealMatrix = false;
    const top = event.target.getBoundingClientRect().top;
    if (top > window.innerHeight * 0.7) window.scrollBy(0, top - window.innerHeight * 0.4);
  });
}
