"""Metrics backed by scikit-learn, and distance helpers (scipy).

Every metric function returns a ``Metrics`` dict of plain Python values (float, int, list, None)
that ``json.dumps(..., allow_nan=False)`` accepts. A metric that is undefined on the given rows
(ROC AUC with one class present, an empty split, non-finite scores) is None, and the reason is
appended to ``metrics.warnings`` (a list of one-line messages); so are scikit-learn's notes such as
"Precision is ill-defined" (the value is then scikit-learn's, e.g. 0.0).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from mlrun.metrics.names import CLASSIFICATION_METRICS, OPT_IN_METRICS, REGRESSION_METRICS

MINKOWSKI_P = 3


class Metrics(dict):
    """A metric-name -> value dict that also carries ``warnings`` (list[str])."""

    def __init__(self, *args, warnings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.warnings = list(warnings)


def _selected(names, task: str) -> tuple[str, ...]:
    valid = CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS
    if names is None or names == "auto":
        return tuple(name for name in valid if name not in OPT_IN_METRICS)
    names = (names,) if isinstance(names, str) else tuple(names)
    for name in names:
        if name not in valid:
            raise ValueError(f"unknown {task} metric '{name}'; choose from {', '.join(valid)}")
    return names


def _plain(value):
    """numpy scalars/arrays -> Python floats/ints/lists; non-finite floats -> None."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    return value if math.isfinite(value) else None


def _measure(name: str, compute, notes: list[str]):
    """compute() with scikit-learn's warnings and errors turned into notes; undefined -> None."""
    from sklearn.exceptions import UndefinedMetricWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = _plain(compute())
        except ValueError as exc:
            notes.append(f"{name} is undefined: {str(exc).splitlines()[0]}")
            return None
    said = []
    for w in caught:
        if issubclass(w.category, (UndefinedMetricWarning, RuntimeWarning, UserWarning)):
            said.append(str(w.message).splitlines()[0])
        else:  # not about the data (e.g. a deprecation): pass it on untouched
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if value is None:
        notes.append(f"{name} is undefined: {said[0] if said else 'the result is not finite'}")
    else:
        notes.extend(f"{name}: {s}" for s in said)
    return value


def _validated_once():
    """scikit-learn's documented switches for inputs checked already: the class codes and probabilities
    here are finite (checked above) and every parameter is mlrun's own, so scikit-learn re-checking them
    on each of the dozens of calls a split's metrics make (one per class for ROC and PR AUC) is skipped;
    the values are the same."""
    import sklearn

    return sklearn.config_context(assume_finite=True, skip_parameter_validation=True)


def _undefined(names, why: str) -> Metrics:
    return Metrics({name: None for name in names}, warnings=[why])


# ---------------------------------------------------------------------------------- classification
def _binary_scores(y_true, proba, pos: int) -> dict:
    from sklearn import metrics as skm

    is_pos = (y_true == pos).astype(np.int64)

    def pr_auc():
        if not is_pos.any():
            raise ValueError("no positive rows in y_true")
        return skm.average_precision_score(is_pos, proba[:, pos])

    return {
        "roc_auc": lambda: skm.roc_auc_score(is_pos, proba[:, pos]),
        "pr_auc": pr_auc,
    }


def _multiclass_scores(y_true, proba, k: int) -> dict:
    from sklearn import metrics as skm
    from sklearn.preprocessing import label_binarize

    def pr_auc():
        onehot = label_binarize(y_true, classes=np.arange(k))
        absent = np.flatnonzero(onehot.sum(axis=0) == 0)
        if absent.size:
            raise ValueError(f"class codes {', '.join(map(str, absent))} absent from y_true")
        return skm.average_precision_score(onehot, proba, average="macro")

    return {
        "roc_auc": lambda: skm.roc_auc_score(y_true, proba, multi_class="ovr", average="macro",
                                             labels=np.arange(k)),
        "pr_auc": pr_auc,
    }


# the start of each of precision_recall_fscore_support's own warnings, by the metric it is about
_PRF_WARNINGS = {"precision": "Precision is", "recall": "Recall is", "f1": "F-score is", "f1_macro": "F-score is"}


def _prf_table(y_true, y_pred, pr: dict, names) -> dict:
    """precision, recall and f1 (and f1_macro when it is the same macro average) from one call of
    precision_recall_fscore_support: what precision_score, recall_score and f1_score each return from
    their own call of it, with each one's warnings (a warning about the inputs goes to all)."""
    from sklearn import metrics as skm

    shared = ("precision", "recall", "f1", "f1_macro") if pr["average"] == "macro" else ("precision", "recall", "f1")
    wanted = [name for name in shared if name in names]
    done = {}

    def compute(name):
        if not done:
            warn_for = {{"precision": "precision", "recall": "recall"}.get(n, "f-score") for n in wanted}
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    p, r, f, _ = skm.precision_recall_fscore_support(y_true, y_pred, warn_for=warn_for, **pr)
                    done["values"] = {"precision": p, "recall": r, "f1": f, "f1_macro": f}
                except ValueError as exc:
                    done["error"] = exc
            done["caught"] = caught
        for w in done["caught"]:  # replayed into the caller's _measure, which notes them under `name`
            owner = next((n for n, start in _PRF_WARNINGS.items() if str(w.message).startswith(start)), None)
            if owner is None or _PRF_WARNINGS[owner] == _PRF_WARNINGS[name]:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if "error" in done:
            raise done["error"]
        return done["values"][name]

    return {name: (lambda name=name: compute(name)) for name in wanted}


