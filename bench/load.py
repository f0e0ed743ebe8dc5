"""Many students at once: a bounded, time-limited load on loopback only.

Each simulated student is a browser with its own session: GET / (its own cookie), then Step about once a second
(uniform 0.8-1.2 s between presses, the first at a random moment of the first second so that students do not
press together), for --seconds. A press is what the page's Step button sends (--endpoint ui, the default): POST
/ui/step with `HX-Request: true` and `X-BP-Frame: <structure>`, the diagram the page holds (the `data-structure` of
`<svg id="network"` in GET /'s HTML), answered with a light frame (JSON, app/web/frames.py); the code before issue 26
ignores that header and answers every panel's HTML, which is accepted too, so that one script measures both. With
--endpoint ui-html the press leaves X-BP-Frame out and gets the HTML answer (the page without its script, or before
issue 26); with --endpoint api it is POST /api/sessions/{id}/step. Each student has its own keep-alive connection
(one httpx.AsyncClient per student; --client raw swaps in a minimal HTTP/1.1 client that needs a fraction of the
CPU, since the load generator shares the cores with the server). Every answer must be 200 and carry that
student's next step (a light frame's "step", and its diagram patch's step, `diagram.svg[0]`, when it has one; an HTML
answer's `<svg id="network" data-step="N"`; the API's "step"); anything else counts as an error, by kind.

The script starts everything itself and only on 127.0.0.1: uvicorn on a free port (--workers W), the store in a
temporary directory (SQLite), or with --redis a private redis-server on a free port (no persistence), or
--store redis://127.0.0.1:PORT/DB (loopback only). Server and client share this machine's cores, so it reports
the CPU each used (/proc/<pid>/stat), and what the rest of the machine used meanwhile.

With --heavy, the students press for two windows of --seconds: alone (quiet), then beside one heavy client that
connects from the students' own address, as a class behind a school's NAT does (127.0.0.1; --heavy-source 127.0.0.2
puts it elsewhere), and runs the largest requests the API allows from 16 tasks: creates of the largest network
and data, steps up to the per-request caps, epochs, predictions of the most rows, gradient checks and loss slices.
It reports the students' p50 and p99 in each window and the heavy client's answers by status (200, 429, ...).

Target: 300 students with p99 < 100 ms and no errors; with --heavy, no student's press refused and the students'
p99 beside the heavy client below twice the quiet one.
Run: `.venv/bin/python bench/load.py [--students 300] [--seconds 30] [--workers 1] [--redis] [--endpoint ui|ui-html|api]
[--client httpx|raw] [--heavy [--heavy-source ADDRESS]]`.
"""
import argparse
import asyncio
import ipaddress
import json
import math
import multiprocessing
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
import redis  # noqa: E402
import uvicorn  # noqa: E402

from server import free_port, summarize  # noqa: E402  (bench/server.py)

COOKIE = "bp_session"
HTMX = {"HX-Request": "true"}
STEP_RE = re.compile(rb'<svg id="network" data-step="(\d+)"')
STRUCTURE_RE = re.compile(rb'<svg id="network"[^>]*?data-structure="([0-9a-f]*)"')  # issue 26's light frames
FRAME_HEADER = "X-BP-Frame"  # the page's script asks for a light frame, naming the diagram it holds
TARGET_P99_MS = 100.0
TARGET_STUDENTS = 300
HEAVY_STUDENTS = 50  # the light students beside the heavy client (--heavy)
MAX_STUDENTS = 2000
MAX_SECONDS = 120.0
REQUEST_TIMEOUT = 10.0  # a press unanswered after this long is an error ("timeout")
GAP = (0.8, 1.2)  # seconds between one student's presses
SETUP_CONCURRENCY = 8  # page loads at once while the students arrive (before the timed window)
REDIS_SERVER = "/usr/bin/redis-server"
TICK = os.sysconf("SC_CLK_TCK")
LOOPBACK_NAMES = {"localhost"}


# ---- processes and their CPU -------------------------------------------------------------------------------

def is_loopback(host: str | None) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of one process, in seconds; None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) ": state is field 3, utime 14, stime 15
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return None


