"""Drawing a run's figures (Agg, in process): every figure a run writes (run figures and diagnostics
figures), drawn from a real training's outcome as experiment/record.py draws them, for the
quickstart (digits, 10 classes) and the moons full-batch example (binary, 2,000 epochs); then a
30-class and a 1,000-class confusion matrix.

    python bench/bench_figures.py [--rounds 3]

Round 1 follows matplotlib's import and first figure (its font set-up); the later rounds are warm,
and the best of those is printed beside it, also as a ratio to the peer (one plain matplotlib figure
drawn in the same rounds). Times are CPU seconds of this process: drawing is single threaded, so on
an idle machine they equal wall time, and on a shared one they are steadier.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _outcome(spec: Path, **training):
    from mlrun.experiment.outcome import run_training
    from mlrun.spec.loading import load_config
    from mlrun.training.setup import load_data

    raw = load_config(spec).to_dict()
    raw["training"].update(training)
    cfg = load_config(raw)
    return run_training(cfg, load_data(cfg))


def _run_figures(outcome, out: Path, title: str) -> dict:
    """name -> drawing function: the figures record_outcome writes for this outcome."""
    from mlrun.diagnostics import figures
    from mlrun.runs import class_plots, plots

    y_true, scores = outcome.test_outputs
    cm = outcome.metrics["test"]["confusion_matrix"]
    diag = outcome.diagnostics
    labels, positive = outcome.labels, outcome.positive_class
    return {
        "learning curve": lambda: plots.learning_curve(outcome.history, out / "lc.png", title),
        "confusion matrix": lambda: class_plots.confusion_matrix(cm, labels, out / "cm.png", title),
        "roc": lambda: class_plots.roc_curve(y_true, scores, labels, positive, out / "roc.png", title),
        "pr": lambda: class_plots.pr_curve(y_true, scores, labels, positive, out / "pr.png", title),
        "diagnostics curves": lambda: figures.curves(diag["rows"], diag["layers"], out / "d.png", title),
        "activations": lambda: figures.histograms(diag["samples"], diag["layers"], "activation",
                                                  "activation value", out / "a.png", title),
        "gradients": lambda: figures.histograms(diag["samples"], diag["layers"], "gradient",
                                                "d loss / d activation", out / "g.png", title),
    }


def _big_matrices(out: Path) -> dict:
    from mlrun.runs import class_plots

    rng = np.random.default_rng(0)
    cm30 = rng.integers(0, 5, (30, 30)) + np.diag(rng.integers(20, 60, 30))
    cm1000 = rng.integers(0, 5, (1000, 1000))
    return {
        "confusion matrix (30)": lambda: class_plots.confusion_matrix(
            cm30, [f"class-{i}" for i in range(30)], out / "cm30.png", "thirty"),
        "confusion matrix (1,000)": lambda: class_plots.confusion_matrix(
            cm1000, [f"class-{i}" for i in range(1000)], out / "cm1000.png", "big"),
    }


def _timed(draw) -> float:
    start = time.process_time()
    draw()
    return time.process_time() - start


def _peer(out: Path):
    """The peer: one plain matplotlib figure (one axes, a 30-point line, savefig to PNG, default
    settings), drawn between the figures of each round, so the ratios hold on a loaded machine."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def draw():
        fig = Figure(figsize=(8.0, 5.5), dpi=110)
        FigureCanvasAgg(fig)
        fig.subplots().plot(np.arange(30), np.sqrt(np.arange(30)), marker="o")
        fig.savefig(io.BytesIO(), format="png")

    return draw


def _report(name: str, sets: dict, rounds: int, peer) -> None:
    times = {fig: [] for fig in sets}
    peers = []
    for _ in range(rounds):
        peers.append(_timed(peer))
        for fig, draw in sets.items():
            times[fig].append(_timed(draw))
    unit = min(peers)
    print(f"{name} (peer: one plain figure, best {unit:.3f} s)")
    for fig, t in times.items():
        warm = min(t[1:]) if len(t) > 1 else t[0]
        print(f"  {fig:26s} round 1 {t[0]:6.3f} s   warm best {warm:6.3f} s = {warm / unit:5.2f} peer figures")
    first = sum(t[0] for t in times.values())
    warm = sum(min(t[1:]) if len(t) > 1 else t[0] for t in times.values())
    print(f"  {'all of them':26s} round 1 {first:6.3f} s   warm best {warm:6.3f} s = {warm / unit:5.2f} peer figures")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import sklearn.metrics  # noqa: F401 - a run has it loaded before its figures; not theirs to pay

    quickstart = _outcome(ROOT / "configs/quickstart.yaml")
    moons = _outcome(ROOT / "configs/examples/moons_full_batch.yaml", epochs=2000, tolerance=None)
    from mlrun.runs import plots

    out = Path(tempfile.mkdtemp())
    seconds = _timed(plots._figure)  # matplotlib's import and fonts, timed apart from the drawing
    print(f"matplotlib import + first figure: {seconds:6.3f} s")
    peer = _peer(out)
    _report("quickstart (digits, 10 classes, 30 epochs)", _run_figures(quickstart, out, "quickstart"), args.rounds,
            peer)
    _report("moons full batch (binary, 2,000 epochs)", _run_figures(moons, out, "moons-gd"), args.rounds, peer)
    _report("many classes", _big_matrices(out), max(2, args.rounds - 2), peer)


if __name__ == "__main__":
    main()
