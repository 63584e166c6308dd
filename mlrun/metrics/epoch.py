"""The validation metrics computed after every epoch (``names.EPOCH_METRICS``), with numpy only: a
scikit-learn call costs about a millisecond of checks per metric, more than an epoch of a small
network. Each equals its scikit-learn counterpart in ``scores`` (tests/test_metrics_epoch.py checks).
"""

from __future__ import annotations

import numpy as np

from mlrun.metrics.scores import MINKOWSKI_P

LOG_EPS = float(np.finfo(np.float64).eps)  # scikit-learn's log_loss clips to [eps, 1 - eps]


_PRF = {"precision", "recall", "f1", "f1_macro"}


def _confusion(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (scikit-learn's zero_division default, less its warning)."""
    return np.divide(num, den, out=np.zeros(num.shape), where=den > 0)


def _prf(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tp = np.diag(cm).astype(np.float64)
    precision, recall = _ratio(tp, cm.sum(axis=0)), _ratio(tp, cm.sum(axis=1))
    return precision, recall, _ratio(2 * tp, cm.sum(axis=0) + cm.sum(axis=1))


def _log_loss(y_true: np.ndarray, logits: np.ndarray) -> float:
    z = logits - logits.max(axis=1, keepdims=True)
    proba = np.exp(z)
    proba /= proba.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(np.clip(proba[np.arange(len(y_true)), y_true], LOG_EPS, 1 - LOG_EPS))))


def classification_epoch(names, y_true, logits, positive_class: int | None = None) -> dict:
    """Each of ``names`` for class codes (n,) against the network's logits (n, k): binary precision,
    recall and f1 of ``positive_class`` (default 1), multiclass their macro averages; f1_macro;
    log_loss of the softmax probabilities. Only what ``names`` asks is computed (accuracy alone, the
    default each epoch, is one comparison)."""
    y_true = np.asarray(y_true).ravel()
    if len(y_true) == 0:
        return {name: None for name in names}
    logits = np.asarray(logits)  # non-finite logits give a nan log_loss: never an improvement
    k = logits.shape[1]
    y_pred = logits.argmax(axis=1)
    prf = _prf(_confusion(y_true.astype(np.int64), y_pred, k)) if _PRF & set(names) else None

    def pick(i: int) -> float:
        return float(prf[i][1 if positive_class is None else positive_class] if k == 2 else prf[i].mean())

    table = {
        "accuracy": lambda: float(np.mean(y_pred == y_true)),
        "precision": lambda: pick(0), "recall": lambda: pick(1), "f1": lambda: pick(2),
        "f1_macro": lambda: float(prf[2].mean()),
        "log_loss": lambda: _log_loss(y_true.astype(np.int64), logits.astype(np.float64)),
    }
    return {name: table[name]() for name in names}


def regression_epoch(names, y_true, y_pred) -> dict:
    """Each of ``names`` for predictions in original units; several targets: uniform average."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_true = y_true[:, None] if y_true.ndim == 1 else y_true
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(y_true.shape)
    if len(y_true) == 0 or not np.all(np.isfinite(y_pred)):
        return {name: None for name in names}
    err = y_pred - y_true
    mse = np.mean(err * err, axis=0)

    def r2() -> float:
        total = np.sum((y_true - y_true.mean(axis=0)) ** 2, axis=0)
        residual = mse * len(y_true)
        # scikit-learn's force_finite: a constant target scores 1 when predicted exactly, else 0
        score = np.where(total > 0, 1 - _ratio(residual, total), np.where(residual == 0, 1.0, 0.0))
        return float(score.mean())

    table = {
        "mse": lambda: float(mse.mean()), "rmse": lambda: float(np.sqrt(mse).mean()),
        "mae": lambda: float(np.abs(err).mean()), "r2": r2,
        "minkowski_error": lambda: float(np.mean(np.mean(np.abs(err) ** MINKOWSKI_P, axis=0) ** (1 / MINKOWSKI_P))),
    }
    return {name: table[name]() for name in names}
