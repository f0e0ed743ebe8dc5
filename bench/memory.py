"""Memory per idle session at the default network, in the server's memory and in the SQLite store on disk.

Sessions are the page's default (CreateSession(): circle, 2 -> 4 -> 2 -> 1, tanh, batch 10), created through a
SessionStore on a SQLite file in a temporary directory, as the server does for each new browser, then trained one
step at a time through the store's lock (as Step does: every step saves a loss point and a rewind point; up to
PLAYGROUND_REWIND_STEPS = 250 rewind points are kept). Per session, after 0 steps and after each --steps count:
  - Python heap: tracemalloc's traced bytes, before and after, over the number of sessions;
  - RSS: the process's resident set, before and after (a second, untraced pass; includes the allocator's slack);
  - SQLite: the database file after a checkpoint (WAL folded in), and the payload bytes per table.
Run: `.venv/bin/python bench/memory.py [--sessions 500] [--steps 50 250]`.
"""
import argparse
import gc
import os
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.recipe import CreateSession  # noqa: E402
from app.core.session import build_session  # noqa: E402
from app.settings import get_settings  # noqa: E402
from app.store import open_store  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE


def heap() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def kib(n: float) -> str:
    return f"{n / 1024:8.1f} KiB"


def grow(store, sessions: list, upto: int) -> None:
    """Train every session to `upto` steps, one Step at a time through the store (lock, train, save)."""
    for s in sessions:
        while s.trainer.step_count < upto:
            with s.lock:
                s.train(1)


def disk(path: Path, n: int) -> str:
    """Database bytes per session after a checkpoint, and the stored payload per table."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = db.execute("PRAGMA page_count").fetchone()[0] * db.execute("PRAGMA page_size").fetchone()[0]
        sessions = db.execute("SELECT coalesce(sum(length(recipe) + length(state)), 0) FROM sessions").fetchone()[0]
        history = db.execute("SELECT coalesce(sum(length(points)), 0), count(*) FROM history").fetchone()
        rewind = db.execute("SELECT coalesce(sum(length(state)), 0), count(*) FROM rewind").fetchone()
    return (f"{kib(pages / n)} per session in the file ({pages / 2**20:.1f} MiB for {n}); payload: "
            f"recipe+state {sessions / n:.0f} B, loss curve {history[0] / n:.0f} B in {history[1] / n:.0f} rows, "
            f"rewind {rewind[0] / n:.0f} B in {rewind[1] / n:.0f} rows")


def by_site(snapshot: tracemalloc.Snapshot) -> dict[str, int]:
    """Traced bytes by the innermost line of this project's code that allocated them (numpy's own frames are
    attributed to the app line that called numpy)."""
    app = str(ROOT / "app")
    raw: dict[tuple, int] = {}
    for trace in snapshot.traces:
        key = None
        for frame in reversed(trace.traceback):
            if frame.filename.startswith(app):
                key = (frame.filename, frame.lineno)
                break
        raw[key] = raw.get(key, 0) + trace.size
    return {f"{os.path.relpath(k[0], ROOT)}:{k[1]}" if k else "elsewhere": v for k, v in raw.items()}


def run(n: int, steps: list[int], traced: bool, tmp: Path) -> dict:
    """Create n sessions and train them to each count in steps; per-session bytes at 0 and at each count."""
    path = tmp / f"memory-{'traced' if traced else 'rss'}.db"
    settings = get_settings()
    store = open_store(f"sqlite:///{path}", max_sessions=max(10_000, n), ttl=settings.session_ttl)
    build_session(CreateSession())  # imports, caches and the first dataset out of the way
    measure = heap if traced else (lambda: (gc.collect(), rss())[1])
    start = measure()
    sessions = []
    for _ in range(n):
        s = build_session(CreateSession())
        store.add(s)
        sessions.append(store.get(s.id))
    out = {0: ((measure() - start) / n, disk(path, n) if not traced else None,
               (len(sessions[0].history), len(sessions[0].snapshots)))}
    if traced:
        out["sites", 0] = by_site(tracemalloc.take_snapshot())
    for k in steps:
        began = time.perf_counter()
        grow(store, sessions, k)
        out[k] = ((measure() - start) / n, disk(path, n) if not traced else None,
                  (len(sessions[0].history), len(sessions[0].snapshots)), time.perf_counter() - began)
    if traced and steps:
        out["sites", steps[-1]] = by_site(tracemalloc.take_snapshot())
    store.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=500, help="sessions created (default 500)")
    parser.add_argument("--steps", type=int, nargs="*", default=[50],
                        help="step counts to measure after, increasing (default 50; 250 fills the rewind window)")
    args = parser.parse_args()
    if args.sessions < 1 or any(k < 1 for k in args.steps) or args.steps != sorted(set(args.steps)):
        parser.error("--sessions >= 1, and --steps positive and increasing")

    settings = get_settings()
    print(f"default network: CreateSession() (circle, 2 -> 4 -> 2 -> 1, tanh, sgd, batch 10); {args.sessions} "
          f"sessions in one SessionStore on SQLite; rewind keeps up to {settings.rewind_steps} steps "
          f"({settings.rewind_bytes} bytes)")
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        plain = run(args.sessions, args.steps, traced=False, tmp=Path(tmp))
        tracemalloc.start(8)
        traced = run(args.sessions, args.steps, traced=True, tmp=Path(tmp))
        tracemalloc.stop()
    print()
    print("per idle session        Python heap (tracemalloc)   RSS           loss points  rewind points")
    for k in [0, *args.steps]:
        (heap_b, _, (points, rewinds), *_), (rss_b, *_) = traced[k], plain[k]
        print(f"  after {k:4d} steps      {kib(heap_b)}                {kib(rss_b)}  {points:8d}     {rewinds:8d}")
    print()
    print("SQLite on disk (after a checkpoint):")
    for k in [0, *args.steps]:
        print(f"  after {k:4d} steps  {plain[k][1]}")
    if args.steps:
        last = args.steps[-1]
        per_step = (traced[last][0] - traced[0][0]) / last
        print()
        print(f"each step adds about {per_step:.0f} B of heap per session while the rewind window fills "
              f"(a loss point and a rewind point); at {settings.rewind_steps} points it stops growing "
              f"except for the loss curve")
        steps_run = args.sessions * (last - (args.steps[-2] if len(args.steps) > 1 else 0))
        print(f"training time: {plain[last][3] / steps_run * 1e3:.2f} ms per step through the store "
              f"(lock, train, save; the untraced pass, steps {args.steps[-2] if len(args.steps) > 1 else 0}-{last})")
    print()
    print(f"where an idle session's heap goes (by the line of app/ code that allocated it):")
    sites0 = traced["sites", 0]
    for site, size in sorted(sites0.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {kib(size / args.sessions)}  {site}")
    if args.steps:
        last = args.steps[-1]
        print(f"what {last} steps added per session:")
        sites = traced["sites", last]
        grown = {k: sites.get(k, 0) - sites0.get(k, 0) for k in sites.keys() | sites0.keys()}
        for site, size in sorted(grown.items(), key=lambda kv: -kv[1])[:8]:
            print(f"  {kib(size / args.sessions)}  {site}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
