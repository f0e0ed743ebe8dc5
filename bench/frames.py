"""Server time and bytes of one Play frame, the old way and the new, in process (issue 26).

The app runs in this process (Starlette's TestClient, its lifespan included; the store is SQLite in a temporary
directory; rate limits off, as in bench/server.py), on one page's session of the default network. For each Play speed,
from the initial weights (Reset, the speed, Play):
- old: POST /ui/play-frame with HX-Request, the per-frame request the page made before issue 26 (and the no-JS
  fallback's since): middleware, routing, the session's lock, the frame's training, every panel's HTML, the save;
  timed inside the app (an ASGI wrapper around it, from the call to its end), so the TestClient's own cost is not.
- new: app/web/play_stream.py Player.frame(), what the Play stream does for each frame it pushes (the session's
  lock, the training, a light frame against the page's copy, the save), then its JSON as the stream writes it; timed
  on the app's own event loop (the TestClient's portal). Not available before issue 26: printed as n/a.
First the page's Step, POST /ui/step, answered with every panel's HTML and (with X-BP-Frame, as the page's script
sends it since issue 26) with a light frame in full (the answer's page copy is only the structure it names); the code
before issue 26 ignores the header.
Each way: --frames timed frames after --warmup untimed ones; wall time p50 / p90, the process's CPU time p50 (both
threads; the app does nothing else meanwhile), the steps a frame trained and the answer's bytes (the HTML body, or
the SSE message's data as the browser receives it). The machine is shared: compare the two ways within one run, and
runs only as an A/B alternating.
Run: `.venv/bin/python bench/frames.py [--frames N] [--warmup N] [--speeds auto,1,...]`.
"""
import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ["PLAYGROUND_RATE_LIMIT_SCALE"] = "0"  # one client as fast as it can: the limits would refuse it
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402

from app.core.options import SPEEDS  # noqa: E402
from app.main import create_app  # noqa: E402

try:  # issue 26's Play stream; absent from the code before it
    from app.web.play_stream import Player
except ImportError:
    Player = None

HTMX = {"HX-Request": "true"}
COOKIE = "bp_session"
STEP_RE = re.compile(r'<svg id="network" data-step="(\d+)"')
FRAME_TYPE = "application/vnd.backprop.frame+json"  # a light frame's content type (app/web/frames.py)
STRUCTURE_RE = re.compile(r'<svg id="network"[^>]*?data-structure="([0-9a-f]*)"')


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


class Timed:
    """Frames' wall and CPU times (seconds), steps and bytes."""

    def __init__(self):
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.steps: list[int] = []
        self.bytes: list[int] = []
        self.note = ""
        self.kind = ""

    def line(self) -> str:
        if not self.wall:
            return "n/a"
        ms = [t * 1e3 for t in self.wall]
        steps = sorted(set(self.steps))
        shown = ", ".join(map(str, steps[:4])) + (f" ... {steps[-1]}" if len(steps) > 4 else "")
        return (f"p50 {statistics.median(ms):6.2f} ms  p90 {pct(ms, 90):6.2f} ms  CPU p50 "
                f"{statistics.median(self.cpu) * 1e3:6.2f} ms  {statistics.fmean(self.bytes) / 1024:5.1f} kB  "
                f"steps/frame {shown}")

    def figures(self) -> dict | None:
        if not self.wall:
            return None
        return {"p50": statistics.median(self.wall) * 1e3, "p90": pct(self.wall, 90) * 1e3,
                "cpu": statistics.median(self.cpu) * 1e3, "kb": statistics.fmean(self.bytes) / 1024}


class Stopwatch:
    """An ASGI wrapper around the app: the wall and process CPU seconds of the last HTTP request, inside the app."""

    def __init__(self, app):
        self.app, self.last = app, (0.0, 0.0)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        c0, t0 = time.process_time(), time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.last = (time.perf_counter() - t0, time.process_time() - c0)


def post(client: TestClient, path: str, data: dict | None = None):
    r = client.post(path, headers=HTMX, data=data)
    if r.status_code != 200:
        raise RuntimeError(f"POST {path} answered {r.status_code}: {r.text[:200]}")
    return r


def shown_step(html: str) -> int | None:
    m = STEP_RE.search(html)
    return int(m.group(1)) if m else None


def step_way(client: TestClient, watch: Stopwatch, headers: dict, warmup: int, presses: int) -> Timed:
    """The page's Step, `presses` times after `warmup`: its server time and answer. With X-BP-Frame the structure
    named is the one the page holds: a frame that sends the diagram's markup (a new structure) changes it."""
    out = Timed()
    for i in range(warmup + presses):
        r = client.post("/ui/step", headers={**HTMX, **headers})
        if r.status_code != 200:
            raise RuntimeError(f"POST /ui/step answered {r.status_code}: {r.text[:200]}")
        wall, cpu = watch.last
        if "X-BP-Frame" in headers and r.headers.get("content-type", "").startswith(FRAME_TYPE):
            frame = r.json()  # a diagram sent whole (not a patch): the page holds its structure from now on
            if "diagram" not in frame and (m := STRUCTURE_RE.search(frame.get("html", ""))):
                headers = {**headers, "X-BP-Frame": m.group(1)}
        if i >= warmup:
            out.wall.append(wall)
            out.cpu.append(cpu)
            out.steps.append(1)
            out.bytes.append(len(r.content))
            out.kind = "light frame" if r.headers.get("content-type", "").startswith(FRAME_TYPE) else "HTML"
    return out


