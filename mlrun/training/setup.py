"""A run's parts, built once and complete from a spec: network, loss, optimizer, schedule, trainer.

Training, resuming, the range test, sweep workers, the tests and the bench all build through
``build_setup``; nothing is patched onto a part after it is built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlrun.metrics.names import CLASSIFICATION_METRICS, REGRESSION_METRICS
from mlrun.nn.network import Network, expand_model, output_spec
from mlrun.optim.schedules import build_schedule
from mlrun.registry import build, get_class, split_spec
from mlrun.spec.errors import ConfigError
from mlrun.spec.loading import Config
from mlrun.training.trainer import Trainer, batches_per_epoch

# append only: spawn(n) keeps the first children of spawn(n - 1), so no existing stream moves
SEED_PURPOSES = ("split", "init", "shuffle", "noise", "lr_find", "baselines", "probe")
SMOKE_ROWS, SMOKE_EPOCHS = 512, 2


def seeds(seed: int) -> dict[str, np.random.SeedSequence]:
    """One independent SeedSequence child per purpose (split, init, shuffle, noise, lr_find, baselines, probe)."""
    return dict(zip(SEED_PURPOSES, np.random.SeedSequence(seed).spawn(len(SEED_PURPOSES))))


def split_state(cfg: Config) -> int:
    """The integer seed of the train/validation/test split: data.split_seed, else the seed's split child."""
    if cfg.data.split_seed is not None:
        return int(cfg.data.split_seed)
    return int(seeds(cfg.seed)["split"].generate_state(1)[0])


def loss_spec(cfg: Config, task: str):
    """``loss: auto`` is cross-entropy for classification and MSE for regression."""
    if cfg.loss == "auto":
        return "cross_entropy" if task == "classification" else "mse"
    return cfg.loss


MAX_LAYERS = 10_000


def _dense_widths(model: dict) -> tuple[int, int, list[int] | None]:
    """(hidden layer count, width, widths): a short form's repeated width is never expanded."""
    if model.get("layers"):
        widths = [int(s.get("units", 0)) for s in model["layers"] if isinstance(s, dict) and s.get("units")]
        return len(model["layers"]), 0, widths
    neurons = model.get("neurons", 64)
    if isinstance(neurons, (list, tuple)):
        return len(neurons), 0, [int(n) for n in neurons]
    return int(model.get("hidden_layers", 2)), int(neurons), None


def estimate_params(model: dict, n_in: int, n_out: int) -> tuple[int, int]:
    """(hidden layers, parameter count) of the network a ``model:`` section describes, by arithmetic."""
    layers, width, widths = _dense_widths(model)
    bn = 2 if model.get("batch_norm") else 0
    if widths is None:  # n_in -> width -> ... (layers times) -> n_out
        if layers == 0:
            return 0, n_in * n_out + n_out
        hidden = (n_in * width + width) + (layers - 1) * (width * width + width) + layers * bn * width
        return layers, hidden + width * n_out + n_out
    dims = [n_in, *widths, n_out]
    return layers, sum(a * b + b for a, b in zip(dims, dims[1:])) + bn * sum(widths)


def check_sizes(cfg: Config, dataset) -> None:
    """Before the work: a network this machine can hold (weights, gradients and two optimizer slots)
    and a layer count that builds in seconds, else a ConfigError with the figure."""
    from mlrun.inputs import physical_memory, size_text

    model = cfg.to_dict()["model"]
    layers, n_params = estimate_params(model, dataset.n_features, dataset.n_outputs)
    if layers > MAX_LAYERS:
        raise ConfigError(f"model: the network would have {layers:.3g} hidden layers; at most {MAX_LAYERS:,}")
    needed = n_params * np.dtype(cfg.training.dtype).itemsize * 4
    if needed > physical_memory():
        raise ConfigError(f"model: the network would have {n_params:.3g} parameters, {size_text(needed)} with "
                          f"gradients and optimizer state; this machine has {size_text(physical_memory())}")


def check_loss_task(cfg: Config, dataset) -> None:
    """A loss for the other task (cross_entropy on regression targets, mse on class labels) is a spec
    error, said before any work, not a shape error deep inside the loss."""
    name = split_spec("loss", loss_spec(cfg, dataset.task))[0]
    task = getattr(get_class("loss", name), "task", None)
    if task is not None and task != dataset.task:
        fits = "cross_entropy" if dataset.task == "classification" else "mse"
        raise ConfigError(f"loss: {name} is a {task} loss, but the data is a {dataset.task} task; "
                          f"use loss: auto ({fits} here) or set data.task")
    names = cfg.metrics if isinstance(cfg.metrics, (list, tuple)) else [cfg.metrics]
    valid = CLASSIFICATION_METRICS if dataset.task == "classification" else REGRESSION_METRICS
    wrong = [n for n in names if n not in (*valid, "auto", None)]  # task auto: known only now, from the data
    if wrong:
        raise ConfigError(f"metrics: {', '.join(map(str, wrong))} not a {dataset.task} metric (the data is a "
                          f"{dataset.task} task); choose from {', '.join(valid)}")


