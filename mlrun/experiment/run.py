"""One training run from a spec: data, network, trainer, run directory, metrics, plots, model.

This is the public ``mlrun.train`` / ``mlrun.resume`` / ``mlrun.load_model`` (DESIGN.md section 6).
The trainer stays quiet; everything this module writes goes through the ``RunRecorder`` callback.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mlrun.experiment.model import probabilities
from mlrun.metrics.names import main_metric
from mlrun.nn.network import Network, expand_model, output_spec
from mlrun.registry import build
from mlrun.runs import directory as runs
from mlrun.spec.errors import ConfigError
from mlrun.spec.loading import Config, flatten, load_config
from mlrun.training.trainer import Trainer

SEED_PURPOSES = ("split", "init", "shuffle", "noise", "lr_find")
SMOKE_ROWS, SMOKE_EPOCHS = 512, 2


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

    @property
    def name(self) -> str:
        return self.path.name


def seeds(seed: int) -> dict[str, np.random.SeedSequence]:
    """One independent SeedSequence child per purpose (split, init, shuffle, noise, lr_find)."""
    return dict(zip(SEED_PURPOSES, np.random.SeedSequence(seed).spawn(len(SEED_PURPOSES))))


def split_state(cfg: Config) -> int:
    if cfg.data.split_seed is not None:
        return int(cfg.data.split_seed)
    return int(seeds(cfg.seed)["split"].generate_state(1)[0])


# -- building the parts -------------------------------------------------------------------------
@dataclass
class Setup:
    """Everything a run trains with, built deterministically from the spec and its seed."""

    cfg: Config
    dataset: object
    network: Network
    loss: object
    optimizer: object
    schedule: object
    trainer: Trainer
    resolved: dict


def _loss_spec(cfg: Config, task: str):
    if cfg.loss == "auto":
        return "cross_entropy" if task == "classification" else "mse"
    return cfg.loss


def load_data(cfg: Config, smoke: bool = False, csv_text: str | None = None):
    from mlrun.data.sources import load_dataset

    return load_dataset(cfg.to_dict()["data"], task=cfg.task, random_state=split_state(cfg),
                        max_rows=SMOKE_ROWS if smoke else None, csv_text=csv_text)


def val_metric_fn(dataset):
    """The cheap per-epoch validation metric: accuracy, or RMSE in original units."""
    if dataset.task == "classification":
        return lambda y, out: {"accuracy": float(np.mean(np.argmax(out, axis=1) == y))}
    return lambda y, out: {"rmse": float(np.sqrt(np.mean(
        (dataset.inverse_y(np.asarray(out, np.float64)) - dataset.inverse_y(np.asarray(y, np.float64))) ** 2)))}


def build_setup(cfg: Config, dataset, callbacks=(), resolved: dict | None = None, smoke: bool = False) -> Setup:
    """Network, loss, optimizer, schedule and trainer for ``cfg`` on ``dataset``.

    ``resolved`` carries values derived earlier (``max_lr`` from an lr-find): on resume they are reused,
    never recomputed.
    """
    resolved = dict(resolved or {})
    streams = seeds(cfg.seed)
    training = cfg.training
    dtype = training.dtype
    specs = expand_model(cfg.to_dict()["model"]) + [output_spec(dataset.n_outputs)]
    network = Network(specs, dataset.n_features, dtype, np.random.default_rng(streams["init"]),
                      np.random.default_rng(streams["noise"]))
    loss = build("loss", _loss_spec(cfg, dataset.task))
    optimizer = build("optimizer", cfg.optimizer)
    epochs = SMOKE_EPOCHS if smoke else training.epochs
    trainer = Trainer(network, loss, optimizer, None, epochs=epochs, batch_size=training.batch_size,
                      tolerance=training.tolerance,
                      early_stopping=training.early_stopping.model_dump() if training.early_stopping else None,
                      l2=training.l2, shuffle_rng=np.random.default_rng(streams["shuffle"]),
                      callbacks=callbacks, val_metrics=val_metric_fn(dataset))
    total_steps = epochs * trainer.batches_per_epoch(len(dataset.X_train))
    schedule_spec = cfg.schedule if isinstance(cfg.schedule, dict) else {"name": cfg.schedule}
    schedule_spec = dict(schedule_spec)
    if schedule_spec.get("max_lr") == "auto":
        if "max_lr" not in resolved:
            resolved.update(_auto_max_lr(cfg, dataset))
        schedule_spec["max_lr"] = resolved["max_lr"]
    schedule = build("schedule", schedule_spec)
    resolved.update(schedule.resolve(initial_learning_rate=optimizer.learning_rate, total_steps=total_steps))
    resolved.setdefault("total_steps", total_steps)
    resolved["n_params"] = network.n_params
    trainer.schedule = schedule
    return Setup(cfg, dataset, network, loss, optimizer, schedule, trainer, resolved)


def _auto_max_lr(cfg: Config, dataset) -> dict:
    """``one_cycle`` with ``max_lr: auto``: a range test on the training data picks the peak."""
    from mlrun.lr_finder.range_test import auto_max_lr

    return auto_max_lr(cfg, dataset)


# -- writing the run directory ------------------------------------------------------------------
class RunRecorder:
    """Trainer callback: history.csv, heartbeat and checkpoint after every epoch."""

    def __init__(self, run_dir: runs.RunDir, metric_names: list[str]) -> None:
        self.run_dir = run_dir
        self.header = runs.history_header(metric_names)

    def on_setup(self, setup: Setup) -> None:
        from mlrun.lr_finder.range_test import (
            keep_curve,  # max_lr: auto: its curve and plot, resolved into run.json now
        )

        keep_curve(self.run_dir, setup.resolved)

    def on_epoch_end(self, trainer: Trainer, logs: dict) -> None:
        self.run_dir.write_csv("history.csv", self.header,
                               [[row.get(k) for k in self.header] for row in trainer.history])
        save_checkpoint(self.run_dir, trainer)
        self.run_dir.heartbeat(epochs=trainer.epoch)


def save_checkpoint(run_dir: runs.RunDir, trainer: Trainer) -> None:
    meta, arrays = trainer.state()
    arrays["epoch"] = np.array(trainer.epoch)
    run_dir.write_npz("checkpoint.npz", **arrays)  # arrays first: the JSON names the epoch it matches
    run_dir.write_json("checkpoint.json", meta)


def load_checkpoint(run_dir: runs.RunDir) -> tuple[dict, dict]:
    meta = run_dir.read_json("checkpoint.json")
    arrays = runs.load_npz(run_dir.file("checkpoint.npz"))
    if int(arrays.pop("epoch")) != meta["epoch"]:
        raise ConfigError(f"{run_dir.path}: checkpoint.npz and checkpoint.json disagree; cannot resume")
    return meta, arrays


@contextlib.contextmanager
def graceful_signals(trainer: Trainer, received: list):
    """First SIGINT/SIGTERM: stop after the current batch. Second: abort at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if received:
            raise KeyboardInterrupt
        received.append(signum)
        trainer.request_stop("interrupted")

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@contextlib.contextmanager
def blas_threads(threads: int | None):
    """Limit BLAS threads for a run (training.threads); None leaves the library's default."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(threads), user_api="blas"):
        yield


def evaluate(network: Network, dataset, names="auto") -> tuple[dict, list[str], dict]:
    """Metrics for each split (original units for regression); returns (metrics, warnings, outputs)."""
    from mlrun.metrics.scores import compute_metrics

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


def _write_predictions(run_dir: runs.RunDir, outcome: Outcome) -> None:
    if outcome.test_outputs is None:
        return
    y_true, out = outcome.test_outputs
    if outcome.task == "classification":
        labels = outcome.labels
        header = ["y_true", "y_pred"] + [f"score_{c}" for c in labels]
        pred = np.argmax(out, axis=1)
        rows = [[labels[t], labels[p], *map(float, s)] for t, p, s in zip(y_true, pred, out)]
    else:
        k = out.shape[1]
        names = [""] if k == 1 else [f"_{i}" for i in range(k)]
        header = [f"y_true{n}" for n in names] + [f"y_pred{n}" for n in names]
        rows = [[*map(float, t), *map(float, p)] for t, p in zip(y_true, out)]
    run_dir.write_csv("predictions.csv", header, rows)


def _draw_plots(run_dir: runs.RunDir, outcome: Outcome) -> list[str]:
    """Draw the run's figures; a failing figure becomes a warning, never a lost run."""
    from mlrun.runs import plots

    title, pdir = run_dir.name, run_dir.plots_dir
    try:
        if outcome.history:
            plots.learning_curve(outcome.history, pdir / "learning_curve.png", title)
        if outcome.test_outputs is not None:
            y_true, out = outcome.test_outputs
            if outcome.task == "classification":
                cm = (outcome.metrics.get("test") or {}).get("confusion_matrix")
                if cm is not None:
                    plots.confusion_matrix(cm, outcome.labels, pdir / "confusion_matrix.png", title)
                plots.roc_curve(y_true, out, outcome.labels, outcome.positive_class, pdir / "roc.png", title)
                plots.pr_curve(y_true, out, outcome.labels, outcome.positive_class, pdir / "pr.png", title)
            else:
                plots.residuals(y_true, out, pdir / "residuals.png", title)
    except Exception as exc:  # noqa: BLE001
        return [f"plots: {type(exc).__name__}: {exc}"]
    return []


