"""A live room with many followers: how long each presenter step takes to reach every follower's event stream.

The script starts uvicorn on loopback itself (bench/load.py running_server; SQLite in a temporary directory, or
--redis a private redis-server), makes a presenter (GET /, then the page's Present: POST /ui/live/start), and opens
--followers streams GET /live/{code}/events, each on its own connection from a minimal asyncio client (it shares the
2 cores with the server, so it must cost little). Then the presenter presses the page's Step (POST /ui/step,
HX-Request) every --interval seconds for --seconds. Each follower notes when the frame of step N first arrives (a
`frame`'s `<p id="live-status" data-step="N">`, or a `patch`'s JSON "step", whichever the server sends); a step's
latency for a follower is that moment minus the moment the presenter's Step was sent, so it includes the step
itself. A step a follower never receives (within 3 s after the last) counts as dropped.

With --play the presenter presses the page's Play instead, as its browser does: POST /ui/play, then the stream
GET /ui/play/stream, saying each frame is drawn (POST /ui/play/drawn) as it arrives, for --seconds, then Pause.
Followers get what the publisher sends while the presenter plays (at most one frame every FRAME_INTERVAL); the
figures are the followers' frames a second, bytes a frame, the lag of a follower's frame of step N behind the
presenter's frame of step N, the presenter's own frames a second, and the server's CPU.

Target: 300 followers on one worker, p99 below 100 ms, none dropped (--play: every follower ends on the last step).
With --join each follower first loads its page, as a class arriving at once.
Run: `.venv/bin/python bench/live.py [--followers 300] [--seconds 30] [--interval 1] [--workers 1] [--redis] [--join]
[--play]`.
"""
import argparse
import asyncio
import json
import re
import resource
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402

from load import cpu_seconds, descendants, running_redis, running_server  # noqa: E402
from server import summarize  # noqa: E402

TARGET_P99_MS = 100.0
# A frame's step (its status line leads its HTML) or a patch's (its JSON's first key), in an event's first bytes.
STEP_RE = re.compile(rb'id="live-status"[^>]*data-step="(\d+)"|^data: \{"step":(\d+)', re.M)
KIND_RE = re.compile(rb"^event: (\w+)$", re.M)
HEAD = 600  # bytes of an event that hold its step
CODE_RE = re.compile(r'class="live-code"[^>]*>([A-Z0-9 ]+)<')
AFTER_RE = re.compile(r"/live/([A-Z0-9]+)/events\?after=(\d+)")
GRACE = 3.0  # seconds after the last step for every frame to arrive
CONNECT_CONCURRENCY = 20


class Follower:
    """One follower's event stream, on a raw HTTP/1.1 connection: the first arrival of each step's frame."""

    def __init__(self):
        self.seen: dict[int, float] = {}
        self.frames = 0  # frames and patches received
        self.kinds: dict[bytes, int] = {}
        self.bytes = 0
        self.error: str | None = None
        self.ready = asyncio.Event()
        self.joined: float | None = None  # seconds its page took to load (--join)

    async def join(self, host: str, port: int, code: str) -> int:
        """Load the follower's page, as a browser does first: the event number its stream resumes after."""
        start = time.perf_counter()
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"GET /live/{code} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        page = await reader.read()
        writer.close()
        self.joined = time.perf_counter() - start
        if not page.startswith(b"HTTP/1.1 200"):
            raise RuntimeError("the page: " + page.split(b"\r\n", 1)[0].decode())
        return int(AFTER_RE.search(page.decode()).group(2))

    async def follow(self, host: str, port: int, path: str) -> None:
        try:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                self.error = head.split(b"\r\n", 1)[0].decode()
                self.ready.set()
                return
            self.ready.set()
            buffer = b""
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    self.error = self.error or "closed by the server"
                    return
                now = time.perf_counter()
                self.bytes += len(chunk)
                buffer += chunk
                *events, buffer = buffer.split(b"\n\n")  # whole events; a partial one waits for the rest
                for event in events:
                    head = event[:HEAD]
                    if m := STEP_RE.search(head):
                        self.frames += 1
                        kind = KIND_RE.search(head).group(1)
                        self.kinds[kind] = self.kinds.get(kind, 0) + 1
                        self.seen.setdefault(int(m.group(1) or m.group(2)), now)
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            self.ready.set()
        except asyncio.CancelledError:
            pass


