"""The figures a finished training draws, as a list of jobs: a figure's name, its warning prefix and
the arguments of its drawing function. A job can be drawn here or in a figure process (figure_pool):
the same function with the same arguments, so the same PNG bytes either way."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a figure process imports this table; it needs neither the trainer nor the run directory
    from mlrun.experiment.outcome import Outcome
    from mlrun.runs import directory as runs

# name -> (module, function): the only functions a figure process will call
DRAWERS = {
    "learning_curve": ("mlrun.runs.plots", "learning_curve"),
    "residuals": ("mlrun.runs.plots", "residuals"),
    "confusion_matrix": ("mlrun.runs.class_plots", "confusion_matrix"),
    "roc": ("mlrun.runs.class_plots", "roc_curve"),
    "pr": ("mlrun.runs.class_plots", "pr_curve"),
    "diagnostics": ("mlrun.diagnostics.figures", "curves"),
    "activations": ("mlrun.diagnostics.figures", "histograms"),
    "gradients": ("mlrun.diagnostics.figures", "histograms"),
}

RUN_FIGURES, DIAGNOSTICS_FIGURES = "plots", "diagnostics plots"  # a failing figure's warning prefix


@dataclass(frozen=True)
class FigureJob:
    figure: str  # a DRAWERS key
    group: str  # RUN_FIGURES | DIAGNOSTICS_FIGURES
    args: tuple  # the drawing function's positional arguments, the PNG's path second to last

    def draw(self) -> str | None:
        """Draw the figure; a failure is the run's warning text, never an exception."""
        try:
            module, function = DRAWERS[self.figure]
            getattr(importlib.import_module(module), function)(*self.args)
        except Exception as exc:  # noqa: BLE001 - a figure is never worth a lost run
            return f"{self.group}: {type(exc).__name__}: {exc}"
        return None


def run_figure_jobs(run_dir: runs.RunDir, outcome: Outcome) -> list[FigureJob]:
    """The learning curve and the test set's figures (confusion matrix, ROC, PR; residuals for
    regression)."""
    title, pdir = run_dir.name, run_dir.plots_dir
    jobs = []
    if outcome.history:
        jobs.append(FigureJob("learning_curve", RUN_FIGURES, (outcome.history, pdir / "learning_curve.png", title)))
    if outcome.test_outputs is None:
        return jobs
    y_true, out = outcome.test_outputs
    if outcome.task != "classification":
        return [*jobs, FigureJob("residuals", RUN_FIGURES, (y_true, out, pdir / "residuals.png", title))]
    cm = (outcome.metrics.get("test") or {}).get("confusion_matrix")
    if cm is not None:
        jobs.append(FigureJob("confusion_matrix", RUN_FIGURES, (cm, outcome.labels, pdir / "confusion_matrix.png",
                                                                title)))
    scores = (y_true, out, outcome.labels, outcome.positive_class)
    jobs.append(FigureJob("roc", RUN_FIGURES, (*scores, pdir / "roc.png", title)))
    jobs.append(FigureJob("pr", RUN_FIGURES, (*scores, pdir / "pr.png", title)))
    return jobs


def diagnostics_figure_jobs(run_dir: runs.RunDir, outcome: Outcome) -> list[FigureJob]:
    """The diagnostics figures: per-layer curves, activation and gradient histograms."""
    result = outcome.diagnostics
    if not result or not result["layers"]:
        return []
    title, pdir, layers = run_dir.name, run_dir.plots_dir, result["layers"]
    return [
        FigureJob("diagnostics", DIAGNOSTICS_FIGURES, (result["rows"], layers, pdir / "diagnostics.png", title)),
        FigureJob("activations", DIAGNOSTICS_FIGURES,
                  (result["samples"], layers, "activation", "activation value", pdir / "activations.png",
                   f"{title}: activations per hidden layer")),
        FigureJob("gradients", DIAGNOSTICS_FIGURES,
                  (result["samples"], layers, "gradient", "d loss / d activation", pdir / "gradients.png",
                   f"{title}: back-propagated gradients per hidden layer")),
    ]