# -- the public API -----------------------------------------------------------------------------
def train(cfg, runs_dir="runs", callbacks=(), *, name: str | None = None, smoke: bool = False,
          command: list[str] | None = None, csv_text: str | None = None) -> Run:
    """Train the spec ``cfg`` (a Config, a dict or a path) and write a run directory under ``runs_dir``."""
    cfg = cfg if isinstance(cfg, Config) else load_config(cfg)
    started = time.time()
    dataset = load_data(cfg, smoke=smoke, csv_text=csv_text)
    run_dir = runs.RunDir.create(runs_dir, name or cfg.name, kind="train")
    run_dir.write_yaml("config.yaml", cfg.to_dict())
    run_dir.start(kind="train", params=flatten(cfg.to_dict()), resolved={}, seed=cfg.seed, smoke=smoke,
                  command=command or sys.argv, extra={"name": cfg.name, "status": "running"})
    return _train_in(run_dir, cfg, dataset, callbacks, started, smoke=smoke)


def resumable(path) -> tuple[runs.RunDir, dict, Config]:
    """The run directory, its run.json and its spec, if the run can be resumed (else ConfigError)."""
    run_dir = runs.RunDir(Path(path))
    if not run_dir.file("run.json").exists():
        raise ConfigError(f"not a run directory: {path}")
    info = run_dir.read_json("run.json")
    status = runs.display_status(info)
    if info.get("kind") != "train":
        raise ConfigError(f"{path} is a {info.get('kind')} run; only training runs resume")
    if status in ("completed", "diverged", "running"):
        raise ConfigError(f"{path} is {status}; only interrupted, failed or stale runs resume")
    if not run_dir.file("checkpoint.json").exists():
        raise ConfigError(f"{path} has no checkpoint (it stopped before its first epoch ended); train it again")
    return run_dir, info, load_config(run_dir.file("config.yaml"))


