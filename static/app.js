// Wires Plotly and keyboard shortcuts to the server-rendered panels. Every number comes from the server.
(function () {
  "use strict";
  var TRAIN = "#0877bd", TEST = "#f59322";
  var PLOT_CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

  function readJSON(id) {
    var el = document.getElementById(id);
    if (!el || el.dataset.done) return null;
    el.dataset.done = "1";
    return JSON.parse(el.textContent);
  }

  // Step answers arrive up to ~60 times a second while playing; Plotly redraws are far slower than the
  // SVG swap, so chart updates are coalesced and drawn at most every FLUSH_MS. The diagram is never delayed.
  var FLUSH_MS = 150, pendingOutput = null, pendingLoss = [], timer = null, lastFlush = 0;

  function schedule() {
    if (timer) return;
    timer = setTimeout(flush, Math.max(0, FLUSH_MS - (performance.now() - lastFlush)));
  }

  function flush() {
    timer = null;
    lastFlush = performance.now();
    var out = document.getElementById("output-plot"), loss = document.getElementById("loss-plot");
    if (pendingOutput && out && out.data) {
      if (pendingOutput.image) Plotly.relayout(out, { "images[0].source": pendingOutput.image });
      if (pendingOutput.fit) Plotly.restyle(out, { y: [pendingOutput.fit] }, [traceNamed(out, "network")]);
      var mark = traceNamed(out, "your input");
      if (pendingOutput.marker_y != null && mark >= 0) Plotly.restyle(out, { y: [pendingOutput.marker_y] }, [mark]);
    }
    pendingOutput = null;
    if (pendingLoss.length && loss && loss.data) {
      var t = lossTraces(pendingLoss);
      Plotly.extendTraces(loss, { x: [t[0].x, t[1].x], y: [t[0].y, t[1].y] }, [0, 1]);
      if (loss.data[0].mode !== "lines" && loss.data[0].x.length >= 40) Plotly.restyle(loss, { mode: "lines" });
      thinLoss(loss);
    }
    pendingLoss = [];
  }

  function traceNamed(div, name) {
    for (var i = 0; i < div.data.length; i++) if (div.data[i].name === name) return i;
    return -1;
  }

  // A long curve is thinned as the server thins its own (app/core/session.py MAX_HISTORY): beyond the limit every
  // other point of the older half goes, so that fast Play does not redraw an ever longer line.
  function thinLoss(loss) {
    var max = Number(loss.dataset.maxPoints) || 4000, n = loss.data[0].x.length;
    if (n <= max) return;
    var half = Math.floor(n / 2);
    var keep = function (v, i) { return i >= half || i % 2 === 0; };
    Plotly.restyle(loss, { x: [loss.data[0].x.filter(keep), loss.data[1].x.filter(keep)],
                           y: [loss.data[0].y.filter(keep), loss.data[1].y.filter(keep)] }, [0, 1]);
  }

  function drawOutput() {
    var data = readJSON("output-data");
    var div = document.getElementById("output-plot");
    if (!data || !div || !window.Plotly) return;
    if (data.figure) {
      var fallback = div.querySelector("img.fallback");
      if (fallback) fallback.remove();
      pendingOutput = null;
      Plotly.react(div, data.figure.data, Object.assign({ uirevision: data.kind }, data.figure.layout), PLOT_CONFIG);
    } else {
      pendingOutput = data;
      schedule();
    }
  }

  function lossLayout() {
    var log = document.getElementById("log-scale");
    return {
      margin: { l: 52, r: 12, t: 26, b: 36 }, showlegend: true,
      legend: { orientation: "h", x: 1, xanchor: "right", y: 1.02, yanchor: "bottom" },
      xaxis: { title: { text: "step" } }, yaxis: { type: log && log.checked ? "log" : "linear", exponentformat: "e" },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#ffffff", font: { size: 11 }, uirevision: "loss"
    };
  }

  function lossTraces(points) {
    var x = [], train = [], test = [];
    points.forEach(function (p) { x.push(p[0]); train.push(p[1]); test.push(p[2]); });
    var mode = points.length < 40 ? "lines+markers" : "lines";  // a short curve is a few dots; see flush()
    return [
      { type: "scatter", mode: mode, name: "train", x: x, y: train, line: { color: TRAIN, width: 2 }, marker: { size: 5 } },
      { type: "scatter", mode: mode, name: "test", x: x.slice(), y: test, line: { color: TEST, width: 2, dash: "dash" }, marker: { size: 5 } }
    ];
  }

  function drawLoss() {
    var data = readJSON("loss-data");
    var div = document.getElementById("loss-plot");
    if (!data || !div || !window.Plotly) return;
    if (data.mode === "replace" || !div.data) {
      pendingLoss = [];
      Plotly.react(div, lossTraces(data.points), lossLayout(), PLOT_CONFIG);
    } else if (data.points.length) {
      // Only steps after the last one drawn: a live room's page may already hold a frame's first points.
      var last = pendingLoss.length ? pendingLoss[pendingLoss.length - 1][0] : lastStep(div);
      pendingLoss = pendingLoss.concat(data.points.filter(function (p) { return last === null || p[0] > last; }));
      schedule();
    }
  }

  // The presenter's join card (QR code and code) can be put away once the class has joined; the choice is kept.
  function applyJoinCard() {
    var card = document.getElementById("live-join"), button = document.getElementById("btn-join-card");
    if (!card || !button) return;
    var hidden = localStorage.getItem("bp-join-card") === "hidden";
    card.hidden = hidden;
    button.textContent = hidden ? "Show the join card" : "Hide the join card";
    button.setAttribute("aria-expanded", hidden ? "false" : "true");
  }
  // A live room's panels are redrawn whole when a question is asked, revealed or cancelled: the keyboard's focus,
  // when it was in one, goes to its main control (Reveal, the next question, the first answer) instead of the page.
  var focusWasIn = null;
  function redrawnLivePanel(el) { return el && (el.id === "live-present" || el.id === "live-poll"); }
  function noteFocus(event) {
    var el = event.detail && (event.detail.target || event.target);
    if (!redrawnLivePanel(el)) return;
    var active = document.activeElement;
    focusWasIn = active && active !== document.body && el.contains(active) ? el.id : null;
  }
  function giveFocus(event) {
    var el = event.detail && (event.detail.target || event.target);
    if (!el || !focusWasIn || focusWasIn !== el.id) return;
    focusWasIn = null;
    var now = document.getElementById(el.id), first = now && now.querySelector("[data-focus-first]");
    if (first) first.focus({ preventScroll: true });
  }
  document.addEventListener("htmx:oobBeforeSwap", noteFocus);
  document.addEventListener("htmx:beforeSwap", noteFocus);
  document.addEventListener("htmx:oobAfterSwap", giveFocus);
  document.addEventListener("htmx:afterSwap", giveFocus);

  // A follower's answer that is not counted (403: this browser has not joined the room) still brings its line,
  // #live-mine, with the reason: swap it as a counted one is swapped.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var path = event.detail.requestConfig && event.detail.requestConfig.path;
    if (event.detail.xhr.status === 403 && /^\/live\/[^/]+\/answer$/.test(path || "")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Present is at the foot of the page; the join card it opens is at the top of the stage: bring it into view.
  var presenting = !!document.querySelector("#live-present:not([hidden])");
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.target.id !== "live-present") return;
    var now = !event.target.hidden;
    if (now && !presenting) event.target.scrollIntoView({ block: "start" });
    presenting = now;
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("#btn-join-card")) return;
    localStorage.setItem("bp-join-card", localStorage.getItem("bp-join-card") === "hidden" ? "shown" : "hidden");
    applyJoinCard();
  });

  // A follower's inspector shows the step it was opened at; once the room has moved on it says so, and offers the
  // room's current step (asking again on every frame would cost the server a request per follower per frame).
  var inspected = null;  // the follower's last inspected edge or node
  function markStaleInspector() {
    var room = liveRoom(), panel = document.getElementById("inspector"), status = document.getElementById("live-status");
    if (!room || !panel || !status) return;
    var note = document.getElementById("insp-stale");
    var stale = panel.classList.contains("open") && inspected && panel.dataset.step !== status.dataset.step;
    if (!stale) { if (note) note.remove(); return; }
    if (!note) {
      note = document.createElement("p");
      note.id = "insp-stale";
      note.className = "hint insp-stale";
      var button = document.createElement("button");
      button.type = "button";
      button.className = "small";
      button.addEventListener("click", function () { inspect(inspected); });
      note.append(document.createTextNode(""), button);
      panel.querySelector(".insp-top").after(note);
    }
    note.firstChild.textContent = "This is step " + panel.dataset.step + "; the room is at step " + status.dataset.step + ". ";
    note.lastChild.textContent = "Show step " + status.dataset.step;
  }

  function lastStep(div) {
    var x = div.data && div.data[0] && div.data[0].x;
    return x && x.length ? x[x.length - 1] : null;
  }

  // A live room's stream: when htmx's SSE extension has to open it anew, it resumes after the last event received.
  document.addEventListener("htmx:sseMessage", function (event) {
    var room = liveRoom(), id = event.detail && event.detail.lastEventId;
    if (room && id) room.setAttribute("sse-connect", room.getAttribute("sse-connect").replace(/after=\d+/, "after=" + id));
  });

  function describe(event) {
    var target = event.target.closest && event.target.closest(".edge, .node");
    var info = document.getElementById("edge-info");
    if (target && info) info.textContent = target.getAttribute("aria-label");
  }

  function applyNumbers() {
    var box = document.getElementById("show-numbers");
    var on = localStorage.getItem("bp-show-numbers") === "1";
    document.body.classList.toggle("show-numbers", on);
    if (box) box.checked = on;
  }

  function click(id) {
    var el = document.getElementById(id);
    if (el && !el.disabled) el.click();
  }

  var KEYS = { " ": "btn-step", "e": "btn-epoch", "p": "btn-play", "r": "btn-reset", "b": "btn-back", "f": "btn-forward",
               "[": "btn-row-prev", "]": "btn-row-next" };

  // The inspector: clicking an edge or a node, or Enter on it, selects it; the server then draws it with every
  // later change of state until it is closed (Esc or ×).
  // A follower of a live room inspects the room's network on its own screen (a GET that changes nothing).
  function liveRoom() { return document.getElementById("live-room"); }

  function inspect(el) {
    if (el && el.id && !el.dataset) el = document.getElementById(el.id);  // a follower's remembered target
    if (!el || !window.htmx) return;
    var d = el.dataset, values;
    if (el.classList.contains("edge")) values = { kind: "edge", layer: d.layer, from: d.from, to: d.to };
    else values = { kind: "node", layer: d.layer, to: d.index };
    var room = liveRoom();
    if (room) inspected = el.id && document.getElementById(el.id) === el ? { id: el.id } : null;
    if (room) htmx.ajax("GET", room.dataset.inspect, { target: "#inspector", swap: "outerHTML", values: values }).then(uncover);
    else htmx.ajax("POST", "/ui/inspect", { target: "#inspector", swap: "outerHTML", values: values }).then(uncover);
  }

  // On a phone the inspector is a sheet over the bottom of the window: the page scrolls so that the diagram it
  // explains stays in view above it.
  function uncover() {
    var sheet = document.getElementById("inspector"), svg = document.getElementById("network");
    if (!sheet || !svg || !sheet.classList.contains("open") || !matchMedia("(max-width: 760px)").matches) return;
    var hidden = svg.getBoundingClientRect().bottom - sheet.getBoundingClientRect().top;
    if (hidden > 0) window.scrollBy(0, hidden + 8);
  }

  function closeInspector() {
    var panel = document.getElementById("inspector");
    if (!panel || !panel.classList.contains("open")) return false;
    panel.classList.remove("open");
    if (window.htmx && !liveRoom()) htmx.ajax("POST", "/ui/inspect/close", { swap: "none" });
    return true;
  }

  // The diagram is one tab stop (roving tabindex). Arrow keys: up and down move within a layer's nodes, or
  // among the edges that leave the same node; right and left go from a node to its outgoing or incoming edges
  // and from an edge to the node at its head or its tail.
  var diagramFocus = null;  // the id of the diagram element that holds the tab stop, kept across redraws
  function neighbour(el, key) {
    var svg = document.getElementById("network"), d = el.dataset;
    var pick = function (selector) { return svg.querySelector(selector); };
    var all = function (selector) { return Array.prototype.slice.call(svg.querySelectorAll(selector)); };
    var step = function (list, delta) {
      var i = list.indexOf(el);
      return list[Math.min(list.length - 1, Math.max(0, i + delta))];
    };
    var layer = Number(d.layer);
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
    var svg = document.getElementById("network");
    if (!svg || !el) return;
    var current = svg.querySelector('[tabindex="0"]');
    if (current && current !== el) current.setAttribute("tabindex", "-1");
    el.setAttribute("tabindex", "0");
    diagramFocus = el.id;
    if (focus) el.focus();
  }

  // After a redraw the tab stop stays on the same node or edge, and keeps the focus if it had it.
  function restoreDiagramFocus(hadFocus) {
    var el = diagramFocus && document.getElementById(diagramFocus);
    if (el) rove(el, hadFocus);
  }

  document.addEventListener("keydown", function (event) {
    var el = event.target.closest && event.target.closest("#network .edge, #network .node");
    if (!el) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      inspect(el);
    } else if (/^Arrow(Up|Down|Left|Right)$/.test(event.key)) {
      event.preventDefault();
      var next = neighbour(el, event.key);
      if (next) rove(next, true);
    }
  });

  // Clicking the 2-D output plot predicts that point: the click position in data coordinates.
  function predictAt(event) {
    var div = document.getElementById("output-plot");
    if (!div || div.dataset.kind !== "boundary" || !div._fullLayout || event.target.closest(".modebar")) return;
    var xa = div._fullLayout.xaxis, ya = div._fullLayout.yaxis, box = div.getBoundingClientRect();
    var px = event.clientX - box.left - xa._offset, py = event.clientY - box.top - ya._offset;
    if (px < 0 || py < 0 || px > xa._length || py > ya._length) return;
    var a = document.getElementById("f-input_0"), b = document.getElementById("f-input_1");
    if (!a || !b) return;
    a.value = xa.p2d(px).toPrecision(4);
    b.value = ya.p2d(py).toPrecision(4);
    htmx.trigger(document.getElementById("predict-form"), "submit");
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && closeInspector()) { event.preventDefault(); return; }
    var bracket = event.key === "[" || event.key === "]";  // typed with AltGr (Ctrl+Alt) on many keyboards
    if (event.metaKey || (!bracket && (event.ctrlKey || event.altKey))) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea" || event.target.isContentEditable) return;
    if (tag === "button" && event.key !== "[" && event.key !== "]") return;  // a button takes Space and Enter itself
    if (event.key === " " && event.target.closest && event.target.closest(".edge, .node")) return;
    var id = KEYS[event.key.toLowerCase()];
    if (!id) return;
    event.preventDefault();
    if (event.repeat && id !== "btn-step" && id !== "btn-back" && id !== "btn-forward") return;  // holding R must not reset 30 times a second
    click(id);
  });

  document.addEventListener("change", function (event) {
    if (event.target.id === "show-numbers") {
      localStorage.setItem("bp-show-numbers", event.target.checked ? "1" : "0");
      applyNumbers();
    } else if (event.target.id === "log-scale") {
      var div = document.getElementById("loss-plot");
      if (div && div.data) Plotly.relayout(div, { "yaxis.type": event.target.checked ? "log" : "linear" });
    }
  });

  document.addEventListener("input", function (event) {
    if (event.target.type === "range") {
      var out = document.querySelector('output[for="' + event.target.id + '"]');
      if (out) out.textContent = event.target.value + (event.target.name === "train_percent" ? "%" : "");
    }
  });

  document.addEventListener("mouseover", describe);
  document.addEventListener("focusin", describe);
  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    var el = event.target.closest("#network .edge, #network .node");
    if (el) { rove(el, false); inspect(el); }
    if (event.target.closest("#insp-close")) closeInspector();
    var dismiss = event.target.closest("#message .dismiss");
    if (dismiss) dismiss.closest(".message").remove();
  });
  document.addEventListener("focusin", function (event) {
    var el = event.target.closest && event.target.closest("#network .edge, #network .node");
    if (el) rove(el, false);
  });
  // The diagram is redrawn after every action: note whether it had the focus, to give it back.
  var diagramHadFocus = false;
  function redrawsDiagram(el) { return el.id === "network-panel" || el.id === "network"; }
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    if (!redrawsDiagram(event.target)) return;
    diagramHadFocus = !!(document.activeElement && document.activeElement.closest &&
                         document.activeElement.closest("#network"));
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (!redrawsDiagram(event.target)) return;
    restoreDiagramFocus(diagramHadFocus);
    diagramHadFocus = false;
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("#output-plot")) predictAt(event);
  });
  // The scrubber is not re-sent with every step; the metrics carry the step and the kept range.
  function moveScrubber() {
    var m = document.getElementById("metrics"), range = document.getElementById("rewind-step");
    var forward = document.getElementById("btn-forward");  // a new step discards the steps to redo
    if (m && forward) forward.disabled = Number(m.dataset.step) >= Number(m.dataset.keptNewest);
    if (!m || !range || document.activeElement === range) return;
    range.min = m.dataset.keptOldest;
    range.max = m.dataset.keptNewest;
    range.value = m.dataset.step;
    range.disabled = m.dataset.keptOldest === m.dataset.keptNewest;
    range.setAttribute("aria-valuetext", "step " + m.dataset.step);
    var out = document.querySelector('output[for="rewind-step"]');
    if (out) out.textContent = "step " + m.dataset.step + " · kept " + m.dataset.keptOldest + "–" + m.dataset.keptNewest;
  }

  // The address bar always holds the link that rebuilds the current setup ("/" when no link can describe it).
  function syncAddress() {
    var form = document.getElementById("controls-form");
    if (!form || location.pathname !== "/") return;
    var url = form.getAttribute("data-setup-url");  // not form.dataset: the form has a control named "dataset"
    if (url && location.pathname + location.search !== url) history.replaceState(null, "", url);
  }

  function save(blob, name) {
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
  }

  // The diagram is styled by style.css; a downloaded SVG carries the computed styles inline instead.
  var SVG_STYLE = ["fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity", "stroke-dasharray",
                   "stroke-linecap", "opacity", "font-family", "font-size", "font-weight", "text-anchor",
                   "dominant-baseline", "paint-order", "display", "visibility"];
  function downloadDiagram() {
    var svg = document.getElementById("network");
    if (!svg) return;
    var copy = svg.cloneNode(true), from = svg.querySelectorAll("*"), to = copy.querySelectorAll("*");
    for (var i = 0; i < from.length; i++) {
      var computed = getComputedStyle(from[i]);
      to[i].setAttribute("style", SVG_STYLE.map(function (p) { return p + ":" + computed.getPropertyValue(p); }).join(";"));
    }
    copy.setAttribute("xmlns", "http://www.w3.org/2000/svg");
    copy.setAttribute("width", svg.viewBox.baseVal.width);
    copy.setAttribute("height", svg.viewBox.baseVal.height);
    var text = '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(copy);
    save(new Blob([text], { type: "image/svg+xml" }), "network-step-" + svg.dataset.step + ".svg");
  }

  function downloadLoss() {
    var loss = document.getElementById("loss-plot"), m = document.getElementById("metrics");
    if (!loss || !loss.data) return;
    flush();
    Plotly.downloadImage(loss, { format: "png", width: 900, height: 450,
                                 filename: "loss-curve-step-" + (m ? m.dataset.step : "") });
  }

  function copy(button) {
    var source = document.getElementById(button.dataset.copy);
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { selectAndCopy(source) && done(); });
    } else if (selectAndCopy(source)) {
      done();
    }
  }

  // Plain http on a LAN address has no Clipboard API: select the text and use the old copy command.
  function selectAndCopy(source) {
    if (source.select) {
      source.select();
    } else {
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    return document.execCommand("copy");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy], button[data-download]");
    if (!button) return;
    if (button.dataset.copy) copy(button);
    else if (button.dataset.download === "diagram") downloadDiagram();
    else if (button.dataset.download === "loss") downloadLoss();
  });

  // htmx swaps nothing from an error answer (a rate limit, a busy session, a refused or failed request), so its
  // message goes where the page's own messages go. The server changed nothing in every one of these cases.
  function showError(text) {
    var area = document.getElementById("message");
    if (!area) return;
    var p = document.createElement("p");
    p.className = "message error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    var dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "dismiss";
    dismiss.setAttribute("aria-label", "Dismiss this message");
    p.appendChild(dismiss);
    area.replaceChildren(p);
  }

  function errorText(xhr) {
    var detail = null;
    try { detail = JSON.parse(xhr.responseText).detail; } catch (e) { /* not JSON: say it plainly below */ }
    if (Array.isArray(detail) && detail.length && detail[0].msg) {  // a form field the server refused
      var loc = detail[0].loc || [];
      detail = (loc.length ? loc[loc.length - 1] + ": " : "") + detail[0].msg;
    }
    if (typeof detail === "string" && detail) return detail + (/nothing was changed/i.test(detail) ? "" : " Nothing was changed.");
    if (xhr.status >= 500) return "The server could not do that (error " + xhr.status + "). Nothing was changed; try again.";
    return "The server refused that request (error " + xhr.status + "). Nothing was changed.";
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    showError(errorText(xhr));
    var path = event.detail.requestConfig && event.detail.requestConfig.path;
    var form = document.getElementById("controls-form");
    if (path === "/ui/config" && form) form.reset();  // refused: the controls go back to the settings in use
  });

  // Play: while #player says Play runs, the next frame is asked for as soon as one arrives, before it is drawn,
  // so that the server trains frame k + 1 while the browser draws frame k. One frame is on its way at a time,
  // so frames are drawn in order; an answer whose #player no longer says so (Pause, a stop, an explosion) ends
  // the loop.
  var framing = false;
  function playerSaysPlay() {
    var player = document.getElementById("player");
    return !!(player && player.dataset.playing);
  }

  function nextFrame() {
    framing = true;
    fetch("/ui/play-frame", { method: "POST", headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) {
        return response.text().then(function (text) {
          if (!response.ok) {
            framing = false;
            var xhr = { status: response.status, responseText: text };
            showError(errorText(xhr));
            if (response.status === 429 || response.status === 503) {
              // Playing faster than the limit: wait as long as the server asks, then go on if still playing.
              var wait = parseInt(response.headers.get("Retry-After"), 10) || 1;
              setTimeout(function () { if (playerSaysPlay() && !framing) nextFrame(); }, wait * 1000);
            }
            return;
          }
          var more = /<div id="player"[^>]*data-playing="1"/.test(text);
          if (more) nextFrame();
          htmx.swap(document.body, text, { swapStyle: "none" });  // its swaps see the old #player: still framing
          if (!more) framing = false;
        });
      }, function () {
        framing = false;
        showError("The server did not answer: check the connection and try again. Nothing was changed.");
      });
  }

  function play() { if (!framing && window.htmx && playerSaysPlay()) nextFrame(); }
  document.addEventListener("htmx:sendError", function () {
    showError("The server did not answer: check the connection and try again. Nothing was changed.");
  });

  // A newly chosen CSV predicts its own last column by default, not the previous file's target: the field is
  // cleared (the server then takes the last column) and filled with that column's name once the header is read.
  document.addEventListener("change", function (event) {
    if (event.target.id !== "f-csv") return;
    var targets = document.getElementById("f-targets"), file = event.target.files && event.target.files[0];
    if (!targets) return;
    targets.value = "";
    if (!file || !file.slice) return;
    file.slice(0, 65536).text().then(function (text) {
      var header = (text.split(/\r?\n/).find(function (line) { return line.trim(); }) || "").split(",");
      var last = header[header.length - 1].trim().replace(/^"(.*)"$/, "$1");
      if (last && event.target.files[0] === file) targets.value = last;
    }, function () { /* unreadable here: the server still takes the last column */ });
  });

  // A file over the CSV cap is refused here, next to its control, instead of being sent only to be refused.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) return;
    var max = parseInt(input.dataset.maxBytes, 10), file = input.files && input.files[0];
    var text = file && file.size > max ? file.name + " is " + Math.ceil(file.size / 1000).toLocaleString("en") +
      " KB; the limit is " + Math.round(max / 1000).toLocaleString("en") + " KB. Choose a smaller file." : "";
    input.setCustomValidity(text);
    var note = document.getElementById(input.id + "-size");
    if (text && !note) {
      note = document.createElement("p");
      note.id = input.id + "-size";
      note.className = "field-error";
      note.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", note);
    }
    if (note) note.textContent = text;
    if (note && !text) note.remove();
  });

  // The Matrix form: when its toggle opens the panel (under the diagram) below the window's lower part, the page
  // scrolls so that the panel starts part-way down the window, with the diagram's lower part still above it.
  var revealMatrix = false;
  document.addEventListener("change", function (event) {
    if (event.target.id === "matrix-form-toggle") revealMatrix = event.target.checked;
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.target.id !== "matrix-form" || !revealMatrix) return;
    revealMatrix = false;
    var top = event.target.getBoundingClientRect().top;
    if (top > window.innerHeight * 0.7) window.scrollBy(0, top - window.innerHeight * 0.4);
  });

  function refresh() { refreshing = false; drawOutput(); drawLoss(); applyNumbers(); applyJoinCard(); markStaleInspector(); moveScrubber(); syncAddress(); play(); }
  // An answer swaps about eight panels one after another: the page is brought up to date once, after the last.
  var refreshing = false;
  function refreshSoon() {
    if (refreshing) return;
    refreshing = true;
    queueMicrotask(refresh);
  }
  document.addEventListener("htmx:oobAfterSwap", refreshSoon);
  document.addEventListener("htmx:afterSettle", refreshSoon);
  document.addEventListener("DOMContentLoaded", refresh);
})();
