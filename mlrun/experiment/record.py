"""Writing a finished training into its run directory: history, metrics, predictions, model, figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mlrun.diagnostics import table
from mlrun.diagnostics.advisor import finding_text
from mlrun.experiment.figure_jobs import diagnostics_figure_jobs, run_figure_jobs
from mlrun.experiment.outcome import Outcome
from mlrun.lr_finder.range_test import keep_curve
from mlrun.metrics.names import main_metric
from mlrun.runs import directory as runs
from mlrun.runs.history import extra_columns, write_history
from mlrun.training.signals import deferred_signals


@dataclass
class Run:
    """What a finished (or stopped) run left behind."""

    path: Path
    status: str
    stop_reason: str | None
    metrics: dict
    history: list[dict]
    epochs: int = 0
    advice: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    signal: int | None = None
    resolved: dict = field(default_factory=dict)
    task: str = ""
    baselines: dict = field(default_factory=dict)  # label -> split -> metrics, as metrics.json's "baselines"
    restored_epoch: int | None = None  # the weights (and so the metrics) are this epoch's, not the last's
    findings: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name


def _write_predictions(run_dir: runs.RunDir, outcome: Outcome) -> None:
    if outcome.test_outputs is None:
        return
    y_true, out = outcome.test_outputs
    # "row" joins a prediction back to the user's data: the row's 0-based index among the source's data rows
    source_rows = outcome.test_rows if outcome.test_rows is not None else range(len(y_true))
    if outcome.task == "classification":
        labels = outcome.labels
        header = ["row", "y_true", "y_pred"] + [f"score_{c}" for c in labels]
        pred = np.argmax(out, axis=1)
        rows = [[int(r), labels[t], labels[p], *map(float, s)] for r, t, p, s in zip(source_rows, y_true, pred, out)]
    else:
        k = out.shape[1]
        names = [""] if k == 1 else [f"_{i}" for i in range(k)]
        header = ["row"] + [f"y_true{n}" for n in names] + [f"y_pred{n}" for n in names]
        rows = [[int(r), *map(float, t), *map(float, p)] for r, t, p in zip(source_rows, y_true, out)]
    run_dir.write_csv("predictions.csv", header, rows)


def _write_diagnostics(run_dir: runs.RunDir, outcome: Outcome) -> None:
    result = outcome.diagnostics
    if result and result["layers"]:
        table.write_rows(run_dir.file(table.FILE), result["rows"])


def _draw_figures(run_dir: runs.RunDir, outcome: Outcome) -> list[str]:
    """Every figure, in the figure processes when this machine has them; a failing figure is a warning."""
    from mlrun.experiment.figure_pool import POOL

    return POOL.draw(run_figure_jobs(run_dir, outcome) + diagnostics_figure_jobs(run_dir, outcome))


def _diagnostics_summary(outcome: Outcome) -> dict | None:
    result = outcome.diagnostics
    if result is None:
        return None
    return {"file": table.FILE if result["layers"] else None, "layers": result["layers"],
            "every": result["every"], "probe_rows": result["probe_rows"], "findings": len(outcome.findings)}


def record_outcome(run_dir: runs.RunDir, outcome: Outcome, total_seconds: float,
                   plots: bool = True, received=None, notes=()) -> Run:
    """Write everything a finished training leaves in its run directory, status last (sweeps: plots=False).

    ``received`` (training.signals.Received) is closed once the status is written: a signal after that
    changes nothing. ``notes``: warnings from before the training (a resume's), first in run.json's list."""
    metric_names = outcome.epoch_metrics or [main_metric(outcome.task)]
    write_history(run_dir.file("history.csv"), outcome.history, metric_names, extra_columns(outcome.history))
    # baselines beside the splits, in the one file compare already reads (old runs simply lack the key)
    run_dir.write_json("metrics.json", {**outcome.metrics, "baselines": outcome.baselines} if outcome.baselines
                       else outcome.metrics)
    _write_predictions(run_dir, outcome)
    model_bytes = run_dir.write_npz("model.npz", **outcome.model_arrays).stat().st_size

    warnings = [*notes, *outcome.warnings, *keep_curve(run_dir, outcome.resolved)]
    _write_diagnostics(run_dir, outcome)
    warnings += _draw_figures(run_dir, outcome) if plots else []
    advice = outcome.findings + [{"rule": "metrics", "message": tip} for tip in outcome.advice]
    with deferred_signals():
        run_dir.finish(outcome.status, outcome.stop_reason, outcome.epochs,
                       timings={"train_seconds": outcome.train_seconds, "total_seconds": total_seconds},
                       resolved=outcome.resolved, data=outcome.data, advice=advice, warnings=warnings,
                       signal=outcome.signal, best_epoch=outcome.best_epoch,
                       diagnostics=_diagnostics_summary(outcome), model_bytes=model_bytes,
                       **({"baselines": outcome.baseline_info} if outcome.baseline_info else {}))
        if received is not None:
            received.closing = True
    tips = [finding_text(f) for f in outcome.findings] + outcome.advice
    return Run(run_dir.path, outcome.status, outcome.stop_reason, outcome.metrics, outcome.history,
               outcome.epochs, tips, warnings, outcome.signal, outcome.resolved, outcome.task,
               outcome.baselines, outcome.restored_epoch, outcome.findings)
