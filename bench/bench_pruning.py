"""Pruned sweep against the full grid, same run: total epochs, wall time, and whether the winner is kept.

    python bench/bench_pruning.py [--jobs 2] [--epochs 27] [--rule asha] [--eta 3]

27 configurations (learning rate x width x activation) x 3 seeds on a make_classification problem hard
enough that configurations differ. The winner is the configuration with the best mean validation
accuracy over its completed seeds; the pruned sweep keeps it if it is the same, or if its full-grid mean
is within one seed std of the full grid's winner. Target: at most 1/3 of the full grid's epochs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import defaultdict

import numpy as np

from mlrun.runs.files import read_json
from mlrun.sweeps.driver import sweep

SPEC = {
    "name": "bench-prune",
    "data": {"dataset": "make_classification",
             "params": {"n_samples": 1500, "n_features": 20, "n_informative": 8, "n_classes": 4,
                        "n_clusters_per_class": 2, "class_sep": 0.8, "flip_y": 0.02}},
    "model": {"hidden_layers": 2, "neurons": 16},
    "optimizer": {"name": "sgd", "learning_rate": 0.01},
    "training": {"epochs": 27, "batch_size": 64},
}
GRID = {"optimizer.learning_rate": [0.003, 0.03, 0.3], "model.neurons": [4, 16, 64],
        "model.activation": ["relu", "tanh", "sigmoid"]}
METRIC = "validation.accuracy"


def timed(args, runs_dir: str, prune) -> tuple[float, object]:
    spec = {**SPEC, "training": {**SPEC["training"], "epochs": args.epochs}}
    started = time.perf_counter()
    result = sweep(spec, grid=GRID, seeds=3, jobs=args.jobs, runs_dir=runs_dir, prune=prune,
                   command=["bench_pruning"])
    return time.perf_counter() - started, result


def epochs_trained(result) -> int:
    return sum(int(read_json(result.path / t.run / "run.json").get("epochs") or 0) for t in result.trials)


def by_config(result) -> dict[tuple, list[float]]:
    """Each configuration's validation accuracies over its completed (not pruned) seeds."""
    scores = defaultdict(list)
    for trial in result.trials:
        if trial.status == "completed" and METRIC in trial.metrics:
            scores[tuple(trial.overrides)].append(trial.metrics[METRIC])
    return scores


def winner(scores: dict[tuple, list[float]]) -> tuple:
    return max(scores, key=lambda c: np.mean(scores[c]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=27)
    parser.add_argument("--rule", default="asha", choices=["asha", "median"])
    parser.add_argument("--eta", type=float, default=3)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; 27 configurations x 3 seeds, "
          f"{args.epochs} epochs, --jobs {args.jobs}")
    with tempfile.TemporaryDirectory() as tmp:
        full_s, full = timed(args, tmp, None)
        prune = {"rule": args.rule, "reduction_factor": args.eta}
        pruned_s, pruned = timed(args, tmp, prune)
        full_epochs, pruned_epochs = epochs_trained(full), epochs_trained(pruned)
        rungs = sorted(int(k) for k in read_json(pruned.path / "sweep.json")["pruning"]["rungs"])
    all_scores, kept = by_config(full), by_config(pruned)
    best, pick = winner(all_scores), winner(kept)
    std = float(np.std(all_scores[best]))
    gap = float(np.mean(all_scores[best]) - np.mean(all_scores[pick]))
    print(f"full grid : {full_epochs:5d} epochs {full_s:7.1f} s  {full.counts}")
    print(f"{args.rule:<10}: {pruned_epochs:5d} epochs {pruned_s:7.1f} s  {pruned.counts}  "
          f"(rungs {rungs})")
    print(f"ratios    : epochs {pruned_epochs / full_epochs:.3f} (target <= 0.333), wall {pruned_s / full_s:.3f}")
    print(f"winner    : full {' '.join(best)} mean {np.mean(all_scores[best]):.4f} ± {std:.4f}")
    print(f"            pruned {' '.join(pick)}: full-grid mean {np.mean(all_scores[pick]):.4f} "
          f"({'same' if pick == best else f'{gap:.4f} behind'}; "
          f"{'kept' if pick == best or gap <= std else 'NOT kept'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
