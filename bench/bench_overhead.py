"""What a run costs around its training loop: total / train seconds (run.json timings, in process)
for the quickstart and for the full-batch moons example at 1,000 to 5,000 epochs (target: <= 1.3 at
2,000 epochs, and total seconds linear in epochs: files are appended, checkpoints on a time budget).

    python bench/bench_overhead.py [--epochs 1000 2000 5000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import mlrun
from mlrun.spec.loading import load_config

ROOT = Path(__file__).resolve().parents[1]


def _run(spec, runs_dir, **overrides) -> tuple[float, float, int]:
    cfg = load_config(spec).to_dict()
    for key, value in overrides.items():
        cfg["training"][key] = value
    start = time.perf_counter()
    run = mlrun.train(cfg, runs_dir=runs_dir)
    wall = time.perf_counter() - start
    info = mlrun.runs.directory.RunDir(run.path).info()
    return wall, info["timings"]["train_seconds"], run.epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, nargs="+", default=[1000, 2000, 5000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as runs:
        _run(ROOT / "configs/quickstart.yaml", runs)  # warm: imports, fonts, BLAS
        wall, train, epochs = _run(ROOT / "configs/quickstart.yaml", runs)
        print(f"quickstart ({epochs} epochs): total {wall:6.2f} s  train {train:6.2f} s  "
              f"total/train {wall / train:5.2f}")
        per_epoch = []
        for n in args.epochs:
            wall, train, epochs = _run(ROOT / "configs/examples/moons_full_batch.yaml", runs, epochs=n,
                                       tolerance=None)
            per_epoch.append(wall / epochs)
            print(f"moons full batch ({epochs:5d} epochs): total {wall:6.2f} s  train {train:6.2f} s  "
                  f"total/train {wall / train:5.2f}  total per epoch {1e3 * wall / epochs:6.3f} ms")
        print(f"total per epoch, longest run / shortest run: {per_epoch[-1] / per_epoch[0]:.2f} "
              "(1.0 or below: linear in epochs)")


if __name__ == "__main__":
    main()
