"""A live room with many followers: how long each presenter step takes to reach every follower's event stream.

The script starts uvicorn on loopback itself (bench/load.py running_server; SQLite in a temporary directory, or
--redis a private redis-server), makes a presenter (GET /, then the page's Present: POST /ui/live/start), and opens
--followers streams GET /live/{code}/events, each on its own connection from a minimal asyncio client (it shares the
2 cores with the server, so it must cost little). Then the presenter presses the page's Step (POST /ui/step,
HX-Request) every --interval seconds for --seconds. Each follower notes when the frame of step N first arrives (its
`<p id="live-status" data-step="N">`); a step's latency for a follower is that moment minus the moment the
presenter's Step was sent, so it includes the step itself. A step a follower never receives (within 3 s after the
last) counts as dropped.

Target: 300 followers on one worker, p99 below 100 ms, none dropped.
With --join each follower first loads its page, as a class arriving at once.
Run: `.venv/bin/python bench/live.py [--followers 300] [--seconds 30] [--interval 1] [--workers 1] [--redis] [--join]`.
"""
import argparse
import asyncio
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
STEP_RE = re.compile(rb'id="live-status"[^>]*data-step="(\d+)"')
CODE_RE = re.compile(r'class="live-code"[^>]*>([A-Z0-9 ]+)<')
AFTER_RE = re.compile(r"/live/([A-Z0-9]+)/events\?after=(\d+)")
GRACE = 3.0  # seconds after the last step for every frame to arrive
CONNECT_CONCURRENCY = 20


class Follower:
    """One follower's event stream, on a raw HTTP/1.1 connection: the first arrival of each step's frame."""

    def __init__(self):
        self.seen: dict[int, float] = {}
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
                    if m := STEP_RE.search(event):
                        self.seen.setdefault(int(m.group(1)), now)
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            self.ready.set()
        except asyncio.CancelledError:
            pass


async def run(base: str, followers: int, seconds: float, interval: float, join: bool) -> dict:
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
        sent: dict[int, float] = {}
        answered: dict[int, float] = {}
        step, end = 0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            tick = time.perf_counter()
            step += 1
            sent[step] = tick
            r = await presenter.post("/ui/step", headers={"HX-Request": "true"})
            answered[step] = time.perf_counter()
            if r.status_code != 200:
                raise RuntimeError(f"Step {step}: {r.status_code} {r.text[:200]}")
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - tick)))
        deadline = time.perf_counter() + GRACE
        while time.perf_counter() < deadline and not all(step in f.seen for f in crowd if not f.error):
            await asyncio.sleep(0.05)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies, after_answer, dropped = [], [], 0
    for f in crowd:
        for n in range(1, step + 1):
            if n in f.seen:
                latencies.append(f.seen[n] - sent[n])
                after_answer.append(f.seen[n] - answered[n])
            else:
                dropped += 1
    joins = [f.joined for f in crowd if f.joined is not None]
    return {"code": code, "steps": step, "connected": connected, "joins": joins, "latencies": latencies, "after_answer": after_answer,
            "dropped": dropped, "errors": [f.error for f in crowd if f.error], "bytes": sum(f.bytes for f in crowd),
            "step_times": [answered[n] - sent[n] for n in sent]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--followers", type=int, default=300, help="event streams (default 300, at most 2000)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the presenting (default 30, at most 300)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between the presenter's steps (default 1)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument("--redis", action="store_true", help="a private redis-server as the store (default SQLite)")
    parser.add_argument("--join", action="store_true",
                        help="each follower first loads its page (GET /live/{code}), 20 at a time, as a class joining")
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
        print(f"load: 1 presenter pressing Step every {args.interval:g} s for {args.seconds:g} s; "
              f"{args.followers} followers, one event stream each (raw HTTP/1.1 on asyncio)")
        cpu0 = {p: cpu_seconds(p) or 0.0 for p in pids}
        client0 = resource.getrusage(resource.RUSAGE_SELF)
        loop = new_loop()
        try:
            out = loop.run_until_complete(run(base, args.followers, args.seconds, args.interval, args.join))
        finally:
            loop.close()
        server_cpu = sum((cpu_seconds(p) or 0.0) - cpu0[p] for p in pids)
        client1 = resource.getrusage(resource.RUSAGE_SELF)
        client_cpu = client1.ru_utime + client1.ru_stime - client0.ru_utime - client0.ru_stime

    lat = summarize(out["latencies"]) if out["latencies"] else None
    step = summarize(out["step_times"])
    print(f"room {out['code']}: {args.followers} followers connected in {out['connected']:.2f} s; "
          f"{out['steps']} steps; {out['bytes'] / 1e6:.1f} MB of events received")
    if out["joins"]:
        joins = summarize(out["joins"])
        print(f"a follower's page (GET /live/{{code}}, {CONNECT_CONCURRENCY} at a time): p50 {joins['p50']:.1f} ms, "
              f"p99 {joins['p99']:.1f} ms")
    print(f"presenter's Step answered: p50 {step['p50']:.1f} ms, p99 {step['p99']:.1f} ms")
    if lat:
        after = summarize(out["after_answer"])
        print(f"step sent -> frame at a follower ({len(out['latencies'])} arrivals): p50 {lat['p50']:.1f} ms, "
              f"p90 {lat['p90']:.1f} ms, p99 {lat['p99']:.1f} ms, max {lat['max']:.1f} ms")
        print(f"presenter's answer -> frame at a follower: p50 {after['p50']:.1f} ms, p99 {after['p99']:.1f} ms")
    print(f"dropped: {out['dropped']} of {out['steps'] * args.followers} (step, follower) pairs; "
          f"stream errors: {len(out['errors'])}{' e.g. ' + out['errors'][0] if out['errors'] else ''}")
    print(f"CPU: server {server_cpu:.2f} s, client {client_cpu:.2f} s")
    ok = lat is not None and lat["p99"] < TARGET_P99_MS and out["dropped"] == 0 and not out["errors"]
    print(f"target ({args.followers} followers, p99 < {TARGET_P99_MS:g} ms, none dropped): "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
