"""What storage costs per request: one training step with and without the store's lock (load check + save),
loading an evicted session, sharing and forking, for the SQLite store and (with --redis URL) Redis.

Run: `.venv/bin/python bench/store.py [--steps N] [--redis redis://127.0.0.1:6379/0]`.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.recipe import CreateSession  # noqa: E402
from app.core.session import build_session  # noqa: E402
from app.store import open_store  # noqa: E402


def timed(fn, n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e6)
    times.sort()
    return statistics.median(times), times[min(n - 1, int(n * 0.99))]


def run(url: str, steps: int) -> None:
    store = open_store(url, max_sessions=10_000, ttl=3600)
    plain = build_session(CreateSession())
    stored = build_session(CreateSession())
    store.add(stored)

    def step_plain():
        with plain.lock:
            plain.train(1)

    def step_stored():
        with stored.lock:
            stored.train(1)

    p50, p99 = timed(step_plain, steps)
    print(f"  step, in memory only:                p50 {p50:7.0f} µs   p99 {p99:7.0f} µs")
    s50, s99 = timed(step_stored, steps)
    print(f"  step, through the store (check+save): p50 {s50:7.0f} µs   p99 {s99:7.0f} µs   "
          f"-> storage adds {s50 - p50:.0f} µs at p50")
    print(f"  (after {steps} steps: {len(stored.history)} loss points, {len(stored.snapshots)} rewind points)")

    def reload():
        store._entries.pop(stored.id, None)
        store._locks.pop(stored.id, None)
        store.get(stored.id)

    r50, r99 = timed(reload, 50)
    print(f"  load an evicted session (rebuild data, restore state): p50 {r50:7.0f} µs   p99 {r99:7.0f} µs")
    session = store.get(stored.id)
    ids = []

    def share():
        with session.lock:
            ids.append(store.share(session))

    h50, h99 = timed(share, 50)
    print(f"  share (durable snapshot):             p50 {h50:7.0f} µs   p99 {h99:7.0f} µs")
    f50, f99 = timed(lambda: store.fork(ids[0]), 50)
    print(f"  fork a snapshot into a new session:   p50 {f50:7.0f} µs   p99 {f99:7.0f} µs")
    store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--redis", help="also measure this Redis store, e.g. redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite (WAL, synchronous=NORMAL; snapshots FULL), default network, {args.steps} steps")
        run(f"sqlite:///{tmp}/bench.db", args.steps)
        size = sum(p.stat().st_size for p in Path(tmp).glob("bench.db*"))
        print(f"  database files: {size / 1024:.0f} KB")
    if args.redis:
        print(f"\nRedis at {args.redis}, default network, {args.steps} steps")
        run(args.redis, args.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