def descendants(pid: int) -> list[int]:
    """pid and every process below it (uvicorn's supervisor and its workers)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        parents.setdefault(int(text[text.rindex(")") + 2:].split()[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(parents.get(p, []))
    return found


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, every core together (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return (total - idle) / TICK, total / TICK


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process we started (uvicorn's supervisor then stops its workers), SIGKILL if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def wait_until(ready, proc: subprocess.Popen, what: str, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start:\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.05)


@contextmanager
def running_redis(scratch: Path):
    """A private redis-server on 127.0.0.1 and a free port: no RDB snapshots, no append-only file (a demo's
    Redis would usually have everysec; see docs/deploy.md)."""
    if not os.access(REDIS_SERVER, os.X_OK):
        raise RuntimeError(f"{REDIS_SERVER} is missing (make install-redis installs it)")
    port, log = free_port(), scratch / "redis.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", str(scratch)], stdout=out, stderr=subprocess.STDOUT)
    client = redis.Redis(port=port, socket_timeout=2)
    try:
        wait_until(client.ping, proc, "redis-server", log)
        yield f"redis://127.0.0.1:{port}/0", proc
    finally:
        client.close()
        stop(proc)


@contextmanager
def running_server(store: str, workers: int, scratch: Path, access_log: bool, settings: dict | None = None,
                   app: str = "app.main:app"):
    """uvicorn serving app.main:app on 127.0.0.1 with `workers` processes, PLAYGROUND_STORE=store and the
    default settings otherwise (plus `settings`, PLAYGROUND_* variables)."""
    port, log = free_port(), scratch / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAYGROUND_")}
    env.update(settings or {}, PLAYGROUND_STORE=store)
    cmd = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--log-level", "info" if access_log else "warning"]
    if not access_log:
        cmd.append("--no-access-log")
    with open(log, "wb") as out:  # a file, not a pipe: a full pipe would block the server
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(url + "/healthz", timeout=1).status_code == 200, proc, "uvicorn", log)
        if workers > 1:  # every worker up (the supervisor answers nothing itself)
            wait_until(lambda: len(descendants(proc.pid)) > workers, proc, "uvicorn's workers", log)
        yield url, proc, log
    finally:
        stop(proc)


# ---- the students -------------------------------------------------------------------------------------------

class Results:
    def __init__(self):
        self.times: list[float] = []  # seconds, every press answered with a status (errors included)
        self.errors: Counter = Counter()
        self.examples: dict[str, str] = {}
        self.ok = 0
        self.lag: list[float] = []  # how late each press left compared with its schedule (client overload)
        self.bytes = 0
        self.sent = 0
        self.kinds: Counter = Counter()  # answers by form: light frame, HTML, API JSON

    def error(self, kind: str, example: str) -> None:
        self.errors[kind] += 1
        self.examples.setdefault(kind, example)


class Lost(Exception):
    """A request that got no answer: `kind` is "timeout" or "transport: <exception>"."""

    def __init__(self, kind: str, detail: str):
        super().__init__(detail)
        self.kind = kind


class HttpxBrowser:
    """One student's browser: an httpx.AsyncClient with a single keep-alive connection and its own cookies."""

    def __init__(self, base: str, timeout: float):
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self.client = httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits)

    async def send(self, method: str, path: str, headers: dict, body: bytes | None = None) -> tuple[int, bytes]:
        try:
            r = await self.client.request(method, path, headers=headers, content=body)
        except httpx.TimeoutException as exc:
            raise Lost("timeout", f"{type(exc).__name__} after {REQUEST_TIMEOUT:g} s") from None
        except httpx.TransportError as exc:
            raise Lost(f"transport: {type(exc).__name__}", str(exc)[:200]) from None
        return r.status_code, r.content

    def cookie(self) -> str | None:
        return self.client.cookies.get(COOKIE)

    async def close(self) -> None:
        await self.client.aclose()