def _classification_table(y_true, proba, pos: int | None, k: int, y_pred=None, names=()) -> dict:
    """name -> zero-argument function computing it (so only requested metrics run)."""
    from sklearn import metrics as skm

    labels = np.arange(k)
    y_pred = proba.argmax(axis=1) if y_pred is None else y_pred
    pr = {"pos_label": pos, "average": "binary"} if k == 2 else {"labels": labels, "average": "macro"}
    table = {
        "accuracy": lambda: skm.accuracy_score(y_true, y_pred),
        "hamming_loss": lambda: skm.hamming_loss(y_true, y_pred),  # the share of mismatched labels
        "f1_macro": lambda: skm.f1_score(y_true, y_pred, labels=labels, average="macro"),
        **_prf_table(y_true, y_pred, pr, names),
        "log_loss": lambda: skm.log_loss(y_true, proba, labels=labels),
        "confusion_matrix": lambda: skm.confusion_matrix(y_true, y_pred, labels=labels),
    }
    scores = _binary_scores(y_true, proba, pos) if k == 2 else _multiclass_scores(y_true, proba, k)
    return {**table, **scores}


def classification_metrics(y_true, proba, positive_class=None, n_classes=None, names=None,
                           y_pred=None) -> Metrics:
    """Metrics of class codes y_true (n,) against probabilities proba (n, k); y_pred = argmax, unless given
    (a scikit-learn classifier's own ``predict``, whose ties need not break as argmax does).

    Binary precision/recall/f1/roc_auc/pr_auc are of ``positive_class`` (code; default 1);
    multiclass: macro averages, one-vs-rest for roc_auc and pr_auc."""
    names = _selected(names, "classification")
    y_true = np.asarray(y_true, dtype=np.int64).ravel()
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim == 1:  # P(class 1) of a binary problem
        proba = np.column_stack([1.0 - proba, proba])
    k = int(n_classes or proba.shape[1])
    if len(y_true) == 0:
        return _undefined(names, "the split is empty: its metrics are undefined")
    if not np.all(np.isfinite(proba)):
        return _undefined(names, "the scores are not finite (NaN or inf): metrics are undefined")
    proba = proba / proba.sum(axis=1, keepdims=True)  # float32 softmax rows may miss 1 by ~1e-7
    pos = (1 if positive_class is None else int(positive_class)) if k == 2 else None
    if y_pred is not None:
        y_pred = np.asarray(y_pred, dtype=np.int64).ravel()
    table = _classification_table(y_true, proba, pos, k, y_pred, names)
    notes: list[str] = []
    with _validated_once():
        return Metrics({name: _measure(name, table[name], notes) for name in names}, warnings=notes)


# -------------------------------------------------------------------------------------- regression
def _minkowski_error(y_true, y_pred, p: int = MINKOWSKI_P) -> float:
    """(mean |e|^p)^(1/p) per target, averaged over targets."""
    return float(np.mean(np.mean(np.abs(y_true - y_pred) ** p, axis=0) ** (1.0 / p)))


def regression_metrics(y_true, y_pred, names=None) -> Metrics:
    """Metrics of predictions in original units; several targets: uniform average over targets."""
    from sklearn import metrics as skm

    names = _selected(names, "regression")
    y_true = np.asarray(y_true, dtype=np.float64)
    y_true = y_true[:, None] if y_true.ndim == 1 else y_true
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(y_true.shape)
    if len(y_true) == 0:
        return _undefined(names, "the split is empty: its metrics are undefined")
    if not np.all(np.isfinite(y_pred)):
        return _undefined(names, "the predictions are not finite (NaN or inf): metrics are undefined")
    table = {
        "mse": lambda: skm.mean_squared_error(y_true, y_pred),
        "rmse": lambda: np.mean(np.sqrt(skm.mean_squared_error(y_true, y_pred, multioutput="raw_values"))),
        "mae": lambda: skm.mean_absolute_error(y_true, y_pred),
        "r2": lambda: skm.r2_score(y_true, y_pred),
        "minkowski_error": lambda: _minkowski_error(y_true, y_pred),
    }
    notes: list[str] = []
    return Metrics({name: _measure(name, table[name], notes) for name in names}, warnings=notes)


def compute_metrics(task: str, y_true, output, positive_class=None, names="auto", y_pred=None) -> Metrics:
    """classification: output = probabilities (n, k) (``y_pred``: class codes, if not their argmax);
    regression: predictions in original units."""
    if task == "classification":
        return classification_metrics(y_true, output, positive_class=positive_class, names=names, y_pred=y_pred)
    if task == "regression":
        return regression_metrics(y_true, output, names=names)
    raise ValueError(f"task must be classification or regression; got {task!r}")


# ------------------------------------------------------------------------------------- distances
def hamming(u, v) -> float:
    """Share of positions where u and v differ (scipy.spatial.distance.hamming)."""
    from scipy.spatial import distance

    return float(distance.hamming(np.ravel(u), np.ravel(v)))


def minkowski(u, v, p: float = MINKOWSKI_P) -> float:
    """(sum |u - v|^p)^(1/p): p = 1 Manhattan, p = 2 Euclidean (scipy.spatial.distance.minkowski)."""
    from scipy.spatial import distance

    return float(distance.minkowski(np.ravel(u), np.ravel(v), p))


def cosine(u, v) -> float:
    """1 - u·v / (‖u‖ ‖v‖) (scipy.spatial.distance.cosine)."""
    from scipy.spatial import distance

    return float(distance.cosine(np.ravel(u), np.ravel(v)))
