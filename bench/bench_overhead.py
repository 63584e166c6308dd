"""What a run costs around its training loop: the wall time of an in-process `mlrun.train` call over
run.json's train_seconds (the loop alone), for the quickstart and for the full-batch moons example at
1,000 to 5,000 epochs (target: <= 1.3 at 2,000 epochs, and the time per epoch flat or falling:
history is appended, checkpoints are written on a time budget).

Each case is measured three times, alternately in the same process: as a user runs it (every figure
drawn, by the figure processes), with the figures drawn in this process (MLRUN_FIGURE_WORKERS=0), and
with the figures switched off (as a sweep trial records, `plots=False`), so the files and the loop's
callbacks (issue item 3) are told apart from drawing the seven figures (item 2).

    python bench/bench_overhead.py [--epochs 1000 2000 5000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import mlrun
import mlrun.experiment.run as experiment_run
from mlrun.experiment import figure_pool
from mlrun.spec.loading import load_config

ROOT = Path(__file__).resolve().parents[1]
os.environ.pop(figure_pool.ENV, None)
_WORKERS = figure_pool.worker_count()  # the shipped default on this machine
_POOLS = {"processes": figure_pool.POOL, "in place": figure_pool.FigurePool()}
_record_with_figures = experiment_run.record_outcome


def _record_without_figures(*args, **kwargs):  # stands in for record_outcome: a sweep trial's recording
    return _record_with_figures(*args, **{**kwargs, "plots": False})


ARMS = {"processes": "figures by the figure processes", "in place": "figures in this process",
        "none": "no figures"}


def _run(spec, runs_dir, arm: str, **overrides) -> tuple[float, float, int]:
    cfg = load_config(spec).to_dict()
    for key, value in overrides.items():
        cfg["training"][key] = value
    experiment_run.record_outcome = _record_without_figures if arm == "none" else _record_with_figures
    # each arm keeps its own pool: switching one pool to 0 processes and back would start them cold
    os.environ[figure_pool.ENV] = "0" if arm == "in place" else str(_WORKERS)
    figure_pool.POOL = _POOLS["in place" if arm == "in place" else "processes"]
    try:
        start = time.perf_counter()
        run = mlrun.train(cfg, runs_dir=runs_dir)
        wall = time.perf_counter() - start
    finally:
        experiment_run.record_outcome = _record_with_figures
    info = mlrun.runs.directory.RunDir(run.path).info()
    return wall, info["timings"]["train_seconds"], run.epochs


def _case(label, spec, runs_dir, repeat, **overrides) -> float:
    ratios = {arm: [] for arm in ARMS}
    walls = {arm: [] for arm in ARMS}
    for _ in range(repeat):
        for arm in ARMS:  # alternate: the machine's drift hits every arm alike
            wall, train, epochs = _run(spec, runs_dir, arm, **overrides)
            ratios[arm].append(wall / train)
            walls[arm].append(wall)
    ratio = {arm: statistics.median(r) for arm, r in ratios.items()}
    wall = {arm: statistics.median(w) for arm, w in walls.items()}
    print(f"{label}: total/train {ratio['processes']:5.2f} as shipped, {ratio['in place']:5.2f} figures in "
          f"place, {ratio['none']:5.2f} without figures; figures cost {wall['processes'] - wall['none']:5.2f} s "
          f"(in place {wall['in place'] - wall['none']:5.2f} s); per epoch "
          f"{1e3 * wall['processes'] / epochs:6.3f} ms")
    return wall["processes"] / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, nargs="+", default=[1000, 2000, 5000])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as runs:
        _run(ROOT / "configs/quickstart.yaml", runs, "processes")  # warm: imports, fonts, BLAS
        _case("quickstart (30 epochs)", ROOT / "configs/quickstart.yaml", runs, args.repeat)
        per_epoch = [_case(f"moons full batch ({n} epochs)", ROOT / "configs/examples/moons_full_batch.yaml", runs,
                           args.repeat, epochs=n, tolerance=None) for n in args.epochs]
        print(f"total per epoch, longest run / shortest run: {per_epoch[-1] / per_epoch[0]:.2f} "
              "(1.0 or below: linear in epochs)")


if __name__ == "__main__":
    main()
