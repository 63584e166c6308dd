"""Drawing a run's figures (Agg, in process): the quickstart's four and a 1,000-class confusion matrix.

    python bench/bench_figures.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    import sklearn.metrics  # noqa: F401 - a run has it loaded before its figures; not theirs to pay

    from mlrun.runs import class_plots, plots

    out = Path(tempfile.mkdtemp())
    start = time.perf_counter()
    plots._figure()  # matplotlib's import and fonts, timed apart from the drawing
    imported = time.perf_counter() - start
    rng = np.random.default_rng(0)
    history = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e, "learning_rate": 1e-3, "momentum": None}
               for e in range(1, 31)]
    labels = [str(i) for i in range(10)]
    y = rng.integers(0, 10, 360)
    proba = rng.dirichlet(np.ones(10), 360)
    cm = np.zeros((10, 10), int)
    np.add.at(cm, (y, proba.argmax(1)), 1)
    figures = {
        "learning curve": lambda: plots.learning_curve(history, out / "lc.png", "quickstart"),
        "confusion matrix (10)": lambda: class_plots.confusion_matrix(cm, labels, out / "cm.png", "quickstart"),
        "roc (10 classes)": lambda: class_plots.roc_curve(np.array(labels)[y], proba, labels, None,
                                                          out / "roc.png", "quickstart"),
        "pr (10 classes)": lambda: class_plots.pr_curve(np.array(labels)[y], proba, labels, None,
                                                        out / "pr.png", "quickstart"),
        "confusion matrix (1,000)": lambda: class_plots.confusion_matrix(
            rng.integers(0, 5, (1000, 1000)), [f"class-{i}" for i in range(1000)], out / "cm1000.png", "big"),
    }
    print(f"matplotlib import + first figure: {imported:5.2f} s")
    total = 0.0
    for name, draw in figures.items():
        start = time.perf_counter()
        draw()
        seconds = time.perf_counter() - start
        total += seconds if "1,000" not in name else 0.0
        print(f"{name:26s} {seconds:5.2f} s")
    print(f"the quickstart's four figures: {total:5.2f} s")


if __name__ == "__main__":
    main()
