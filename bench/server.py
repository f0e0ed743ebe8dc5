"""Server time of one training step through a real uvicorn on loopback, HTML fragments and JSON API.

Section 1 times POST /ui/step, the htmx action behind the Step button: one step, answered with every panel
as an out-of-band swap (network SVG with its heatmaps, the output heatmap, new loss points, metrics).
Section 2 times POST /api/sessions/{id}/step with {"steps": 1} on the same session, for comparison.
Both go through httpx with one keep-alive connection, sequentially, after a warm-up, on the default network.
Target: /ui/step p50 <= 5 ms.
Run: `.venv/bin/python bench/server.py [--requests N] [--warmup N]`.
"""
import argparse
import os
import re
import socket
import statistics
import sys
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402


COOKIE = "bp_session"
HTMX = {"HX-Request": "true"}
TARGET_P50_MS = 5.0
# Every panel the Step answer must carry as an out-of-band swap.
OOB_IDS = ("metrics", "message", "network", "output-data", "loss-data", "player")
STEP_RE = re.compile(r'<svg id="network" data-step="(\d+)"')


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(timeout: float = 20.0, store: str | None = None):
    """uvicorn serving app.main:app on 127.0.0.1 in its own process (so the client does not share its GIL).
    `store` is its PLAYGROUND_STORE; by default a SQLite file in a temporary directory."""
    port = free_port()
    scratch = tempfile.TemporaryDirectory()
    # Without rate limits: this times one client stepping as fast as it can, which the limits would refuse.
    env = {**os.environ, "PLAYGROUND_STORE": store or f"sqlite:///{scratch.name}/bench.db",
           "PLAYGROUND_RATE_LIMIT_SCALE": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def summarize(times: list[float]) -> dict[str, float]:
    """Percentiles (nearest rank) and mean, in milliseconds."""
    ms = sorted(t * 1e3 for t in times)

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, max(0, round(p / 100 * len(ms)) - 1))]

    return {"p50": statistics.median(ms), "p90": pct(90), "p99": pct(99), "mean": statistics.fmean(ms),
            "max": ms[-1]}


def step_number(html: str) -> int:
    m = STEP_RE.search(html)
    if not m:
        raise RuntimeError("no <svg id=\"network\" data-step=...> in the answer")
    return int(m.group(1))


def check_ui_answer(html: str, expected_step: int) -> None:
    missing = [i for i in OOB_IDS if not re.search(rf'id="{i}"[^>]*hx-swap-oob="true"', html)]
    if missing:
        raise RuntimeError(f"/ui/step answer lacks out-of-band panels: {', '.join(missing)}")
    if "data:image/png;base64," not in html:
        raise RuntimeError("/ui/step answer has no heatmap images")
    if (got := step_number(html)) != expected_step:
        raise RuntimeError(f"/ui/step answered data-step={got}, expected {expected_step}")


def time_requests(send, n: int) -> tuple[list[float], list]:
    times, answers = [], []
    for _ in range(n):
        start = time.perf_counter()
        r = send()
        times.append(time.perf_counter() - start)
        answers.append(r)
    return times, answers


def bench_ui(client: httpx.Client, warmup: int, requests: int) -> tuple[dict, float, int]:
    def send():
        r = client.post("/ui/step", headers=HTMX)
        if r.status_code != 200:
            raise RuntimeError(f"POST /ui/step answered {r.status_code}")
        return r

    first = send()
    step = step_number(first.text)
    check_ui_answer(first.text, step)
    for _ in range(warmup - 1):
        send()
    step += warmup - 1
    times, answers = time_requests(send, requests)
    for r in answers:  # outside the timed loop: every answer carries all panels and the next step
        step += 1
        check_ui_answer(r.text, step)
    sizes = [len(r.content) for r in answers]
    return summarize(times), statistics.fmean(sizes) / 1024, step


def bench_api(client: httpx.Client, sid: str, warmup: int, requests: int) -> tuple[dict, float, int]:
    def send():
        r = client.post(f"/api/sessions/{sid}/step", json={"steps": 1})
        if r.status_code != 200:
            raise RuntimeError(f"POST /api/sessions/{{id}}/step answered {r.status_code}: {r.text[:200]}")
        return r

    for _ in range(warmup):
        send()
    times, answers = time_requests(send, requests)
    steps = [r.json()["step"] for r in answers]
    if any(b != a + 1 for a, b in zip(steps, steps[1:])):
        raise RuntimeError("API step counter did not advance by one per request")
    sizes = [len(r.content) for r in answers]
    return summarize(times), statistics.fmean(sizes) / 1024, steps[-1]


def print_stats(label: str, stats: dict, size_kb: float, n: int) -> None:
    print(f"{label}  ({n} sequential requests, one keep-alive connection)")
    print(f"  p50 {stats['p50']:7.2f} ms   p90 {stats['p90']:7.2f} ms   p99 {stats['p99']:7.2f} ms   "
          f"mean {stats['mean']:7.2f} ms   max {stats['max']:7.2f} ms")
    print(f"  response size {size_kb:.1f} KB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500, help="timed requests per section (default 500)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed requests first (default 50)")
    parser.add_argument("--store", help="PLAYGROUND_STORE for the server (default: SQLite in a temporary directory), "
                                        "e.g. redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    if args.requests < 1 or args.warmup < 1:
        parser.error("--requests and --warmup must be at least 1")

    with running_server(store=args.store) as base, httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/")
        if page.status_code != 200:
            raise RuntimeError(f"GET / answered {page.status_code}")
        sid = client.cookies.get(COOKIE)
        if not sid:
            raise RuntimeError(f"GET / set no {COOKIE} cookie")
        print(f"server: uvicorn {uvicorn.__version__} at {base}, one worker in its own process; client: httpx {httpx.__version__}")
        print(f"store: {args.store or 'SQLite (WAL) in a temporary directory'}")
        cfg = client.get(f"/api/sessions/{sid}").json()["config"]
        print(f"network: the page's default session, layers {' -> '.join(map(str, cfg['layers']))}, "
              f"{cfg['hidden_activation']}/{cfg['output_activation']}, batch {cfg['batch_size']}, "
              f"dataset {cfg['dataset']['name']}; step {step_number(page.text)} at start")
        print()

        stats, size, step = bench_ui(client, args.warmup, args.requests)
        print_stats("POST /ui/step  (HTML, every panel out of band, heatmaps included)", stats, size, args.requests)
        verdict = "met" if stats["p50"] <= TARGET_P50_MS else "NOT met"
        print(f"  target: p50 <= {TARGET_P50_MS:g} ms for the default network, heatmaps included -> {verdict}")
        print(f"  (every timed answer checked afterwards: all panels present, data-step advanced to {step})")
        print()

        stats, size, step = bench_api(client, sid, args.warmup, args.requests)
        print_stats('POST /api/sessions/{id}/step  (JSON, {"steps": 1}, trace included)', stats, size, args.requests)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, httpx.HTTPError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
