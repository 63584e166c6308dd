"""lr-find speed: the 500-step range test on configs/quickstart.yaml (digits, 64-64 ELU, nadam, batch 32).

Times (best of --rounds): the range test alone with the default ramp 1e-5 -> 10 (it stops once the loss
explodes), the same ramp forced to run all 500 steps (end 1e-2, where the loss does not explode), and the
whole ``mlrun.lr_find`` call (data loading, run directory, CSV and plot). The target is well under 5 s.

    python bench/bench_lr_find.py [--rounds 3] [--spec configs/quickstart.yaml]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from mlrun.lr_finder.range_test import lr_find, range_test
from mlrun.spec.loading import load_config
from mlrun.training.setup import load_data

FALLBACK = {"name": "quickstart", "data": {"dataset": "digits"},
            "model": {"hidden_layers": 2, "neurons": 64, "activation": "elu"},
            "optimizer": {"name": "nadam", "learning_rate": 0.001}, "training": {"batch_size": 32}}


def best_of(rounds: int, fn):
    times, out = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--spec", default="configs/quickstart.yaml")
    args = parser.parse_args()
    cfg = load_config(args.spec if Path(args.spec).exists() else FALLBACK)
    dataset = load_data(cfg)
    print(f"spec: {args.spec if Path(args.spec).exists() else 'inline digits spec'}; "
          f"{len(dataset.X_train)} training rows, batch {cfg.training.batch_size}")
    seconds, res = best_of(args.rounds, lambda: range_test(cfg, dataset, 1e-5, 10.0, 500))
    print(f"range test 1e-5 -> 10:   {seconds:6.3f} s  ({len(res.losses)} steps, {res.stop_reason})")
    seconds, res = best_of(args.rounds, lambda: range_test(cfg, dataset, 1e-5, 1e-2, 500))
    print(f"range test, all 500 steps: {seconds:6.3f} s  ({len(res.losses)} steps, {res.stop_reason}; "
          f"{1e3 * seconds / len(res.losses):.2f} ms/step)")
    with tempfile.TemporaryDirectory() as runs_dir:
        seconds, res = best_of(args.rounds, lambda: lr_find(cfg, runs_dir=runs_dir, command=["bench"]))
    print(f"mlrun.lr_finder.range_test (data, run directory, CSV, plot): {seconds:6.3f} s  (target: well under 5 s)")


if __name__ == "__main__":
    main()