class RawBrowser:
    """The same on asyncio streams: HTTP/1.1 keep-alive, Content-Length or chunked bodies, one cookie. A tenth of
    httpx's CPU per request, so that the load generator leaves the cores to the server."""

    def __init__(self, base: str, timeout: float, source: str | None = None):
        parts = urlsplit(base)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.authority = f"{self.host}:{self.port}"
        self.source = source  # the local address to connect from (None: the system's choice)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.session: str | None = None
        self.headers: dict[str, list[str]] = {}  # the last answer's

    async def _exchange(self, request: bytes) -> tuple[int, dict, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, local_addr=(self.source, 0) if self.source else None)
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers.setdefault(name.strip().lower(), []).append(value.strip())
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"][0]))
        elif "chunked" in headers.get("transfer-encoding", [""])[0].lower():
            chunks = []
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                chunks.append(await self.reader.readexactly(size + 2))
            await self.reader.readuntil(b"\r\n")  # no trailers are sent
            body = b"".join(c[:-2] for c in chunks)
        else:
            body = await self.reader.read()  # the server closes the connection after the body
            headers["connection"] = ["close"]
        if "close" in headers.get("connection", [""])[0].lower():
            await self._drop()
        return status, headers, body

    async def send(self, method: str, path: str, headers: dict, body: bytes | None = None) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.authority}", "Accept: */*"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if self.session:
            lines.append(f"Cookie: {COOKIE}={self.session}")
        if body is not None or method == "POST":
            lines.append(f"Content-Length: {len(body or b'')}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
        try:
            status, answer_headers, content = await asyncio.wait_for(self._exchange(request), self.timeout)
        except asyncio.TimeoutError:
            await self._drop()
            raise Lost("timeout", f"no answer within {self.timeout:g} s") from None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError) as exc:
            await self._drop()
            raise Lost(f"transport: {type(exc).__name__}", str(exc)[:200]) from None
        for cookie in answer_headers.get("set-cookie", []):
            name, _, rest = cookie.partition("=")
            if name.strip() == COOKIE:
                self.session = rest.split(";", 1)[0]
        self.headers = answer_headers
        return status, content

    def cookie(self) -> str | None:
        return self.session

    async def _drop(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass

    async def close(self) -> None:
        await self._drop()


BROWSERS = {"httpx": HttpxBrowser, "raw": RawBrowser}


class Student:
    def __init__(self, browser):
        self.browser = browser
        self.step: int | None = None  # the step the session is at; None when unknown (after a lost answer)
        self.path, self.headers, self.body = "/ui/step", HTMX, None

    async def arrive(self, endpoint: str) -> None:
        """Open the page as a browser would: the answer sets this student's session cookie; the page's script then
        names the diagram it holds on each Step (--endpoint ui)."""
        status, content = await self.browser.send("GET", "/", {})
        if status != 200:
            raise RuntimeError(f"GET / answered {status}")
        sid = self.browser.cookie()
        m = STEP_RE.search(content)
        if not sid or not m:
            raise RuntimeError("GET / set no session cookie or drew no diagram")
        self.step = int(m.group(1))
        if endpoint == "ui":  # before issue 26 the page has no data-structure: the header is sent empty, and ignored
            held = STRUCTURE_RE.search(content)
            self.headers = {**HTMX, FRAME_HEADER: held.group(1).decode() if held else ""}
        if endpoint == "api":
            self.path = f"/api/sessions/{sid}/step"
            self.headers, self.body = {"Content-Type": "application/json"}, b'{"steps": 1}'

    async def press(self, results: Results) -> None:
        results.sent += 1
        start = time.perf_counter()
        try:
            status, content = await self.browser.send("POST", self.path, self.headers, self.body)
        except Lost as exc:
            results.error(exc.kind, str(exc))
            self.step = None
            return
        results.times.append(time.perf_counter() - start)
        results.bytes += len(content)
        if status != 200:
            results.error(f"HTTP {status}", content[:200].decode("utf-8", "replace"))
            self.step = None
            return
        if self.body is not None:  # the JSON API
            results.kinds["API JSON"] += 1
            try:
                got = json.loads(content)["step"]
            except (ValueError, KeyError, TypeError):
                got = None
        elif content.lstrip()[:1] == b"{":  # a light frame
            results.kinds["light frame (JSON)"] += 1
            got = self.frame_step(content, results)
            if got is False:
                self.step = None
                return
        else:  # every panel's HTML (--endpoint ui-html, or the code before issue 26)
            results.kinds["HTML"] += 1
            m = STEP_RE.search(content)
            got = int(m.group(1)) if m else None
        if got is None:
            results.error("no step in the answer", content[:200].decode("utf-8", "replace"))
            self.step = None
        elif self.step is not None and got != self.step + 1:
            results.error("step did not advance by one", f"expected {self.step + 1}, got {got}")
            self.step = got
        else:
            self.step = got
            results.ok += 1

    def frame_step(self, content: bytes, results: Results) -> int | None | bool:
        """A light frame's step (None: it has none); False after counting an error. A frame that draws the diagram
        anew (new markup, not a patch) names the structure the page now holds."""
        try:
            frame = json.loads(content)
            got = frame["step"]
            patch = frame.get("diagram")
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if patch is not None:
            try:
                drawn = patch["svg"][0]
            except (KeyError, IndexError, TypeError):
                drawn = None
            if drawn != got:
                results.error("the frame's step and its diagram's differ", f"step {got}, diagram.svg[0] {drawn}")
                return False
        elif FRAME_HEADER in self.headers and (held := STRUCTURE_RE.search(frame.get("html", "").encode())):
            self.headers = {**self.headers, FRAME_HEADER: held.group(1).decode()}
        return got

    async def run(self, start: float, end: float, rng: random.Random, results: Results) -> None:
        """Press at start + U(0, 1) s, then U(0.8, 1.2) s after the previous press left, until `end`. A press
        never leaves before the previous one is answered, like a student waiting for the diagram."""
        due = start + rng.uniform(0.0, 1.0)
        loop = asyncio.get_running_loop()
        while due < end:
            await asyncio.sleep(max(0.0, due - loop.time()))
            left = loop.time()
            results.lag.append(left - due)
            await self.press(results)
            due = max(left + rng.uniform(*GAP), loop.time())


# ---- the heavy client ------------------------------------------------------------------------------------------

HEAVY_SOURCE = "127.0.0.1"  # the students' own address, as behind a school's NAT (--heavy-source 127.0.0.2: another)
HEAVY_TASKS = 16
HEAVY_TIMEOUT = 120.0  # its requests may each run up to the server's time cap (max_request_seconds) and longer
# The largest network and data the API allows (app/settings.py defaults: 8 hidden layers of 64, 5,000 samples,
# 10,000 steps and 5,000,000 sample passes a request, 10,000 rows a prediction), a batch of 500.
HEAVY_NETWORK = {"layers": [2, *[64] * 8, 1], "dataset": {"name": "circle", "samples": 5000}, "batch_size": 500}
HEAVY_STEPS = 10_000  # 5,000,000 sample passes at 500 rows a batch
HEAVY_PREDICT = json.dumps({"inputs": [[(k % 100) / 50 - 1, (k // 100) / 50 - 1] for k in range(10_000)]}).encode()
HEAVY_KINDS = ("create", "step", "predict", "gradient-check", "epoch", "loss-slice")


class Heavy:
    """One client from HEAVY_SOURCE running the largest requests from HEAVY_TASKS tasks, each on its own connection
    and its own session (made by its first request), cycling through HEAVY_KINDS, one after another as fast as
    answers come. It honours Retry-After, as a client that means to keep being served does: a 429 makes that task
    wait as told (a client that does not only costs the server a cheap refusal a request, and its own CPU).

    It runs in a process of its own (heavy_process), so that reading its answers (a prediction of 10,000 rows is
    100 MB of JSON) does not delay the students' client, which times the light answers."""

    def __init__(self, base: str, source: str = HEAVY_SOURCE):
        self.base, self.source = base, source
        self.statuses: Counter = Counter()  # (kind, status) -> answers
        # Requests with no answer. A refusal sent before the request's body was read (a prediction's 300 KB) makes
        # uvicorn close the connection after it, so the next request on that connection fails and counts here.
        self.lost: Counter = Counter()

    def _request(self, kind: str, sid: str | None) -> tuple[str, str, bytes | None]:
        if kind == "create" or sid is None:
            return "POST", "/api/sessions", json.dumps(HEAVY_NETWORK).encode()
        if kind == "step":
            return "POST", f"/api/sessions/{sid}/step", json.dumps({"steps": HEAVY_STEPS}).encode()
        if kind == "predict":
            return "POST", f"/api/sessions/{sid}/predict", HEAVY_PREDICT
        if kind == "loss-slice":
            return "GET", f"/api/sessions/{sid}/loss-slice?layer=1&to=0&from=0&points=401", None
        return "POST", f"/api/sessions/{sid}/{kind}", None

    async def task(self, k: int, stop: asyncio.Event) -> None:
        browser = RawBrowser(self.base, HEAVY_TIMEOUT, source=self.source)
        sid, turn = None, k
        try:
            while not stop.is_set():
                kind = "create" if sid is None else HEAVY_KINDS[turn % len(HEAVY_KINDS)]
                method, path, body = self._request(kind, sid)
                headers = {"Content-Type": "application/json"} if body is not None else {}
                try:
                    status, content = await browser.send(method, path, headers, body)
                except Lost as exc:
                    self.lost[exc.kind] += 1
                    continue
                self.statuses[kind, status] += 1
                turn += 1
                if kind == "create" and status == 201:
                    sid = json.loads(content)["id"]
                if status == 429:
                    retry = float(browser.headers.get("retry-after", ["1"])[0])
                    try:
                        await asyncio.wait_for(stop.wait(), retry)
                    except TimeoutError:  # waited as told
                        continue
        finally:
            await browser.close()


def heavy_process(base: str, conn, source: str = HEAVY_SOURCE) -> None:
    """The heavy client's process: says "ready", waits for the end of its window (a time.time()), runs until then,
    and sends back what it got."""
    heavy = Heavy(base, source)
    conn.send("ready")
    deadline = conn.recv()

    async def run() -> None:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(heavy.task(k, stop)) for k in range(HEAVY_TASKS)]
        await asyncio.sleep(max(0.0, deadline - time.time()))
        stop.set()
        for t in tasks:  # requests still in flight are abandoned (their connections closed)
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(run())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    conn.send({"statuses": dict(heavy.statuses), "lost": dict(heavy.lost), "cpu": usage.ru_utime + usage.ru_stime})


class HeavyRun:
    """The heavy client's figures, as heavy_process sent them."""

    def __init__(self, figures: dict):
        self.statuses, self.lost = Counter(figures["statuses"]), Counter(figures["lost"])
        self.cpu = figures["cpu"]  # the heavy client process's own CPU seconds


async def simulate(base: str, students: int, seconds: float, endpoint: str, client: str, seed: int,
                   phases: list[str], on_phase, heavy_source: str = HEAVY_SOURCE
                   ) -> list[tuple[str, Results, float, HeavyRun | None]]:
    """The students arrive, then press for `seconds` in each phase: "quiet", or "heavy" alongside a Heavy client.
    on_phase(name, "start" | "end") marks each phase's window (CPU counters)."""
    rng = random.Random(seed)
    crowd = [Student(BROWSERS[client](base, REQUEST_TIMEOUT)) for _ in range(students)]
    try:
        gate = asyncio.Semaphore(SETUP_CONCURRENCY)

        async def arrive(s: Student) -> None:
            async with gate:
                await s.arrive(endpoint)

        loop = asyncio.get_running_loop()
        began = loop.time()
        await asyncio.gather(*(arrive(s) for s in crowd))
        print(f"setup: {students} pages loaded (GET /, {SETUP_CONCURRENCY} at a time), one session each, in "
              f"{loop.time() - began:.1f} s", flush=True)
        out = []
        for phase in phases:
            results, heavy = Results(), None
            if phase == "heavy":  # its own process, started and ready before the window
                ours, theirs = multiprocessing.Pipe()
                child = multiprocessing.get_context("spawn").Process(target=heavy_process, args=(base, theirs, heavy_source))
                child.start()
                if await loop.run_in_executor(None, ours.recv) != "ready":
                    raise RuntimeError("the heavy client did not start")
                ours.send(time.time() + seconds)
            on_phase(phase, "start")
            start = loop.time()
            end = start + seconds
            tasks = [asyncio.create_task(s.run(start, end, random.Random(rng.random()), results)) for s in crowd]
            # Presses still in flight at the end finish (each within REQUEST_TIMEOUT); nothing runs past that.
            done, pending = await asyncio.wait(tasks, timeout=seconds + REQUEST_TIMEOUT + 5)
            elapsed = loop.time() - start
            if phase == "heavy":
                heavy = HeavyRun(await loop.run_in_executor(None, ours.recv))
                await loop.run_in_executor(None, child.join, 30)
            on_phase(phase, "end")
            for t in pending:
                results.error("student still pressing at the hard deadline", "cancelled")
                t.cancel()
            for t in done:
                if t.exception() is not None:
                    raise t.exception()
            out.append((phase, results, elapsed, heavy))
            print(f"phase {phase}: done", flush=True)
        return out
    finally:
        await asyncio.gather(*(s.browser.close() for s in crowd), return_exceptions=True)


# ---- report -------------------------------------------------------------------------------------------------

def process_cpu(pids: list[int]) -> dict[int, float]:
    return {p: c for p in pids if (c := cpu_seconds(p)) is not None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=None,
                        help=f"simulated students, each with its own session (default {TARGET_STUDENTS}, with --heavy "
                             f"{HEAVY_STUDENTS}; at most {MAX_STUDENTS})")
    parser.add_argument("--seconds", type=float, default=30.0,
                        help=f"length of the timed window (default 30, at most {MAX_SECONDS:g})")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1), sharing "
                                                               "the store (the SQLite file, or Redis)")
    store = parser.add_mutually_exclusive_group()
    store.add_argument("--redis", action="store_true",
                       help=f"start a private {REDIS_SERVER} on a free loopback port and use it as the store")
    store.add_argument("--store", help="PLAYGROUND_STORE: a redis://127.0.0.1:PORT/DB already running on loopback "
                                       "(default: SQLite in a temporary directory)")
    parser.add_argument("--endpoint", choices=("ui", "ui-html", "api"), default="ui",
                        help="ui: POST /ui/step as the page's Step sends it, asking for a light frame (X-BP-Frame; "
                             "default); ui-html: the same without X-BP-Frame, answered with every panel's HTML; "
                             "api: POST /api/sessions/{id}/step")
    parser.add_argument("--client", choices=tuple(BROWSERS), default="httpx",
                        help="each student's HTTP client: httpx.AsyncClient (default), or raw, a minimal HTTP/1.1 "
                             "client on asyncio streams that costs far less CPU, leaving the cores to the server")
    parser.add_argument("--app", default="app.main:app",
                        help="the ASGI app uvicorn serves (default app.main:app); another module:attribute on "
                             "PYTHONPATH tries a variant of the app without editing it")
    parser.add_argument("--access-log", action="store_true",
                        help="let uvicorn log every request, as `backprop-playground serve` does (default: off)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the press schedule (default 0)")
    parser.add_argument("--heavy-source", default=HEAVY_SOURCE,
                        help="the heavy client's address on loopback (default: the students' own, 127.0.0.1)")
    parser.add_argument("--heavy", action="store_true",
                        help=f"two windows of --seconds each: the students alone (quiet), then with one heavy client "
                             f"from {HEAVY_SOURCE} running the largest requests from {HEAVY_TASKS} tasks")
    args = parser.parse_args()
    if args.students is None:
        args.students = HEAVY_STUDENTS if args.heavy else TARGET_STUDENTS
    if not 1 <= args.students <= MAX_STUDENTS:
        parser.error(f"--students must be 1 to {MAX_STUDENTS}")
    if not 1 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be 1 to {MAX_SECONDS:g}")
    if not 1 <= args.workers <= 16:
        parser.error("--workers must be 1 to 16")
    if args.store:
        parts = urlsplit(args.store)
        if parts.scheme not in ("redis", "rediss") or not is_loopback(parts.hostname):
            parser.error("--store must be a Redis on loopback, redis://127.0.0.1:PORT/DB "
                         "(SQLite is the default; this benchmark never leaves this machine)")

    try:
        import uvloop  # the client's event loop: the cheaper, the more of the machine is left to the server
        new_loop = uvloop.new_event_loop
        loop_name = f"uvloop {uvloop.__version__}"
    except ImportError:
        new_loop, loop_name = asyncio.new_event_loop, "asyncio"

    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-load-")))
        redis_proc = None
        if args.redis:
            store_url, redis_proc = stack.enter_context(running_redis(scratch))
            store_label = f"Redis (private redis-server {store_url}, no persistence)"
        elif args.store:
            store_url, store_label = args.store, f"Redis at {args.store}"
        else:
            store_url = f"sqlite:///{scratch}/load.db"
            store_label = "SQLite (WAL) in a temporary directory"
        base, proc, log = stack.enter_context(running_server(store_url, args.workers, scratch, args.access_log,
                                                             app=args.app))
        server_pids = descendants(proc.pid)

        print(f"server: uvicorn {uvicorn.__version__} serving {args.app} at {base}, {args.workers} worker process"
              f"{'es' * (args.workers > 1)}{' + supervisor' if args.workers > 1 else ''} "
              f"(pids {', '.join(map(str, server_pids))}), access log {'on' if args.access_log else 'off'}")
        print(f"store: {store_label}")
        client = f"httpx {httpx.__version__}" if args.client == "httpx" else "raw HTTP/1.1 on asyncio streams"
        print(f"client: {client} on {loop_name}, one keep-alive connection per student; "
              f"{os.cpu_count()} cores shared by server, store and client")
        what = {"ui": "POST /ui/step (HX-Request, X-BP-Frame: the page's diagram structure)",
                "ui-html": "POST /ui/step (HX-Request, HTML answer)",
                "api": 'POST /api/sessions/{id}/step {"steps": 1}'}[args.endpoint]
        print(f"load: {args.students} students, each GET / then {what} every {GAP[0]:g}-{GAP[1]:g} s "
              f"for {args.seconds:g} s (offered about {args.students:g} presses/s)")

        marks: dict[str, dict] = {}

        def on_phase(phase: str, when: str):  # a timed window begins or ends: every student has its session
            marks[phase, when] = {"server": process_cpu(descendants(proc.pid)),
                                  "redis": cpu_seconds(redis_proc.pid) if redis_proc else None,
                                  "client": resource.getrusage(resource.RUSAGE_SELF), "machine": machine_busy()}

        phases = ["quiet", "heavy"] if args.heavy else ["load"]
        if args.heavy:
            print(f"heavy: one client from {args.heavy_source} (the students connect from 127.0.0.1), {HEAVY_TASKS} tasks "
                  f"each with its own connection and session, cycling {', '.join(HEAVY_KINDS)} on "
                  f"{HEAVY_NETWORK['layers']} with {HEAVY_NETWORK['dataset']['samples']} samples, "
                  f"{HEAVY_STEPS} steps a step request, 10,000 rows a prediction; it honours Retry-After. "
                  f"Phases: {args.seconds:g} s quiet, then {args.seconds:g} s with the heavy client")
        loop = new_loop()
        try:
            runs = loop.run_until_complete(simulate(base, args.students, args.seconds, args.endpoint, args.client,
                                                    args.seed, phases, on_phase, args.heavy_source))
        finally:
            loop.close()
        server_rss = sum(r for p in process_cpu(descendants(proc.pid)) if (r := rss_bytes(p)) is not None)
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited during the run:\n{log.read_text(errors='replace')[-2000:]}")

    summary = []
    for phase, results, elapsed, heavy in runs:
        print()
        if args.heavy:
            print(f"== {phase}: {args.students} students" + (" + the heavy client" if heavy else ""))
        summary.append((phase, report(results, elapsed, marks[phase, "start"], marks[phase, "end"], heavy,
                                      redis_proc is not None, server_rss)))
    if args.heavy:
        (_, quiet), (_, loaded) = summary
        print()
        met = loaded["errors"] == 0 and loaded["p99"] < 2 * quiet["p99"]
        print(f"light students: quiet p50 {quiet['p50']:.1f} ms p99 {quiet['p99']:.1f} ms; with the heavy client "
              f"p50 {loaded['p50']:.1f} ms p99 {loaded['p99']:.1f} ms ({loaded['p99'] / quiet['p99']:.2f} × quiet "
              f"p99), {loaded['errors']} refused or lost; goal none refused and below 2 ×: {'met' if met else 'NOT met'}")
        return 0
    met = summary[0][1]["answered"] > 0 and summary[0][1]["errors"] == 0 and summary[0][1]["p99"] < TARGET_P99_MS
    verdict = "met" if met else "NOT met"
    print(f"target: {TARGET_STUDENTS} students, p99 < {TARGET_P99_MS:g} ms, zero errors; this run "
          f"({args.students} students, {args.workers} worker{'s' * (args.workers > 1)}, "
          f"{'Redis' if args.redis or args.store else 'SQLite'}) -> {verdict}"
          + ("" if args.students >= TARGET_STUDENTS else f" (but with fewer than {TARGET_STUDENTS} students)"))
    return 0


def report(results: Results, elapsed: float, before: dict, after: dict, heavy: "HeavyRun | None", with_redis: bool,
           server_rss: int) -> dict:
    """Print one window's figures; return its p50, p99, answers and errors."""
    answered = len(results.times)
    errors = sum(results.errors.values())
    print(f"window: {elapsed:.1f} s; presses {results.sent} ({results.sent / elapsed:.1f}/s), answered {answered}, "
          f"correct {results.ok}, errors {errors}")
    kinds = ", ".join(f"{n} {kind}" for kind, n in results.kinds.most_common()) or "none with status 200"
    print(f"throughput: {results.ok / elapsed:.1f} correct steps/s ({answered / elapsed:.1f} answers/s, "
          f"{results.bytes / max(answered, 1) / 1024:.1f} KB each; {kinds})")
    s = summarize(results.times) if answered else {"p50": math.nan, "p99": math.nan}
    if answered:
        print(f"latency: p50 {s['p50']:.1f} ms   p90 {s['p90']:.1f} ms   p99 {s['p99']:.1f} ms   "
              f"max {s['max']:.1f} ms   mean {s['mean']:.1f} ms")
    if results.lag:
        lag = summarize(results.lag)
        print(f"client lag (press left later than scheduled): p50 {lag['p50']:.1f} ms   p99 {lag['p99']:.1f} ms   "
              f"max {lag['max']:.1f} ms")
    if errors:
        print("errors by kind:")
        for kind, n in results.errors.most_common():
            print(f"  {n:6d}  {kind}  (e.g. {results.examples[kind]!r})")
    else:
        print("errors: none")
    if heavy is not None:
        by_status = Counter()
        for (kind, status), n in heavy.statuses.items():
            by_status[status] += n
        print(f"heavy client: {sum(by_status.values())} answers, by status "
              + ", ".join(f"{status}: {n}" for status, n in sorted(by_status.items()))
              + (f"; lost {dict(heavy.lost)}" if heavy.lost else "") + f"; its own CPU {heavy.cpu:.1f} s (counted in "
              "others below)")
        for kind in HEAVY_KINDS:
            answers = {status: n for (k, status), n in sorted(heavy.statuses.items()) if k == kind}
            print(f"  {kind:15s} " + ", ".join(f"{status}: {n}" for status, n in answers.items()))

    # CPU in the window, in seconds and as a share of one core; per answer, what each press cost.
    def used(first: dict[int, float], last: dict[int, float]) -> float:
        return sum(last[p] - first.get(p, 0.0) for p in last)

    server_cpu = used(before["server"], after["server"])
    per_process = ", ".join(f"{after['server'][p] - before['server'].get(p, 0.0):.1f} s (pid {p})"
                            for p in after["server"])
    c0, c1 = before["client"], after["client"]
    client_cpu = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)
    redis_cpu = (after["redis"] - before["redis"]) if with_redis and after["redis"] is not None else 0.0
    busy = after["machine"][0] - before["machine"][0]
    capacity = after["machine"][1] - before["machine"][1]
    other = busy - server_cpu - client_cpu - redis_cpu
    n = max(answered, 1)
    print(f"CPU in the window ({capacity:.0f} core-seconds available on {os.cpu_count()} cores):")
    print(f"  server  {server_cpu:6.2f} s = {100 * server_cpu / elapsed:5.1f} % of a core "
          f"({1e3 * server_cpu / n:.2f} ms per answer{' to a student' if heavy else ''}; per process {per_process}); "
          f"RSS {server_rss / 2**20:.0f} MB")
    if with_redis:
        print(f"  redis   {redis_cpu:6.2f} s = {100 * redis_cpu / elapsed:5.1f} % of a core "
              f"({1e3 * redis_cpu / n:.2f} ms per answer)")
    print(f"  client  {client_cpu:6.2f} s = {100 * client_cpu / elapsed:5.1f} % of a core "
          f"({1e3 * client_cpu / n:.2f} ms per answer)")
    print(f"  others  {other:6.2f} s = {100 * other / elapsed:5.1f} % of a core (the rest of this shared machine)")
    print(f"  machine {100 * busy / capacity:5.1f} % busy overall")
    return {"p50": s["p50"], "p99": s["p99"], "answered": answered, "errors": errors}


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, httpx.HTTPError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
