"""Which metrics exist, which way each is better, and each task's main metric: the one source.

Import-light (no scikit-learn), so the spec, the trainer and ``compare`` can all ask.
"""

from __future__ import annotations

CLASSIFICATION_METRICS = (
    "accuracy", "precision", "recall", "f1", "f1_macro", "roc_auc", "pr_auc", "log_loss",
    "confusion_matrix", "hamming_loss",
)
# computed only when named in ``metrics:`` (for single-label classes hamming_loss is 1 - accuracy)
OPT_IN_METRICS = ("hamming_loss",)
REGRESSION_METRICS = ("mse", "rmse", "mae", "r2", "minkowski_error")
METRICS = CLASSIFICATION_METRICS + REGRESSION_METRICS
MAIN_METRIC = {"classification": "accuracy", "regression": "rmse"}
# the main metric's companions in a comparison table
MAIN_COLUMNS = {
    "classification": ("accuracy", "f1_macro", "roc_auc", "log_loss"),
    "regression": ("rmse", "mae", "r2"),
}
HIGHER = frozenset({"accuracy", "precision", "recall", "f1", "f1_macro", "roc_auc", "pr_auc", "r2"})
LOWER = frozenset({"loss", "log_loss", "mse", "rmse", "mae", "minkowski_error", "duration", "epochs",
                   "model_bytes"})


def main_metric(task: str) -> str:
    """The metric a task is judged by first: accuracy (classification), rmse (regression)."""
    return MAIN_METRIC["regression" if task == "regression" else "classification"]


def higher_is_better(name: str) -> bool | None:
    """True for scores, False for losses, errors and times, None for anything else.

    ``name`` may carry a prefix ("test.accuracy", "val_loss"): the last part decides.
    """
    last = name.rsplit(".", 1)[-1]
    if last.startswith("val_"):
        last = last[len("val_"):]
    if last in HIGHER or last.startswith("f1"):
        return True
    if last in LOWER or "loss" in last or "error" in last:
        return False
    return None


# -- what the trainer logs each epoch, and so what early stopping and plateau may watch -------------
# the validation metrics a few numpy lines compute on the validation split after an epoch (roc_auc and
# pr_auc rank every row, confusion_matrix is not a number: they are computed once, at the end)
EPOCH_METRICS = {
    "classification": ("accuracy", "precision", "recall", "f1", "f1_macro", "log_loss"),
    "regression": REGRESSION_METRICS,
}
TRAIN_MONITORS = ("loss", "train_loss")  # "loss" is Keras's name for the training loss
MONITOR_ALIASES = {"loss": "train_loss"}


def monitors(task: str | None = None, validation: bool = True) -> tuple[str, ...]:
    """The names logged every epoch that a stop rule may watch: the training loss always; with a
    validation split, val_loss and the task's ``EPOCH_METRICS`` (task None or "auto": both tasks')."""
    if not validation:
        return TRAIN_MONITORS
    tasks = [task] if task in EPOCH_METRICS else list(EPOCH_METRICS)
    return (*TRAIN_MONITORS, "val_loss", *dict.fromkeys(f"val_{m}" for t in tasks for m in EPOCH_METRICS[t]))


def logged_key(monitor: str) -> str:
    """The epoch log's key for a monitor name ("loss" -> "train_loss")."""
    return MONITOR_ALIASES.get(monitor, monitor)


def epoch_metrics(task: str, watched=()) -> tuple[str, ...]:
    """The validation metrics to compute each epoch: the task's main metric, and any watched monitor's."""
    names = [main_metric(task)]
    names += [m[len("val_"):] for m in watched if m and m.startswith("val_") and m != "val_loss"]
    return tuple(m for m in dict.fromkeys(names) if m in EPOCH_METRICS["regression" if task == "regression"
                                                                        else "classification"])
