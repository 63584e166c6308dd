"""Sweep speed-up: 8 trials of a few seconds each, ``--jobs 2`` against ``--jobs 1`` (target >= 1.8x).

    python bench/bench_sweep.py [--trials 8] [--epochs 100] [--jobs 2]

Both runs go through the same path as ``mlrun sweep`` (the driver writes every run directory). Each
worker is held to one BLAS thread, so the ratio measures process parallelism, not BLAS threading.
A tiny warm-up sweep first starts the loky workers and imports (loky keeps its workers between
sweeps of one process); its time is printed too: it is what a one-off ``mlrun sweep`` pays once.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from mlrun.sweeps.driver import sweep

SPEC = {
    "name": "bench-sweep",
    "data": {"dataset": "digits"},
    "model": {"hidden_layers": 3, "neurons": 128},
    "optimizer": {"name": "nadam", "learning_rate": 0.001},
    "training": {"epochs": 12, "batch_size": 32},
}


def warm_up(jobs: int, runs_dir: str) -> None:
    spec = {**SPEC, "training": {**SPEC["training"], "epochs": 1}}
    started = time.perf_counter()
    sweep(spec, seeds=jobs, jobs=jobs, runs_dir=runs_dir, command=["bench_sweep"])
    print(f"warm-up --jobs {jobs}: {time.perf_counter() - started:5.2f} s (process start, imports)")


def timed(jobs: int, trials: int, epochs: int, runs_dir: str) -> float:
    spec = {**SPEC, "training": {**SPEC["training"], "epochs": epochs}}
    started = time.perf_counter()
    result = sweep(spec, seeds=trials, jobs=jobs, runs_dir=runs_dir, command=["bench_sweep"])
    seconds = time.perf_counter() - started
    if result.counts.get("completed") != trials:
        sys.exit(f"bench: expected {trials} completed trials, got {result.counts}")
    per_trial = sum(t.seconds for t in result.trials) / trials
    print(f"--jobs {jobs}: {seconds:6.2f} s wall for {trials} trials ({per_trial:.2f} s each in its worker)")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} (other work skews the ratio)")
    with tempfile.TemporaryDirectory() as tmp:
        warm_up(1, tmp)
        warm_up(args.jobs, tmp)
        serial = timed(1, args.trials, args.epochs, tmp)
        parallel = timed(args.jobs, args.trials, args.epochs, tmp)
    ratio = serial / parallel
    print(f"speed-up --jobs {args.jobs} vs --jobs 1: {ratio:.2f}x (target >= 1.8x on 2 cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