def resume(path, callbacks=()) -> Run:
    """Continue an interrupted run in its own directory, bit-identically."""
    run_dir, info, cfg = resumable(path)
    started = time.time()
    smoke = bool(info.get("smoke"))
    dataset = load_data(cfg, smoke=smoke)
    run_dir.update(status="running", pid=os.getpid(), host=socket.gethostname(), error=None, heartbeat=time.time())
    return _train_in(run_dir, cfg, dataset, callbacks, started, smoke=smoke, resume_from=info.get("resolved", {}),
                     previous_total=(info.get("timings") or {}).get("total_seconds", 0.0))


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


def run_training(cfg: Config, dataset, callbacks=(), resolved=None, smoke=False, checkpoint=None,
                 received: list | None = None) -> Outcome:
    """Build, (restore,) train and evaluate in memory; signals stop it gracefully in the main thread."""
    received = [] if received is None else received
    setup = build_setup(cfg, dataset, callbacks, resolved=resolved, smoke=smoke)
    trainer = setup.trainer
    if checkpoint is not None:
        trainer.load_state(*checkpoint)
    for cb in callbacks:
        if hasattr(cb, "on_setup"):
            cb.on_setup(setup)
    with graceful_signals(trainer, received), blas_threads(cfg.training.threads):
        trainer.fit(dataset.X_train, dataset.y_train, dataset.X_val, dataset.y_val)
    from mlrun.metrics.scores import advice

    metrics, warnings, outputs = evaluate(setup.network, dataset, cfg.metrics)
    tips = advice(metrics, dataset)
    if trainer.status == "diverged":
        tips.insert(0, f"the loss diverged in epoch {trainer.epoch + 1} (non-finite, or above 1e4 x the first"
                       f" batch's loss): lower optimizer.learning_rate (now {setup.optimizer.learning_rate:g})"
                       " or clip the gradients (optimizer.clip_norm: 1.0)")
    return Outcome(
        status=trainer.status, stop_reason=trainer.stop_reason, epochs=trainer.epoch, history=trainer.history,
        metrics=metrics, advice=tips, warnings=warnings, resolved=setup.resolved,
        train_seconds=trainer.train_seconds,
        model_arrays={**setup.network.to_arrays(), **{f"data.{k}": v for k, v in dataset.state().items()}},
        test_outputs=outputs.get("test"), task=dataset.task,
        labels=None if dataset.classes is None else [str(c) for c in dataset.classes],
        positive_class=dataset.positive_class, data=_data_summary(dataset),
        best_epoch=trainer.early_stopping.best_epoch if trainer.early_stopping else None,
        signal=received[0] if received else None,
    )


