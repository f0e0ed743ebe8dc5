"""How fast the playground page updates in a real browser: Step latency, Play's update rate and what each update
costs.

Starts the app under uvicorn on loopback (as bench/server.py does, rate limits off) and drives Debian's Chromium
headless through Playwright (sync API, fresh context, 1280x800) on the default network. An *update* is each new
`data-step` value that `<svg id="network">` shows, whether the SVG was replaced (the HTML answers before issue 26) or
patched in place (light frames): one MutationObserver (subtree, childList, attributes) reads #network's data-step
after every change, so that the same script measures the code before and after issue 26.
(a) Step: click to `<svg id="network">` carrying the new data-step, timed inside the page with performance.now()
    and a MutationObserver, the click issued by element.click() in the same evaluate, so no Playwright round trip
    is counted. Also: the next animation frame (the frame that paints the change: "repaint"), the XHR's own time and
    the answer's bytes from Resource Timing. Target (issue 26): repaint p50 <= 20 ms.
(b) Play at each Speed (auto, 1 step, 10 steps, 1, 2 and 3 epochs a frame), from the initial weights: click Play,
    let it run, count updates and the data-step advance, click Pause. Target (issue 26): at least 55 updates/s at
    every speed, including 1 step a frame. Also per frame: its bytes (the old code's POST /ui/play-frame answers by
    Resource Timing, or the `frame` events of the Play stream, GET /ui/play/stream, by CDP; whichever the code under
    test has, the other printed as n/a) and the page's main-thread time per update (CDP Performance.getMetrics:
    TaskDuration, and its script, style and layout parts, over the window / updates); and how many display frames
    showed a new step (a requestAnimationFrame loop; of two updates within one frame only the last is seen).
(c) Time to learn: at the fastest speed (SPEEDS[-1]), from the initial weights, Play click to a test loss below 0.05
    in the metrics. Target (issue 26): within 500 ms (TF Playground, built from its source and timed here:
    0.88-1.66 s).
(d) A newcomer's Play: a fresh page (new context, so a new session at every default), the Play click to a test loss
    below 0.1 in the metrics at the default speed. Goal: within 3 s (issue 25; TF Playground's falls from 0.505 to
    0.029 in 1 s).
A summary of the figures the A/B table in bench/README.md takes closes the output. Console errors and uncaught page
errors are collected and printed.
Run: `.venv/bin/python bench/browser.py [--steps N] [--warmup N] [--seconds S]`.
"""
import argparse
import base64
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from server import running_server  # noqa: E402

from app.core.options import BY_FIELD, SPEEDS  # noqa: E402  (Play's speeds; of the fixed ones the last is the fastest)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TARGET_UPDATES_PER_S = 55  # issue 26, at every speed
TARGET_STEP_MS = 20.0  # issue 26: Step click -> repaint, p50
LEARN_GOAL, LEARN_GOAL_MS = 0.05, 500  # (c), issue 26: the fastest speed, from the initial weights
DEFAULT_GOAL, DEFAULT_GOAL_MS = 0.1, 3000  # (d): the default speed on the default page
FRAME_PATH = "/ui/play-frame"  # the old code's Play frame: one POST, answered with HTML
STREAM_PATH = "/ui/play/stream"  # issue 26's Play: one server-sent stream of frames

# One Step: click, then resolve when #network shows the next data-step (and again at the next animation frame).
STEP_JS = """async (timeoutMs) => {
  const expected = String(Number(document.getElementById('network').dataset.step) + 1);
  performance.clearResourceTimings();
  const result = await new Promise((resolve, reject) => {
    let t0 = 0;
    const timer = setTimeout(() => {
      obs.disconnect();
      reject(new Error('#network did not reach data-step ' + expected + ' within ' + timeoutMs + ' ms (now '
                       + (document.getElementById('network') || {dataset: {}}).dataset.step + ')'));
    }, timeoutMs);
    const obs = new MutationObserver(() => {
      const net = document.getElementById('network');
      if (!net || net.dataset.step !== expected) return;
      const dom = performance.now() - t0;
      obs.disconnect();
      clearTimeout(timer);
      requestAnimationFrame(() => resolve({dom: dom, frame: performance.now() - t0}));
    });
    obs.observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-step']});
    const button = document.getElementById('btn-step');
    if (!button) { clearTimeout(timer); obs.disconnect(); reject(new Error('no #btn-step on the page')); return; }
    t0 = performance.now();
    button.click();
  });
  const xhr = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/ui/step'));
  result.xhr = xhr ? xhr.responseEnd - xhr.startTime : null;
  result.ttfb = xhr ? xhr.responseStart - xhr.requestStart : null;
  result.bytes = xhr ? xhr.encodedBodySize : null;
  result.step = Number(expected);
  await new Promise((r) => setTimeout(r, 30));  // let htmx settle before the next click
  return result;
}"""