async def playing(presenter: httpx.AsyncClient, seconds: float) -> tuple[dict[int, float], int, int]:
    """The presenter's Play, as its page runs it: POST /ui/play, then the frames' stream, each frame said drawn
    (POST /ui/play/drawn) as it arrives; Pause after `seconds`. (step -> when the presenter got its frame, the
    step Play stopped at, the presenter's frames)."""
    hx = {"HX-Request": "true"}
    holds = re.search(r'data-structure="([0-9a-f]*)"', (await presenter.get("/")).text).group(1)
    r = await presenter.post("/ui/play", headers=hx)
    if r.status_code != 200:
        raise RuntimeError(f"Play: {r.status_code} {r.text[:200]}")
    seen: dict[int, float] = {}
    frames, last, acks = 0, None, set()
    options = {"base_url": presenter.base_url, "cookies": presenter.cookies, "timeout": httpx.Timeout(30, read=60)}
    async with httpx.AsyncClient(**options) as page, httpx.AsyncClient(**options) as drawn:
        end, pause = time.perf_counter() + seconds, None
        async with page.stream("GET", "/ui/play/stream", params={"holds": holds}) as stream:
            token = kind = number = None
            async for line in stream.aiter_lines():
                if pause is None and time.perf_counter() >= end:
                    pause = asyncio.create_task(presenter.post("/ui/pause", headers=hx))
                if line.startswith("id: "):
                    number = line[4:]
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "stream":
                    token = json.loads(line[6:])["stream"]
                elif line.startswith("data: ") and kind == "frame":
                    frames += 1
                    last = json.loads(line[6:])["step"]
                    seen.setdefault(last, time.perf_counter())
                    ack = asyncio.create_task(drawn.post("/ui/play/drawn", headers=hx,
                                                         data={"stream": token, "frame": number}))
                    acks.add(ack)
                    ack.add_done_callback(acks.discard)
                elif kind == "end":
                    break
        if pause is not None:
            await pause
        await asyncio.gather(*acks, return_exceptions=True)
    return seen, last, frames