def record_outcome(run_dir: runs.RunDir, outcome: Outcome, total_seconds: float,
                   plots: bool = True) -> Run:
    """Write everything a finished training leaves in its run directory, status last (sweeps: plots=False)."""
    metric_names = [main_metric(outcome.task)]
    header = runs.history_header(metric_names)
    run_dir.write_csv("history.csv", header, [[row.get(k) for k in header] for row in outcome.history])
    run_dir.write_json("metrics.json", outcome.metrics)
    _write_predictions(run_dir, outcome)
    run_dir.write_npz("model.npz", **outcome.model_arrays)
    from mlrun.lr_finder.range_test import (
        keep_curve,  # an auto max_lr curve not yet written (trained without RunRecorder)
    )

    warnings = outcome.warnings + keep_curve(run_dir, outcome.resolved)
    warnings += _draw_plots(run_dir, outcome) if plots else []
    run_dir.finish(outcome.status, outcome.stop_reason, outcome.epochs,
                   timings={"train_seconds": outcome.train_seconds, "total_seconds": total_seconds},
                   resolved=outcome.resolved, data=outcome.data, advice=outcome.advice, warnings=warnings,
                   signal=outcome.signal, best_epoch=outcome.best_epoch)
    return Run(run_dir.path, outcome.status, outcome.stop_reason, outcome.metrics, outcome.history,
               outcome.epochs, outcome.advice, warnings, outcome.signal, outcome.resolved, outcome.task)


def _train_in(run_dir, cfg, dataset, callbacks, started, smoke=False, resume_from=None, previous_total=0.0) -> Run:
    metric_names = [main_metric(dataset.task)]
    recorder = RunRecorder(run_dir, metric_names)
    try:
        checkpoint = load_checkpoint(run_dir) if resume_from is not None else None
        outcome = run_training(cfg, dataset, [recorder, *callbacks], resolved=resume_from, smoke=smoke,
                               checkpoint=checkpoint)
        return record_outcome(run_dir, outcome, previous_total + (time.time() - started))
    except KeyboardInterrupt:
        run_dir.finish("interrupted", "interrupted", _epochs_done(run_dir), error="aborted by a second signal")
        raise
    except BaseException as exc:
        run_dir.finish("failed", None, _epochs_done(run_dir), error=f"{type(exc).__name__}: {exc}")
        raise


def _epochs_done(run_dir) -> int:
    try:
        return int(run_dir.read_json("checkpoint.json")["epoch"])
    except (OSError, ValueError, KeyError):
        return 0


def _data_summary(dataset) -> dict:
    return {"task": dataset.task, "n_features": int(dataset.n_features), "n_outputs": int(dataset.n_outputs),
            "rows": {"train": len(dataset.X_train), "validation": len(dataset.X_val), "test": len(dataset.X_test)},
            "classes": None if dataset.classes is None else [str(c) for c in dataset.classes]}