def load_data(cfg: Config, smoke: bool = False, csv_text: str | None = None):
    """The spec's dataset, split by its seed (``smoke``: at most SMOKE_ROWS rows)."""
    from mlrun.data.sources import load_dataset

    return load_dataset(cfg.to_dict()["data"], task=cfg.task, random_state=split_state(cfg),
                        max_rows=SMOKE_ROWS if smoke else None, csv_text=csv_text)


def val_metric_fn(dataset):
    """The cheap per-epoch validation metric: accuracy, or RMSE in original units."""
    if dataset.task == "classification":
        return lambda y, out: {"accuracy": float(np.mean(np.argmax(out, axis=1) == y))}
    return lambda y, out: {"rmse": float(np.sqrt(np.mean(
        (dataset.inverse_y(np.asarray(out, np.float64)) - dataset.inverse_y(np.asarray(y, np.float64))) ** 2)))}


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class RangeTest:
    """What makes a setup a learning-rate range test: an exponential ramp over ``steps`` batches."""

    start: float
    end: float
    steps: int


def _schedule_spec(cfg: Config, resolved: dict, range_test: RangeTest | None) -> dict:
    if range_test is not None:
        return {"name": "lr_range", "start": range_test.start, "end": range_test.end, "steps": range_test.steps}
    spec = dict(cfg.schedule)
    if spec.get("max_lr") == "auto":
        if "max_lr" not in resolved:
            raise ValueError("schedule.max_lr is 'auto': resolve it first (lr_finder.auto_max_lr) and pass "
                             "it in resolved")
        spec["max_lr"] = resolved["max_lr"]
    return spec


def build_setup(cfg: Config, dataset, callbacks=(), *, resolved: dict | None = None, smoke: bool = False,
                range_test: RangeTest | None = None) -> Setup:
    """Network, loss, optimizer, schedule and trainer for ``cfg`` on ``dataset``, each complete.

    ``resolved`` carries values derived earlier (``max_lr`` for ``max_lr: auto``, from the range test
    the caller ran): on resume they are reused, never recomputed. ``range_test``: the parts of a range
    test instead, drawn from the seed's ``lr_find`` child so a run's own streams are untouched.
    """
    resolved = dict(resolved or {})
    training = cfg.training
    if range_test is None:
        streams = seeds(cfg.seed)
        init, shuffle, noise = (np.random.default_rng(streams[k]) for k in ("init", "shuffle", "noise"))
    else:
        init, shuffle, noise = (np.random.default_rng(s) for s in seeds(cfg.seed)["lr_find"].spawn(3))
    check_sizes(cfg, dataset)
    check_loss_task(cfg, dataset)
    specs = expand_model(cfg.to_dict()["model"]) + [output_spec(dataset.n_outputs)]
    network = Network(specs, dataset.n_features, training.dtype, init, noise)
    loss = build("loss", loss_spec(cfg, dataset.task))
    optimizer = build("optimizer", cfg.optimizer)
    per_epoch = batches_per_epoch(len(dataset.X_train), training.batch_size)
    if range_test is not None:
        epochs = math.ceil(range_test.steps / per_epoch)  # the ramp, whole epochs; the recorder stops it
    else:
        epochs = SMOKE_EPOCHS if smoke else training.epochs
    schedule, derived = build_schedule(_schedule_spec(cfg, resolved, range_test), optimizer.learning_rate,
                                       epochs * per_epoch)
    resolved.update(derived)
    resolved.setdefault("total_steps", epochs * per_epoch)
    resolved["n_params"] = network.n_params
    stopping = {} if range_test is not None else {
        "tolerance": training.tolerance, "val_metrics": val_metric_fn(dataset),
        "early_stopping": training.early_stopping.model_dump() if training.early_stopping else None}
    trainer = Trainer(network, loss, optimizer, schedule, epochs=epochs, batch_size=training.batch_size,
                      l2=training.l2, shuffle_rng=shuffle, callbacks=callbacks, **stopping)
    return Setup(cfg, dataset, network, loss, optimizer, schedule, trainer, resolved)