async def run(base: str, followers: int, seconds: float, interval: float, join: bool, play: bool) -> dict:
    host, port = base.removeprefix("http://").split(":")
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as presenter:
        await presenter.get("/")
        r = await presenter.post("/ui/live/start", headers={"HX-Request": "true"})
        code = CODE_RE.search(r.text).group(1).replace(" ", "")
        page = (await presenter.get(f"/live/{code}")).text  # as a follower's browser would, once
        after = int(AFTER_RE.search(page).group(2))
        crowd = [Follower() for _ in range(followers)]
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def start(f: Follower) -> asyncio.Task:
            async with gate:
                since = await f.join(host, int(port), code) if join else after
                task = asyncio.create_task(f.follow(host, int(port), f"/live/{code}/events?after={since}"))
                await f.ready.wait()
                return task

        t0 = time.perf_counter()
        tasks = await asyncio.gather(*(start(f) for f in crowd))
        connected = time.perf_counter() - t0
        await asyncio.sleep(0.5)
        received = [(f.frames, f.bytes) for f in crowd]
        sent: dict[int, float] = {}
        answered: dict[int, float] = {}
        step, end, played = 0, time.perf_counter() + seconds, None
        window = time.perf_counter()
        if play:
            played = await playing(presenter, seconds)
            sent, step = played[0], played[1]
        while time.perf_counter() < end and not play:
            tick = time.perf_counter()
            step += 1
            sent[step] = tick
            r = await presenter.post("/ui/step", headers={"HX-Request": "true"})
            answered[step] = time.perf_counter()
            if r.status_code != 200:
                raise RuntimeError(f"Step {step}: {r.status_code} {r.text[:200]}")
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - tick)))
        window = time.perf_counter() - window
        deadline = time.perf_counter() + GRACE
        while time.perf_counter() < deadline and not all(step in f.seen for f in crowd if not f.error):
            await asyncio.sleep(0.05)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies, after_answer, dropped = [], [], 0
    for f in crowd:
        if play:  # a follower's frame of step N, behind the presenter's frame of step N
            latencies += [t - sent[n] for n, t in f.seen.items() if n in sent]
            dropped += step not in f.seen
            continue
        for n in range(1, step + 1):
            if n in f.seen:
                latencies.append(f.seen[n] - sent[n])
                after_answer.append(f.seen[n] - answered[n])
            else:
                dropped += 1
    joins = [f.joined for f in crowd if f.joined is not None]
    kinds: dict[str, int] = {}
    for f in crowd:
        for kind, n in f.kinds.items():
            kinds[kind.decode()] = kinds.get(kind.decode(), 0) + n
    return {"code": code, "steps": step, "connected": connected, "joins": joins, "latencies": latencies,
            "after_answer": after_answer, "dropped": dropped, "errors": [f.error for f in crowd if f.error],
            "bytes": sum(f.bytes for f in crowd), "step_times": [answered[n] - sent[n] for n in answered],
            "window": window, "frames": sum(f.frames - r[0] for f, r in zip(crowd, received)),
            "frame_bytes": sum(f.bytes - r[1] for f, r in zip(crowd, received)), "kinds": kinds,
            "presenter_frames": played[2] if played else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--followers", type=int, default=300, help="event streams (default 300, at most 2000)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the presenting (default 30, at most 300)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between the presenter's steps (default 1)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument("--redis", action="store_true", help="a private redis-server as the store (default SQLite)")
    parser.add_argument("--join", action="store_true",
                        help="each follower first loads its page (GET /live/{code}), 20 at a time, as a class joining")
    parser.add_argument("--play", action="store_true",
                        help="the presenter presses Play (its frames' stream, each said drawn) instead of Step")
    args = parser.parse_args()
    if not 1 <= args.followers <= 2000 or not 1 <= args.seconds <= 300 or not 0.05 <= args.interval <= 10:
        parser.error("--followers 1-2000, --seconds 1-300, --interval 0.05-10")
    try:
        import uvloop
        new_loop = uvloop.new_event_loop
    except ImportError:
        new_loop = asyncio.new_event_loop

    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-live-")))
        if args.redis:
            store, _ = stack.enter_context(running_redis(scratch))
            label = "Redis (private redis-server, pub/sub between workers)"
        else:
            store, label = f"sqlite:///{scratch}/live.db", "SQLite (WAL) in a temporary directory"
        # Every follower here comes from 127.0.0.1: let one address open them all (a class allows 400 by default).
        streams = {"PLAYGROUND_MAX_STREAMS_PER_ADDRESS": str(args.followers + 10)}
        base, proc, _ = stack.enter_context(running_server(store, args.workers, scratch, access_log=False,
                                                           settings=streams))
        pids = descendants(proc.pid)
        print(f"server: uvicorn at {base}, {args.workers} worker process{'es' * (args.workers > 1)}; store: {label}")
        doing = "playing" if args.play else f"pressing Step every {args.interval:g} s"
        print(f"load: 1 presenter {doing} for {args.seconds:g} s; "
              f"{args.followers} followers, one event stream each (raw HTTP/1.1 on asyncio)")
        cpu0 = {p: cpu_seconds(p) or 0.0 for p in pids}
        client0 = resource.getrusage(resource.RUSAGE_SELF)
        loop = new_loop()
        try:
            out = loop.run_until_complete(run(base, args.followers, args.seconds, args.interval, args.join,
                                              args.play))
        finally:
            loop.close()
        server_cpu = sum((cpu_seconds(p) or 0.0) - cpu0[p] for p in pids)
        client1 = resource.getrusage(resource.RUSAGE_SELF)
        client_cpu = client1.ru_utime + client1.ru_stime - client0.ru_utime - client0.ru_stime

    lat = summarize(out["latencies"]) if out["latencies"] else None
    print(f"room {out['code']}: {args.followers} followers connected in {out['connected']:.2f} s; "
          f"{out['steps']} steps; {out['bytes'] / 1e6:.1f} MB of events received")
    if out["joins"]:
        joins = summarize(out["joins"])
        print(f"a follower's page (GET /live/{{code}}, {CONNECT_CONCURRENCY} at a time): p50 {joins['p50']:.1f} ms, "
              f"p99 {joins['p99']:.1f} ms")
    frames, window = max(out["frames"], 1), out["window"]
    print(f"followers' frames while {'playing' if args.play else 'stepping'} ({window:.1f} s): {out['frames']} "
          f"({out['frames'] / args.followers / window:.1f} a second a follower; kinds {out['kinds']}), "
          f"{out['frame_bytes'] / frames / 1e3:.1f} kB a frame, "
          f"{out['frame_bytes'] / args.followers / window / 1e3:.0f} kB a second a follower")
    if args.play:
        print(f"presenter's Play: {out['presenter_frames']} frames ({out['presenter_frames'] / window:.1f} a second), "
              f"to step {out['steps']}")
        if lat:
            print(f"a follower's frame of step N after the presenter's ({len(out['latencies'])} arrivals): p50 "
                  f"{lat['p50']:.1f} ms, p90 {lat['p90']:.1f} ms, p99 {lat['p99']:.1f} ms, max {lat['max']:.1f} ms")
        print(f"followers not on the last step {out['steps']} within {GRACE:g} s: {out['dropped']}; "
              f"stream errors: {len(out['errors'])}{' e.g. ' + out['errors'][0] if out['errors'] else ''}")
    else:
        step = summarize(out["step_times"])
        print(f"presenter's Step answered: p50 {step['p50']:.1f} ms, p99 {step['p99']:.1f} ms")
        if lat:
            after = summarize(out["after_answer"])
            print(f"step sent -> frame at a follower ({len(out['latencies'])} arrivals): p50 {lat['p50']:.1f} ms, "
                  f"p90 {lat['p90']:.1f} ms, p99 {lat['p99']:.1f} ms, max {lat['max']:.1f} ms")
            print(f"presenter's answer -> frame at a follower: p50 {after['p50']:.1f} ms, p99 {after['p99']:.1f} ms")
        print(f"dropped: {out['dropped']} of {out['steps'] * args.followers} (step, follower) pairs; "
              f"stream errors: {len(out['errors'])}{' e.g. ' + out['errors'][0] if out['errors'] else ''}")
    print(f"CPU: server {server_cpu:.2f} s ({server_cpu / frames * 1e3:.3f} ms a follower's frame), "
          f"client {client_cpu:.2f} s")
    ok = (lat is not None and (args.play or lat["p99"] < TARGET_P99_MS) and out["dropped"] == 0
          and not out["errors"])
    target = "every follower on the last step" if args.play else f"p99 < {TARGET_P99_MS:g} ms, none dropped"
    print(f"target ({args.followers} followers, {target}): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1

if __name__ == "__main__":
    sys.exit(main())
