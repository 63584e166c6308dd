"""The few well-founded reading hints printed after a run, from its metrics and its data."""

from __future__ import annotations

import numpy as np

from mlrun.metrics.names import main_metric

RARE_POSITIVE = 0.20  # advice: below this share of training rows, read PR AUC (Géron, ch. 3)
GAP_ACCURACY = 0.10  # advice: train - validation accuracy above this suggests overfitting
GAP_RMSE_RATIO = 1.5  # advice: validation rmse above this multiple of train rmse likewise


def _value(metrics_by_split: dict, split: str, name: str):
    return (metrics_by_split.get(split) or {}).get(name)


def _rare_positive(metrics_by_split, dataset) -> list[str]:
    if dataset.task != "classification" or dataset.positive_class is None or len(dataset.y_train) == 0:
        return []
    share = float(np.mean(dataset.y_train == dataset.positive_class))
    if share >= RARE_POSITIVE:
        return []
    label = dataset.classes[dataset.positive_class]
    where = next((s for s in ("test", "validation") if _value(metrics_by_split, s, "pr_auc") is not None),
                 None)
    read = f" ({where}.pr_auc = {_value(metrics_by_split, where, 'pr_auc'):.3g})" if where else ""
    return [f"the positive class '{label}' is rare ({share:.1%} of training rows): "
            f"read PR AUC{read} rather than ROC AUC or accuracy"]


def _generalisation_gap(metrics_by_split, dataset) -> list[str]:
    metric = main_metric(dataset.task)
    train = _value(metrics_by_split, "train", metric)
    split = "validation" if _value(metrics_by_split, "validation", metric) is not None else "test"
    other = _value(metrics_by_split, split, metric)
    if train is None or other is None:
        return []
    # a ratio for rmse, so the units' scale does not matter; a training rmse of 0 (memorised) counts
    large = train - other > GAP_ACCURACY if metric == "accuracy" else other > GAP_RMSE_RATIO * train
    if not large:
        return []
    return [f"train {metric} {train:.4g} vs {split} {other:.4g}: a gap this large suggests overfitting; "
            f"try early_stopping, l2, dropout or a smaller network"]


def _baselines(metrics_by_split, dataset) -> list[str]:
    if dataset.task == "regression":
        r2 = _value(metrics_by_split, "test", "r2")
        if r2 is not None and r2 < 0:
            return [f"test.r2 = {r2:.3g} < 0: the model predicts worse than the mean of the targets"]
        return []
    accuracy = _value(metrics_by_split, "test", "accuracy")
    if accuracy is None or len(dataset.y_test) == 0:
        return []
    counts = np.bincount(dataset.y_test, minlength=len(dataset.classes))
    majority = counts.max() / counts.sum()
    if accuracy > majority:
        return []
    label = dataset.classes[counts.argmax()]
    return [f"test.accuracy = {accuracy:.3g} is no better than always predicting the most common "
            f"class ('{label}', {majority:.3g})"]


def advice(metrics_by_split: dict, dataset) -> list[str]:
    """A few well-founded reading hints for {"train": {...}, "validation": {...}, "test": {...}}."""
    return [
        *_rare_positive(metrics_by_split, dataset),
        *_generalisation_gap(metrics_by_split, dataset),
        *_baselines(metrics_by_split, dataset),
    ]
