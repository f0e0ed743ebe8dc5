"""Engine throughput on TF Playground's default workload, and the in-process latency of one API step.

Workload: 2 -> 4 -> 2 -> 1, tanh throughout, half_sse, circle with 250 training rows, lr 0.03.
Run: `make bench` (or `.venv/bin/python bench/engine.py [--seconds S]`).
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402

from app.datasets import build_dataset  # noqa: E402
from app.engine import TrainConfig, Trainer  # noqa: E402
from app.main import create_app  # noqa: E402
from app.settings import get_settings  # noqa: E402

REFERENCE_BATCH_10 = {"TF Playground's JavaScript engine": 1.9e6, "straightforward NumPy loop": 0.35e6,
                      "PyTorch eager": 0.07e6}


def throughput(batch_size: int, seconds: float) -> tuple[float, float]:
    """Samples per second and microseconds per step, best of three timed runs."""
    data = build_dataset("circle", samples=500, train_fraction=0.5, seed=1)
    trainer = Trainer(TrainConfig(batch_size=batch_size), data.train_x, data.train_y)
    steps = 64
    while True:  # calibrate to about seconds / 3 per run
        start = time.perf_counter()
        trainer.run(steps)
        if time.perf_counter() - start > seconds / 30:
            break
        steps *= 2
    steps = int(steps * (seconds / 3) / (time.perf_counter() - start + 1e-9))
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        trainer.run(steps)
        best = min(best, time.perf_counter() - start)
    return steps * batch_size / best, best / steps * 1e6


def api_step_latency(requests: int) -> tuple[float, float]:
    """Median and 99th percentile milliseconds of POST /api/sessions/{id}/step with one step."""
    get_settings().rate_limit_scale = 0  # one client stepping flat out: the limits would refuse it
    times = []
    with tempfile.TemporaryDirectory() as tmp, TestClient(create_app(f"sqlite:///{tmp}/bench.db")) as client:
        sid = client.post("/api/sessions", json={}).json()["id"]
        for _ in range(requests):
            start = time.perf_counter()
            assert client.post(f"/api/sessions/{sid}/step", json={"steps": 1}).status_code == 200
            times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times) * 1e3, times[int(0.99 * len(times))] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="time budget per batch size")
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    print("workload: circle, 250 training rows, [2, 4, 2, 1] tanh/tanh, half_sse, sgd lr 0.03, float64")
    for batch in (1, 10, 250):
        rate, per_step = throughput(batch, args.seconds)
        print(f"batch {batch:>3}: {rate / 1e6:7.3f} M samples/s  ({per_step:7.1f} µs per step)")
        if batch == 10:
            for name, ref in REFERENCE_BATCH_10.items():
                print(f"           {rate / ref:6.2f}x {name} (~{ref / 1e6:.2f} M samples/s)")
    p50, p99 = api_step_latency(args.requests)
    print(f"API step in process (TestClient, 1 step, trace included): p50 {p50:.2f} ms, p99 {p99:.2f} ms")


if __name__ == "__main__":
    main()