# Play: an update is each new data-step value that #network shows, whether #network was replaced (an HTML answer's
# out-of-band swap) or patched in place (a light frame sets its data-step). One observer on the body sees both; it
# reads #network after each batch of mutations. Beside it, a requestAnimationFrame loop counts the display's frames
# and those that show a data-step the frame before did not: updates that landed within one display frame were not
# all on screen.
WATCH_JS = """() => {
  performance.setResourceTimingBufferSize(100000);
  performance.clearResourceTimings();
  const shown = () => { const n = document.getElementById('network'); return n ? n.dataset.step : null; };
  const rec = window.__benchPlay = {times: [], steps: [], frames: 0, painted: 0, last: shown(),
                                    start: performance.now(), running: true};
  rec.observer = new MutationObserver(() => {
    const step = shown();
    if (step === null || step === rec.last) return;
    rec.last = step;
    rec.times.push(performance.now());
    rec.steps.push(Number(step));
  });
  rec.observer.observe(document.body, {subtree: true, childList: true, attributes: true,
                                       attributeFilter: ['data-step']});
  let onScreen = rec.last;
  const tick = () => {
    if (!rec.running) return;
    rec.frames++;
    const step = shown();
    if (step !== onScreen) { onScreen = step; rec.painted++; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  return {step: Number(rec.last), now: performance.now()};
}"""

READ_JS = """() => {
  const rec = window.__benchPlay;
  rec.observer.disconnect();
  rec.running = false;
  return {now: performance.now(), step: Number(document.getElementById('network').dataset.step),
          updates: rec.times.length, painted: rec.painted, frames: rec.frames, times: rec.times, steps: rec.steps};
}"""

# After Pause: the requests Play made since the window opened (Resource Timing; the old code's frames are POSTs).
REQUESTS_JS = """(framePath) => {
  const all = performance.getEntriesByType('resource');
  const frames = all.filter((e) => new URL(e.name).pathname === framePath);
  return {frames: frames.map((e) => ({encoded: e.encodedBodySize, decoded: e.decodedBodySize,
                                      transfer: e.transferSize})),
          acks: all.filter((e) => new URL(e.name).pathname === '/ui/play/drawn').length};
}"""

# Time to learn: click Play and resolve when the metrics show a test loss below the goal. The metrics are swapped
# (HTML answers) or morphed in place (light frames: their data-test-loss changes), so both are watched; so is
# #network's data-step, for the first update and the longest wait between two (a stall shows there).
LEARN_JS = """async ([goal, limitMs]) => {
  const t0 = performance.now();
  const net = () => { const n = document.getElementById('network'); return n ? n.dataset.step : null; };
  let shown = net(), last = t0, first = null, gap = 0, gapAt = 0, updates = 0;
  const done = new Promise((resolve, reject) => {
    const check = () => {
      const step = net(), now = performance.now();
      if (step !== null && step !== shown) {
        shown = step;
        updates++;
        if (first === null) first = now - t0;
        if (now - last > gap) { gap = now - last; gapAt = Number(step); }
        last = now;
      }
      const m = document.getElementById('metrics');
      if (m && Number(m.dataset.testLoss) < goal) {
        obs.disconnect();
        resolve({ms: now - t0, step: Number(step), loss: Number(m.dataset.testLoss), first: first, gap: gap,
                 gapAt: gapAt, updates: updates});
      }
    };
    const obs = new MutationObserver(check);
    obs.observe(document.body, {subtree: true, childList: true, attributes: true,
                                attributeFilter: ['data-test-loss', 'data-step']});
    setTimeout(() => { obs.disconnect(); reject(new Error('test loss not below ' + goal + ' in ' + limitMs + ' ms')); },
               limitMs);
  });
  document.getElementById('btn-play').click();
  return await done;
}"""

