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
