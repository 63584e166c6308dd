"""One training in memory, from spec and data to an ``Outcome``: what a run directory records.

Sweep workers return Outcomes (they are picklable); the driver writes them with ``record_outcome``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mlrun.baselines.fitting import fit_baselines
from mlrun.diagnostics.advisor import findings
from mlrun.diagnostics.probe import diagnostics_callback
from mlrun.experiment.model import probabilities
from mlrun.experiment.preflight import baseline_specs
from mlrun.lr_finder.range_test import auto_max_lr
from mlrun.metrics.advice import advice
from mlrun.metrics.scores import compute_metrics
from mlrun.nn.network import Network
from mlrun.nn.packed import inference_network
from mlrun.nn.packed_file import model_arrays
from mlrun.spec.loading import Config
from mlrun.training.setup import build_setup, logged_metrics
from mlrun.training.signals import blas_threads, graceful_signals


def resolve_max_lr(cfg: Config, dataset, resolved: dict | None, received: list | None = None) -> dict:
    """``one_cycle`` with ``max_lr: auto``: a range test on the training data picks the peak, once
    (a resumed run reuses the ``max_lr`` its run.json recorded)."""
    resolved = dict(resolved or {})
    if cfg.schedule.get("max_lr") == "auto" and "max_lr" not in resolved:
        resolved.update(auto_max_lr(cfg, dataset, received=received))
    return resolved


def evaluate(network: Network, dataset, names="auto") -> tuple[dict, list[str], dict]:
    """Metrics for each split (original units for regression); returns (metrics, warnings, outputs)."""
    metrics, warnings, outputs = {}, [], {}
    for split, X, y in (("train", dataset.X_train, dataset.y_train),
                        ("validation", dataset.X_val, dataset.y_val),
                        ("test", dataset.X_test, dataset.y_test)):
        if len(X) == 0:
            continue
        out = network.predict_output(X).astype(np.float64)
        if dataset.task == "classification":
            out = probabilities(out)
            y_true = y
        else:
            out, y_true = dataset.inverse_y(out), dataset.inverse_y(np.asarray(y, np.float64))
        outputs[split] = (y_true, out)
        values = compute_metrics(dataset.task, y_true, out, positive_class=dataset.positive_class, names=names)
        metrics[split] = dict(values)
        warnings += [f"{split}: {note}" for note in values.warnings]
    return metrics, warnings, outputs


@dataclass
class Outcome:
    """A finished training in memory: what a run directory records (picklable, for sweep workers)."""

    status: str
    stop_reason: str | None
    epochs: int
    history: list[dict]
    metrics: dict
    advice: list[str]
    warnings: list[str]
    resolved: dict
    train_seconds: float
    model_arrays: dict
    test_outputs: tuple | None
    task: str
    labels: list[str] | None
    positive_class: int | None
    data: dict
    best_epoch: int | None = None
    signal: int | None = None
    diagnostics: dict | None = None  # Diagnostics.result(): rows, layers, samples (None: switched off)
    findings: list[dict] = field(default_factory=list)  # the advisor's, with evidence and remedies
    restored_epoch: int | None = None  # early_stopping.restore_best put this epoch's weights back
    baselines: dict = field(default_factory=dict)  # label -> split -> metrics (metrics.json's "baselines")
    baseline_info: dict = field(default_factory=dict)  # label -> strategy, binary models, ... (run.json)
    test_rows: object = None  # each test row's index among the source's data rows (predictions.csv "row")
    epoch_metrics: tuple = ()  # the validation metrics logged each epoch (history.csv's val_ columns)


def _fit_baselines(cfg: Config, dataset, specs) -> tuple[dict, dict, list[str]]:
    fits = fit_baselines(specs, dataset, cfg.seed, cfg.metrics)
    return ({f.spec.label: f.metrics for f in fits}, {f.spec.label: f.info for f in fits},
            [w for f in fits for w in f.warnings])


def run_training(cfg: Config, dataset, callbacks=(), resolved=None, smoke=False, checkpoint=None,
                 received: list | None = None, diagnostics_rows: list[dict] | None = None,
                 evaluate_when=None) -> Outcome:
    """Build, (restore,) train and evaluate in memory; signals stop it gracefully in the main thread.

    ``diagnostics_rows``: a resumed run's earlier per-layer measurements, continued.
    ``evaluate_when(trainer)`` False skips the split metrics (a pruned sweep's trial paused at a rung:
    scikit-learn's metrics cost more than a tiny trial's epoch, and the driver may continue it).
    """
    received = [] if received is None else received
    specs = baseline_specs(cfg, dataset.task)  # a bad baseline fails before the network trains
    probe = diagnostics_callback(cfg, dataset, diagnostics_rows)
    callbacks = [*callbacks, probe] if probe is not None else list(callbacks)
    setup = build_setup(cfg, dataset, callbacks, resolved=resolve_max_lr(cfg, dataset, resolved, received),
                        smoke=smoke)
    trainer = setup.trainer
    if checkpoint is not None:
        trainer.load_state(*checkpoint)
    for cb in callbacks:
        if hasattr(cb, "on_setup"):
            cb.on_setup(setup)
    with graceful_signals(trainer, received), blas_threads(cfg.training.threads):
        trainer.fit(dataset.X_train, setup.y_train, dataset.X_val, dataset.y_val)
    metrics, warnings, outputs = {}, [], {}
    inference = inference_network(setup.network)  # a bitwise network: packed, run with XNOR + popcount
    if evaluate_when is None or evaluate_when(trainer):
        metrics, warnings, outputs = evaluate(inference, dataset, cfg.metrics)
    baselines, baseline_info, notes = {}, {}, []
    if specs and not received and metrics:  # a signal asked to stop: the baselines wait for the resumed run
        with blas_threads(cfg.training.threads):
            baselines, baseline_info, notes = _fit_baselines(cfg, dataset, specs)
    warnings += notes
    tips = advice(metrics, dataset)
    if trainer.status == "diverged":
        tips.insert(0, f"the loss diverged in epoch {trainer.epoch + 1} (non-finite, or above 1e4 x the first"
                       f" batch's loss): lower optimizer.learning_rate (now {setup.optimizer.learning_rate:g})"
                       " or clip the gradients (optimizer.clip_norm: 1.0)")
    spec = cfg.to_dict()
    result = probe.result() if probe is not None else None
    found = findings(result["rows"], result["layers"], spec) if result else findings([], [], spec)
    return Outcome(
        diagnostics=result, findings=found, status=trainer.status, stop_reason=trainer.stop_reason,
        epochs=trainer.epoch, history=trainer.history,
        metrics=metrics, advice=tips, warnings=warnings, resolved=setup.resolved,
        train_seconds=trainer.train_seconds,
        model_arrays=model_arrays(inference, dataset.state()),  # bitwise: one member, the scaler folded in
        test_outputs=outputs.get("test"), test_rows=dataset.rows_test, task=dataset.task,
        labels=None if dataset.classes is None else [str(c) for c in dataset.classes],
        positive_class=dataset.positive_class, data=_data_summary(dataset),
        best_epoch=trainer.early_stopping.best_epoch if trainer.early_stopping else None,
        signal=received[0] if received else None, baselines=baselines, baseline_info=baseline_info,
        restored_epoch=trainer.early_stopping.best_epoch if _restored(trainer) else None,
        epoch_metrics=logged_metrics(cfg, dataset.task),
    )


def _restored(trainer) -> bool:
    es = trainer.early_stopping
    return bool(es and es.restore_best and trainer.best_weights is not None and es.best_epoch != trainer.epoch)


def _data_summary(dataset) -> dict:
    return {"task": dataset.task, "n_features": int(dataset.n_features), "n_outputs": int(dataset.n_outputs),
            "rows": {"train": len(dataset.X_train), "validation": len(dataset.X_val), "test": len(dataset.X_test)},
            "classes": None if dataset.classes is None else [str(c) for c in dataset.classes]}
