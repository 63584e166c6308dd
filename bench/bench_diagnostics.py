"""Diagnostics overhead: training wall time with the per-layer probe against without it, same process.

Two networks: the quickstart (configs/quickstart.yaml, digits) and bench_train's network (64-256-256-4
ReLU, Adam, batch 256, 5 epochs on 20,000 make_classification rows). Rounds alternate with / without;
the report gives the median of the per-round ratios (the issue's budget: at most 1.05).

    python bench/bench_diagnostics.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from types import SimpleNamespace

from threadpoolctl import threadpool_limits

from mlrun.diagnostics.probe import diagnostics_callback
from mlrun.spec.loading import load_config
from mlrun.training.setup import build_setup, load_data

ROOT = Path(__file__).resolve().parents[1]
BENCH_NET = {"name": "bench", "seed": 0,
             "data": {"dataset": "make_classification",
                      "params": {"n_samples": 25000, "n_features": 64, "n_informative": 32, "n_classes": 4},
                      "test_size": 0.2, "validation_size": 0.0},
             "model": {"neurons": [256, 256], "activation": "relu"},
             "optimizer": {"name": "adam", "learning_rate": 1e-3}, "training": {"epochs": 5, "batch_size": 256}}


def fit_seconds(cfg, dataset, probe: bool) -> float:
    callbacks = []
    if probe:
        callbacks.append(diagnostics_callback(cfg, dataset))
    setup = build_setup(cfg, dataset, callbacks)
    for cb in callbacks:
        cb.on_setup(setup)
    started = time.perf_counter()
    setup.trainer.fit(dataset.X_train, dataset.y_train, dataset.X_val, dataset.y_val)
    return time.perf_counter() - started


def ratio(cfg, rounds: int) -> SimpleNamespace:
    dataset = load_data(cfg)
    fit_seconds(cfg, dataset, True)  # warm-up: imports, BLAS, caches
    ratios, with_, without = [], [], []
    for i in range(rounds):
        order = (True, False) if i % 2 == 0 else (False, True)
        times = {probe: fit_seconds(cfg, dataset, probe) for probe in order}
        with_.append(times[True])
        without.append(times[False])
        ratios.append(times[True] / times[False])
    return SimpleNamespace(ratio=statistics.median(ratios), with_=statistics.median(with_),
                           without=statistics.median(without))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    quickstart = load_config(ROOT / "configs" / "quickstart.yaml", overrides=["training.early_stopping=null"])
    with threadpool_limits(args.threads):
        for name, cfg in (("quickstart", quickstart), ("bench network", load_config(BENCH_NET))):
            r = ratio(cfg, args.rounds)
            print(f"{name:14s} without {r.without:7.3f} s   with {r.with_:7.3f} s   "
                  f"ratio {r.ratio:.3f} (median of {args.rounds} rounds; budget 1.05)")


if __name__ == "__main__":
    main()