# CDP Performance.getMetrics: the main thread's time in tasks, and its parts (seconds since the page opened).
MAIN_THREAD = ("TaskDuration", "ScriptDuration", "RecalcStyleDuration", "LayoutDuration")


class Failure(Exception):
    pass


class Devtools:
    """A CDP session on the page: the Play stream's server-sent events and the main thread's time
    (Performance.getMetrics). Either may be missing (`None` figures, printed as n/a).

    The page has read the stream with an EventSource (73d8648), whose messages CDP reports one by one
    (Network.eventSourceMessageReceived), and with fetch (since 970042e): then the stream's bytes so far are taken
    from the browser's buffer at the end of the window (Network.streamResourceContent, or Network.getResponseBody once
    it has ended) and cut into events here."""

    def __init__(self, page):
        self.messages: list[tuple[str, int]] = []  # (event name, bytes of its data)
        self.streams: list[str] = []  # the request ids of fetches of STREAM_PATH since clear()
        self.network = self.performance = False
        try:
            self.cdp = page.context.new_cdp_session(page)
        except PlaywrightError:
            self.cdp = None
            return
        try:
            self.cdp.on("Network.eventSourceMessageReceived", self._message)
            self.cdp.on("Network.requestWillBeSent", self._request)
            self.cdp.send("Network.enable", {"maxTotalBufferSize": 200_000_000, "maxResourceBufferSize": 100_000_000})
            self.network = True
        except PlaywrightError:
            pass
        try:
            self.cdp.send("Performance.enable")
            self.performance = True
        except PlaywrightError:
            pass

    def _message(self, event: dict) -> None:
        self.messages.append((event.get("eventName", ""), len(event.get("data", "").encode())))

    def _request(self, event: dict) -> None:
        if event.get("type") != "EventSource" and STREAM_PATH in event.get("request", {}).get("url", ""):
            self.streams.append(event["requestId"])

    def clear(self) -> None:
        self.messages.clear()
        self.streams.clear()

    def read_streams(self) -> None:
        """The events of the streams fetched since clear(), received so far, added to `messages`."""
        for request in self.streams:
            try:
                got = self.cdp.send("Network.streamResourceContent", {"requestId": request})["bufferedData"]
                body = base64.b64decode(got)
            except PlaywrightError:
                try:  # the stream has ended: its whole body
                    got = self.cdp.send("Network.getResponseBody", {"requestId": request})
                    body = base64.b64decode(got["body"]) if got.get("base64Encoded") else got["body"].encode()
                except PlaywrightError:
                    continue
            for event in body.split(b"\n\n")[:-1]:  # the last piece is an event not yet whole, or nothing
                kind, data = "message", []
                for line in event.split(b"\n"):
                    if line.startswith(b"event: "):
                        kind = line[7:].decode()
                    elif line.startswith(b"data: "):
                        data.append(line[6:])
                if data:
                    self.messages.append((kind, len(b"\n".join(data))))

    def metrics(self) -> dict | None:
        if not self.performance:
            return None
        try:
            got = {m["name"]: m["value"] for m in self.cdp.send("Performance.getMetrics")["metrics"]}
        except PlaywrightError:
            return None
        return {name: got[name] for name in MAIN_THREAD if name in got} or None


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def dist(values: list[float]) -> str:
    return (f"p50 {statistics.median(values):7.1f} ms   p90 {pct(values, 90):7.1f} ms   "
            f"max {max(values):7.1f} ms")


def current_step(page) -> int:
    return int(page.locator("#network").get_attribute("data-step"))