def start_play(client: TestClient, speed: str) -> None:
    """From the initial weights at `speed`: Reset, the speed, then Play (its answer is Play's first frame)."""
    post(client, "/ui/reset")
    post(client, "/ui/speed", {"speed": speed})
    post(client, "/ui/play")


def old_way(client: TestClient, watch: Stopwatch, speed: str, warmup: int, frames: int) -> Timed:
    start_play(client, speed)
    out, last = Timed(), None
    for i in range(warmup + frames):
        r = post(client, "/ui/play-frame")
        wall, cpu = watch.last
        step = shown_step(r.text)
        if step is None:
            raise RuntimeError(f"a play-frame answer drew no diagram: {r.text[:200]}")
        if 'data-playing="1"' not in r.text:
            raise RuntimeError(f"Play stopped at step {step} (a stop condition?); fewer frames would do")
        if i >= warmup and last is not None:
            out.wall.append(wall)
            out.cpu.append(cpu)
            out.steps.append(step - last)
            out.bytes.append(len(r.content))
        last = step
    post(client, "/ui/pause")
    return out


def new_way(client: TestClient, store, sid: str, structure: str, speed: str, warmup: int, frames: int) -> Timed:
    start_play(client, speed)
    player = Player(store, None, sid, structure)  # no work budget: the limits are off

    async def frame() -> tuple[dict | None, bytes, float, float]:
        c0, t0 = time.process_time(), time.perf_counter()
        f = await player.frame()
        data = b"" if f is None else json.dumps(f, separators=(",", ":"), allow_nan=False).encode()  # as sent
        return f, data, time.perf_counter() - t0, time.process_time() - c0

    out, last = Timed(), None
    for i in range(warmup + frames):
        f, data, wall, cpu = client.portal.call(frame)
        if f is None:
            raise RuntimeError("the session is gone")
        if not f["playing"]:
            raise RuntimeError(f"Play stopped at step {f['step']} (a stop condition?); fewer frames would do")
        if i >= warmup and last is not None:
            out.wall.append(wall)
            out.cpu.append(cpu)
            out.steps.append(f["step"] - last)
            out.bytes.append(len(data))
        last = f["step"]
    post(client, "/ui/pause")
    pace = getattr(player, "pace", None)
    if speed == "auto" and pace is not None and getattr(pace, "step", None):
        rest = getattr(pace, "rest", None)  # since the pace counts all of a frame; before, the picture and its JSON
        out.note = (f"Pace's estimates after these frames: a step {pace.step * 1e6:.0f} µs, "
                    + (f"the rest of a frame {rest * 1e3:.2f} ms" if rest is not None else
                       f"the picture and its JSON {pace.picture * 1e3:.2f} ms"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=200, help="timed frames a way and speed (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed frames first (default 10)")
    parser.add_argument("--speeds", default=",".join(SPEEDS), help=f"comma-separated, of {', '.join(SPEEDS)}")
    args = parser.parse_args()
    speeds = [s for s in args.speeds.split(",") if s]
    if args.frames < 2 or args.warmup < 0 or not speeds or any(s not in SPEEDS for s in speeds):
        parser.error(f"--frames >= 2, --warmup >= 0, --speeds of {', '.join(SPEEDS)}")

    summary = {}
    with tempfile.TemporaryDirectory(prefix="bench-frames-") as scratch:
        app = create_app(store=f"sqlite:///{scratch}/frames.db")
        watch = Stopwatch(app)
        with TestClient(watch) as client:
            page = client.get("/")
            sid = client.cookies.get(COOKIE)
            m = STRUCTURE_RE.search(page.text)
            if page.status_code != 200 or not sid:
                raise RuntimeError(f"GET / answered {page.status_code} and no session cookie")
            structure = m.group(1) if m else ""
            store = app.state.sessions
            print(f"in process: TestClient, SQLite in {scratch}; default network; {args.frames} frames after "
                  f"{args.warmup} warm-ups per way and speed; the page's structure "
                  f"{structure or 'n/a (before issue 26)'}")
            print()
            post(client, "/ui/reset")
            html = step_way(client, watch, {}, args.warmup, args.frames)
            light = step_way(client, watch, {"X-BP-Frame": structure}, args.warmup, args.frames)
            print("the page's Step, POST /ui/step")
            print(f"  without X-BP-Frame ({html.kind:11s}) {html.line()}")
            print(f"  with X-BP-Frame    ({light.kind:11s}) {light.line()}")
            summary["Step"] = (html.figures(), light.figures())
            print()
            for speed in speeds:
                old = old_way(client, watch, speed, args.warmup, args.frames)
                new = new_way(client, store, sid, structure, speed, args.warmup, args.frames) if Player else Timed()
                print(f"speed {speed}")
                print(f"  old  POST /ui/play-frame (HTML)  {old.line()}")
                print(f"  new  Player.frame (light, JSON)  {new.line()}")
                if new.note:
                    print(f"       {new.note}")
                summary[speed] = (old.figures(), new.figures())
    print()
    print("summary (ms per frame p50 / CPU p50 / kB; Step: without / with X-BP-Frame):")
    for speed, (old, new) in summary.items():
        def cell(f: dict | None) -> str:
            return "n/a" if f is None else f"{f['p50']:.2f} / {f['cpu']:.2f} ms / {f['kb']:.1f} kB"
        print(f"  {speed:9s} old {cell(old):28s} new {cell(new)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
