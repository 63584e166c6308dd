"""What a run costs around its training loop: the wall time of an in-process `mlrun.train` call over
run.json's train_seconds (the loop alone), for the quickstart and for the full-batch moons example at
1,000 to 5,000 epochs (target: <= 1.3 at 2,000 epochs, and the time per epoch flat or falling:
history is appended, checkpoints are written on a time budget).

Each case is measured twice, alternately in the same process: as a user runs it (every figure
drawn) and with the figures switched off (as a sweep trial records, `plots=False`), so the files and
the loop's callbacks (issue item 3) are told apart from drawing the seven figures (item 2).

    python bench/bench_overhead.py [--epochs 1000 2000 5000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import mlrun
import mlrun.experiment.run as experiment_run
from mlrun.spec.loading import load_config

ROOT = Path(__file__).resolve().parents[1]
_record_with_figures = experiment_run.record_outcome


def _record_without_figures(*args, **kwargs):  # stands in for record_outcome: a sweep trial's recording
    return _record_with_figures(*args, **{**kwargs, "plots": False})


def _run(spec, runs_dir, figures: bool, **overrides) -> tuple[float, float, int]:
    cfg = load_config(spec).to_dict()
    for key, value in overrides.items():
        cfg["training"][key] = value
    experiment_run.record_outcome = _record_with_figures if figures else _record_without_figures
    try:
        start = time.perf_counter()
        run = mlrun.train(cfg, runs_dir=runs_dir)
        wall = time.perf_counter() - start
    finally:
        experiment_run.record_outcome = _record_with_figures
    info = mlrun.runs.directory.RunDir(run.path).info()
    return wall, info["timings"]["train_seconds"], run.epochs


def _case(label, spec, runs_dir, repeat, **overrides) -> float:
    ratios = {True: [], False: []}
    walls = {True: [], False: []}
    for _ in range(repeat):
        for figures in (True, False):  # alternate: the machine's drift hits both arms alike
            wall, train, epochs = _run(spec, runs_dir, figures, **overrides)
            ratios[figures].append(wall / train)
            walls[figures].append(wall)
    with_figures, without = statistics.median(ratios[True]), statistics.median(ratios[False])
    figure_seconds = statistics.median(walls[True]) - statistics.median(walls[False])
    print(f"{label:30s} total/train {with_figures:5.2f} with figures, {without:5.2f} without; "
          f"figures {figure_seconds:5.2f} s; per epoch {1e3 * statistics.median(walls[True]) / epochs:6.3f} ms")
    return statistics.median(walls[True]) / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, nargs="+", default=[1000, 2000, 5000])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as runs:
        _run(ROOT / "configs/quickstart.yaml", runs, True)  # warm: imports, fonts, BLAS
        _case("quickstart (30 epochs)", ROOT / "configs/quickstart.yaml", runs, args.repeat)
        per_epoch = [_case(f"moons full batch ({n} epochs)", ROOT / "configs/examples/moons_full_batch.yaml", runs,
                           args.repeat, epochs=n, tolerance=None) for n in args.epochs]
        print(f"total per epoch, longest run / shortest run: {per_epoch[-1] / per_epoch[0]:.2f} "
              "(1.0 or below: linear in epochs)")


if __name__ == "__main__":
    main()