def na(value, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def bench_step(page, warmup: int, steps: int, summary: dict) -> None:
    results = []
    for i in range(warmup + steps):
        r = page.evaluate(STEP_JS, 10_000)
        if i >= warmup:
            results.append(r)
    print(f"(a) Step: click -> #network shows the new data-step  ({steps} clicks after {warmup} warm-ups, "
          "timed in the page)")
    print(f"    DOM updated            {dist([r['dom'] for r in results])}")
    repaint = [r["frame"] for r in results]
    print(f"    repaint (next frame)   {dist(repaint)}")
    xhr = [r["xhr"] for r in results if r["xhr"] is not None]
    ttfb = [r["ttfb"] for r in results if r["ttfb"] is not None]
    if xhr:
        print(f"    of which XHR (total)   {dist(xhr)}")
        print(f"    of which XHR to TTFB   {dist(ttfb)}   (server time + loopback)")
    sizes = [r["bytes"] for r in results if r["bytes"]]
    if sizes:
        print(f"    answer: {statistics.median(sizes) / 1024:.1f} kB (median body of POST /ui/step)")
    p50 = statistics.median(repaint)
    print(f"    target: repaint p50 <= {TARGET_STEP_MS:g} ms -> {'met' if p50 <= TARGET_STEP_MS else 'NOT met'}")
    print(f"    data-step now {results[-1]['step']}")
    summary["step_p50"] = p50
    summary["step_kb"] = statistics.median(sizes) / 1024 if sizes else None


def choose_speed(page, speed: str) -> None:
    page.get_by_label("Speed").select_option(speed)
    page.wait_for_function(f"() => document.getElementById('speed').value === '{speed}' && "
                           "!document.querySelector('.htmx-request')")
    page.wait_for_timeout(200)


def reset(page) -> None:
    page.get_by_role("button", name="Reset", exact=True).click()
    page.wait_for_function("() => document.getElementById('network').dataset.step === '0'")
    page.wait_for_timeout(200)


def pause(page) -> None:
    page.get_by_role("button", name="Pause", exact=True).click(timeout=3000)
    page.get_by_role("button", name="Play", exact=True).wait_for(state="visible", timeout=10_000)


def learn_timeline(r: dict) -> str:
    """When the diagram first moved after the Play click, and the longest wait between two of its updates."""
    if r.get("first") is None:
        return "no update of #network before the goal"
    return (f"{r['updates']} updates: the first {r['first']:.0f} ms after the click; the longest wait for one (from "
            f"the click or the update before) {r['gap']:.0f} ms, for step {r['gapAt']}")


def bench_learn(page, summary: dict) -> None:
    """From the initial weights at the fastest speed: Play click to a test loss below the goal on screen."""
    reset(page)
    choose_speed(page, SPEEDS[-1])
    r = page.evaluate(LEARN_JS, [LEARN_GOAL, 30_000])
    pause(page)
    met = r["ms"] <= LEARN_GOAL_MS
    print(f"(c) Time to learn at the fastest speed ({SPEEDS[-1]} a frame), default network from its initial weights:")
    print(f"    test loss {r['loss']:.4f} < {LEARN_GOAL} shown {r['ms']:.0f} ms after the Play click, at step "
          f"{r['step']} (target: within {LEARN_GOAL_MS} ms -> {'met' if met else 'NOT met'})")
    print(f"    {learn_timeline(r)}")
    summary["learn_ms"] = r["ms"]


def bench_default_learn(page, base: str, summary: dict) -> None:
    """A fresh page at every default: Play click to a test loss below DEFAULT_GOAL on screen."""
    page.goto(f"{base}/", wait_until="load")
    page.wait_for_function("() => window.htmx && window.Plotly && document.getElementById('network')")
    speed = page.locator("#speed")
    if speed.input_value() != BY_FIELD["page.speed"].default:
        raise Failure(f"a fresh page's speed is {speed.input_value()!r}, not the default")
    words = speed.locator("option:checked").inner_text()
    r = page.evaluate(LEARN_JS, [DEFAULT_GOAL, 30_000])
    pause(page)
    met = r["ms"] <= DEFAULT_GOAL_MS
    print(f"(d) A newcomer's Play: fresh default page, default speed ({words}):")
    print(f"    test loss {r['loss']:.4f} < {DEFAULT_GOAL} shown {r['ms']:.0f} ms after the Play click, at step "
          f"{r['step']} (goal: within {DEFAULT_GOAL_MS} ms -> {'met' if met else 'NOT met'})")
    print(f"    {learn_timeline(r)}")
    summary["newcomer_ms"] = r["ms"]


def frame_bytes(requests: dict, devtools: Devtools) -> tuple[str, float | None, int]:
    """How the frames came, their mean bytes (None: not measurable here) and how many were measured."""
    posts = [f["encoded"] for f in requests["frames"]]
    sse = [size for name, size in devtools.messages if name == "frame"]
    if posts and not sse:
        if not any(posts):  # Resource Timing hides sizes it may not show (cross-origin): never the case here
            return f"POST {FRAME_PATH} answers (sizes hidden)", None, len(posts)
        return f"POST {FRAME_PATH} answers (Resource Timing, body bytes)", statistics.fmean(posts), len(posts)
    if sse and not posts:
        return f"{STREAM_PATH} `frame` events (CDP, data bytes)", statistics.fmean(sse), len(sse)
    if sse and posts:
        return "both POST frames and stream messages (mixed)", statistics.fmean(posts + sse), len(posts) + len(sse)
    how = "no frame messages seen" if devtools.network else "CDP Network unavailable"
    return f"n/a ({how}, no POST {FRAME_PATH})", None, 0


def bench_play(page, devtools: Devtools, seconds: float, speed: str, summary: dict) -> None:
    reset(page)
    choose_speed(page, speed)
    devtools.clear()
    before = devtools.metrics()
    start = page.evaluate(WATCH_JS)
    play = page.get_by_role("button", name="Play", exact=True)
    play.click()
    page.wait_for_timeout(seconds * 1000)
    end = page.evaluate(READ_JS)
    after = devtools.metrics()
    devtools.read_streams()  # before Pause closes the stream
    # A real pointer click: the toolbar must hold still while frames arrive.
    page.get_by_role("button", name="Pause", exact=True).click(timeout=3000)
    # After Pause the button reads Play again and the step counter stops (one in-flight frame may still land).
    play.wait_for(state="visible", timeout=10_000)
    page.wait_for_timeout(500)
    settled = current_step(page)
    page.wait_for_timeout(1000)
    after_pause = current_step(page)
    requests = page.evaluate(REQUESTS_JS, FRAME_PATH)

    window = (end["now"] - start["now"]) / 1000
    advanced = end["step"] - start["step"]
    updates = end["updates"]
    rate = updates / window
    print(f"(b) Play at speed {speed} for {seconds:g} s (window measured in the page: {window:.2f} s from just before "
          "the Play click)")
    print(f"    data-step {start['step']} -> {end['step']}: {advanced} steps, {advanced / window:.1f} steps/s")
    print(f"    #network showed {updates} new data-steps: {rate:.1f} updates/s; on screen in {end['painted']} of "
          f"{end['frames']} animation frames ({end['painted'] / window:.1f}/s of {end['frames'] / window:.1f}/s)")
    times = end["times"]
    if len(times) >= 2:
        gaps = [b - a for a, b in zip(times, times[1:])]
        steady = (len(times) - 1) / ((times[-1] - times[0]) / 1000)
        print(f"    steady state (first to last update): {steady:.1f} updates/s; update interval {dist(gaps)}")
        if times[0] - start["now"] > 0:
            print(f"    first update {times[0] - start['now']:.0f} ms after the window opened")
    per_frame = sorted({b - a for a, b in zip(end["steps"], end["steps"][1:])})
    if per_frame:
        shown = ", ".join(map(str, per_frame[:5])) + (f", ... ({len(per_frame)} values)" if len(per_frame) > 5 else "")
        print(f"    steps between consecutive updates: {shown}")
    how, size, frames = frame_bytes(requests, devtools)
    acks = f"; {requests['acks']} draw acks (POST /ui/play/drawn)" if requests["acks"] else ""
    print(f"    bytes per frame: {na(size and size / 1024, '.1f')} kB, over {frames} frames: {how}{acks}")
    per_update = None
    if before and after and updates:
        used = {name: after[name] - before[name] for name in before if name in after}
        busy = used.get("TaskDuration")
        if busy is not None:
            per_update = busy * 1e3 / updates
            parts = ", ".join(f"{name.removesuffix('Duration').lower()} {used[name] * 1e3:.0f} ms"
                              for name in MAIN_THREAD[1:] if name in used)
            print(f"    main thread: {busy * 1e3:.0f} ms of tasks in the window ({100 * busy / window:.0f} % busy; "
                  f"{parts}): {per_update:.2f} ms per update")
    if per_update is None:
        print("    main thread: n/a (CDP Performance.getMetrics unavailable)")
    verdict = "met" if rate >= TARGET_UPDATES_PER_S else "NOT met"
    print(f"    target: at least {TARGET_UPDATES_PER_S} updates/s at every speed -> {verdict}")
    print(f"    after Pause: data-step {settled}, {after_pause} one second later")
    summary.setdefault("play", {})[speed] = {"rate": rate, "painted": end["painted"] / window,
                                             "kb": size and size / 1024, "main_ms": per_update,
                                             "steps": advanced / window}
    if updates == 0:
        raise Failure("Play produced no update of #network")
    if after_pause != settled:
        raise Failure(f"training went on after Pause (data-step {settled} -> {after_pause})")


def print_summary(summary: dict) -> None:
    """The figures bench/README.md's A/B table takes, on a few lines."""
    print("summary (for the A/B table):")
    print(f"    Step repaint p50 {na(summary.get('step_p50'), '.1f')} ms, answer "
          f"{na(summary.get('step_kb'), '.1f')} kB; (c) {na(summary.get('learn_ms'), '.0f')} ms; "
          f"(d) {na(summary.get('newcomer_ms'), '.0f')} ms")
    print(f"    {'speed':9s} {'updates/s':>9s} {'painted/s':>9s} {'steps/s':>8s} {'kB/frame':>8s} "
          f"{'main ms/update':>14s}")
    for speed, f in summary.get("play", {}).items():
        print(f"    {speed:9s} {f['rate']:9.1f} {f['painted']:9.1f} {f['steps']:8.0f} {na(f['kb'], '8.1f'):>8s} "
              f"{na(f['main_ms'], '14.2f'):>14s}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50, help="timed Step clicks (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed Step clicks first (default 5)")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long Play runs (default 5)")
    parser.add_argument("--chromium", default=CHROMIUM, help=f"browser executable (default {CHROMIUM})")
    args = parser.parse_args()
    if args.steps < 1 or args.warmup < 0 or args.seconds <= 0:
        parser.error("--steps must be >= 1, --warmup >= 0, --seconds > 0")

    errors: list[str] = []
    summary: dict = {}
    with running_server() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text} ({m.location.get('url', '')}"
                                                       f":{m.location.get('lineNumber', '')})")
                    if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            devtools = Devtools(page)
            t = time.perf_counter()
            response = page.goto(f"{base}/", wait_until="load")
            if response is None or response.status != 200:
                raise Failure(f"GET / answered {response and response.status}")
            page.wait_for_function("() => window.htmx && window.Plotly && document.getElementById('network')")
            print(f"browser: {browser.version} headless ({args.chromium}), viewport 1280x800; server {base}")
            print(f"page loaded in {(time.perf_counter() - t) * 1e3:.0f} ms; data-step {current_step(page)}; "
                  f"CDP Network {'on' if devtools.network else 'n/a'}, Performance "
                  f"{'on' if devtools.performance else 'n/a'}")
            print()
            bench_step(page, args.warmup, args.steps, summary)
            print()
            for speed in SPEEDS:
                bench_play(page, devtools, args.seconds, speed, summary)
                print()
            bench_learn(page, summary)
            print()
            fresh = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            fresh.set_default_timeout(15_000)
            fresh.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            bench_default_learn(fresh, base, summary)
            print()
        finally:
            browser.close()
    print_summary(summary)
    if errors:
        print(f"console errors: {len(errors)}")
        for e in errors:
            print(f"  {e}")
    else:
        print("console errors: none")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (Failure, PlaywrightError, RuntimeError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
