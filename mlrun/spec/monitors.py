"""What early stopping and the plateau schedule may watch in a spec: only what the trainer logs each
epoch for the spec's task and split (``metrics.names.monitors``); anything else is refused in one line.
"""

from __future__ import annotations

from typing import Any

from mlrun.data.names import GENERATORS, LOADERS
from mlrun.metrics.names import monitors
from mlrun.spec.errors import PathError


def known_task(spec: Any) -> str | None:
    """The spec's task, or its dataset's when it says auto; None for a CSV until its data is read."""
    if spec.task != "auto":
        return spec.task
    dataset = spec.data.dataset
    if dataset in LOADERS:
        return LOADERS[dataset][1]
    return "classification" if dataset == "mnist1d" else GENERATORS.get(dataset)


def monitor_problem(monitor: str, task: str | None, validation_size: float, who: str,
                    losses_only: bool = False) -> str | None:
    """Why ``monitor`` is never logged each epoch for this task and split (one line), or None."""
    def logged(t, validation=True):
        return tuple(m for m in monitors(t, validation) if "loss" in m or not losses_only)

    valid = logged(task, validation_size > 0)
    if monitor in valid:
        return None
    if validation_size == 0 and monitor in logged(task):
        return (f"{who} {monitor!r} but data.validation_size is 0, so there is no validation split; set "
                f"data.validation_size > 0 (e.g. 0.1) or monitor one of: {', '.join(valid)}")
    metric = monitor.removeprefix("val_")
    why = f"{metric} is not a {task} metric" if monitor in logged(None) else \
        f"{metric} is computed once, after training, not each epoch"
    where = f"a {task} task" if task else "this data"
    return (f"{who} {monitor!r}, which is never logged ({why}), so it could not stop the run; valid for "
            f"{where} with validation_size {validation_size:g}: {', '.join(valid)}")


def check_monitors(spec: Any, task: str | None = None) -> None:
    """Early stopping and plateau watch only what the trainer logs each epoch (metrics.names.monitors);
    ``task`` None: the spec's own (a CSV's auto task is checked again once its data is read)."""
    task = task or known_task(spec)
    stop = spec.training.early_stopping
    if stop is not None:
        problem = monitor_problem(stop.monitor, task, spec.data.validation_size, "early stopping monitors")
        if problem:
            raise PathError("training.early_stopping.monitor", problem)
    if spec.schedule["name"] == "plateau":
        monitor = spec.schedule.get("monitor", "val_loss")
        problem = monitor_problem(str(monitor), task, spec.data.validation_size, "plateau watches", True)
        if problem:
            raise PathError("schedule.monitor", problem)
