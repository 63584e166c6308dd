"""Fitting the baselines on the network's training split (already scaled as the network saw it) and
scoring them with the network's metrics code on validation and test.

A classifier without ``predict_proba`` (linear_svm, svm, sgd with its hinge loss, any ovo) has no
probabilities: its log_loss, roc_auc and pr_auc are null, with one warning, never a made-up number.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from mlrun.baselines.estimators import lookup
from mlrun.baselines.specs import BaselineSpec, build_estimator
from mlrun.metrics.names import CLASSIFICATION_METRICS
from mlrun.metrics.scores import compute_metrics
from mlrun.training.setup import seeds

SPLITS = {"validation": "val", "test": "test"}  # split -> the Dataset attributes' suffix
NEEDS_PROBABILITIES = ("log_loss", "roc_auc", "pr_auc")
_HOW_TO_GET_PROBABILITIES = {"svm": " (params: {probability: true} gives them)",
                             "sgd": " (params: {loss: log_loss} gives them)"}


@dataclass
class BaselineFit:
    """A fitted baseline: the estimator, its metrics per split, what run.json records, its warnings."""

    spec: BaselineSpec
    estimator: object
    metrics: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


def baseline_seed(seed: int) -> int:
    """The random_state of every baseline: the run seed's own ``baselines`` child, whatever the list order."""
    return int(seeds(seed)["baselines"].generate_state(1)[0])


def _fit(estimator, X, y) -> tuple[float, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        started = time.perf_counter()
        estimator.fit(X, y)
        seconds = time.perf_counter() - started
    return seconds, list(dict.fromkeys(str(w.message).splitlines()[0] for w in caught))


def _selected(names) -> list[str]:
    if names is None or names == "auto":
        return list(CLASSIFICATION_METRICS)
    return [names] if isinstance(names, str) else list(names)


def _classifier_metrics(fit: BaselineFit, dataset, X, y, names) -> dict:
    estimator, k = fit.estimator, len(dataset.classes)
    y_pred = estimator.predict(X)
    columns = np.asarray(estimator.classes_, dtype=np.int64)  # a class absent from training has no column
    proba = np.zeros((len(X), k))
    if hasattr(estimator, "predict_proba"):
        proba[:, columns] = estimator.predict_proba(X)
        return compute_metrics("classification", y, proba, dataset.positive_class, names, y_pred=y_pred)
    proba[np.arange(len(X)), y_pred] = 1.0  # only its predictions count: the metrics below read no scores
    wanted = _selected(names)
    computed = compute_metrics("classification", y, proba, dataset.positive_class,
                               [n for n in wanted if n not in NEEDS_PROBABILITIES], y_pred=y_pred)
    return {name: computed.get(name) for name in wanted}


def _regressor_metrics(fit: BaselineFit, dataset, X, y, names) -> dict:
    out = dataset.inverse_y(fit.estimator.predict(X))
    return compute_metrics("regression", dataset.inverse_y(np.asarray(y, np.float64)), out, names=names)


def _targets(dataset):
    y = dataset.y_train
    return y.ravel() if dataset.task == "regression" and y.ndim == 2 and y.shape[1] == 1 else y


def fit_baseline(spec: BaselineSpec, dataset, random_state: int, names="auto") -> BaselineFit:
    """Fit one baseline on ``dataset``'s training rows and score it on its validation and test rows."""
    fit = BaselineFit(spec, build_estimator(spec, dataset.task, random_state))
    try:
        seconds, notes = _fit(fit.estimator, dataset.X_train, _targets(dataset))
    except (TypeError, ValueError) as exc:  # scikit-learn refused this data (kernel: precomputed): the run stands
        why = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
        fit.info, fit.warnings = {"error": why}, [f"baseline {spec.label} was not fitted: {why}"]
        return fit
    score = _classifier_metrics if dataset.task == "classification" else _regressor_metrics
    for split, suffix in SPLITS.items():
        X, y = getattr(dataset, f"X_{suffix}"), getattr(dataset, f"y_{suffix}")
        if len(X):
            values = score(fit, dataset, X, y, names)
            fit.metrics[split] = dict(values)
            notes += [f"{split}: {note}" for note in getattr(values, "warnings", [])]
    if dataset.task == "classification" and not hasattr(fit.estimator, "predict_proba"):
        notes.append(f"no probabilities (no predict_proba): {', '.join(NEEDS_PROBABILITIES)} are null"
                     f"{_HOW_TO_GET_PROBABILITIES.get(spec.name, '')}")
    fit.warnings = [f"baseline {spec.label}: {note}" for note in notes]
    fit.info = _info(fit, dataset, seconds)
    return fit


def _info(fit: BaselineFit, dataset, seconds: float) -> dict:
    entry = lookup(dataset.task, fit.spec.name)
    info = {"name": fit.spec.name, "estimator": type(fit.estimator).__name__, "params": fit.spec.params,
            "fit_seconds": seconds}
    if dataset.task == "classification":
        k = len(dataset.classes)
        info.update(multiclass=fit.spec.multiclass, native_multiclass=entry.native_multiclass,
                    binary_models=entry.binary_models(fit.spec.multiclass, k))
        if fit.spec.multiclass != "native":
            info["estimator"] = f"{info['estimator']}({type(fit.estimator.estimator).__name__})"
    return info


def fit_baselines(specs: list[BaselineSpec], dataset, seed: int, names="auto") -> list[BaselineFit]:
    """Every baseline of ``specs``, fitted and scored in order, all seeded from the run's ``seed``."""
    random_state = baseline_seed(seed)
    return [fit_baseline(spec, dataset, random_state, names) for spec in specs]
