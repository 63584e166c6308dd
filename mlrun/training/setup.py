"""A run's parts, built once and complete from a spec: network, loss, optimizer, schedule, trainer.

Training, resuming, the range test, sweep workers, the tests and the bench all build through
``build_setup``; nothing is patched onto a part after it is built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlrun.metrics.epoch import classification_epoch, regression_epoch
from mlrun.metrics.names import CLASSIFICATION_METRICS, REGRESSION_METRICS, epoch_metrics
from mlrun.nn.bitwise import bitwise_layers, bitwise_specs, is_bitwise
from mlrun.nn.mtp import MTPNetwork, stack_targets
from mlrun.nn.network import Network, expand_model, output_spec
from mlrun.optim.schedules import build_schedule
from mlrun.registry import build, get_class, split_spec
from mlrun.spec.errors import ConfigError, PathError
from mlrun.spec.loading import Config
from mlrun.spec.monitors import check_monitors
from mlrun.training.stages import BitwiseStages, compression_epochs
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


def check_task_fit(cfg: Config, dataset) -> None:
    """A loss for the other task (cross_entropy on regression targets, mse on class labels), or a monitor
    the data's task never logs (a CSV's ``task: auto``), is a spec error, said before any work, not a
    shape error deep inside the loss or an early stop that never sees its metric."""
    try:
        check_monitors(cfg._spec, dataset.task)
    except PathError as exc:
        raise ConfigError(f"{exc.key}: {exc}") from None
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


def watched_monitors(cfg: Config) -> tuple[str, ...]:
    """What the spec's stop rules watch: early stopping's monitor, plateau's."""
    watched = [cfg.training.early_stopping.monitor] if cfg.training.early_stopping else []
    if cfg.schedule["name"] == "plateau":
        watched.append(str(cfg.schedule.get("monitor", "val_loss")))
    return tuple(watched)


def logged_metrics(cfg: Config, task: str) -> tuple[str, ...]:
    """The validation metrics logged each epoch (history.csv's val_ columns): the main metric, and any
    a stop rule watches; the one list the trainer computes and the history records."""
    return epoch_metrics(task, watched_monitors(cfg))


def val_metric_fn(dataset, names=None):
    """The per-epoch validation metrics ``names`` (default: the main one), with numpy: classification
    on the probabilities, regression in original units."""
    names = tuple(names or epoch_metrics(dataset.task))
    if dataset.task == "classification":
        return lambda y, out: classification_epoch(names, y, out, dataset.positive_class)
    return lambda y, out: regression_epoch(names, dataset.inverse_y(np.asarray(y, np.float64)),
                                           dataset.inverse_y(np.asarray(out, np.float64)))


def resolved_autos(cfg: Config, dataset, schedule) -> dict:
    """What each ``auto`` and each derived null of the spec became, by dotted key (run.json's
    ``resolved``): task, loss, metrics, the initializers, the schedule's parameters; parts complete
    with their parameters, so the run is on record whatever a later version's defaults."""
    from mlrun.metrics.names import CLASSIFICATION_METRICS, REGRESSION_METRICS
    from mlrun.nn.initializers import auto_initializer
    from mlrun.spec.parts import with_defaults

    out: dict = {}
    if cfg.task == "auto":
        out["task"] = dataset.task
    if cfg.loss == "auto":
        out["loss"] = with_defaults("loss", loss_spec(cfg, dataset.task))
    if cfg.metrics == "auto":
        out["metrics"] = list(CLASSIFICATION_METRICS if dataset.task == "classification" else REGRESSION_METRICS)
    model = cfg.to_dict()["model"]
    if not model["layers"] and model["initializer"] == "auto":
        act = split_spec("activation", model["activation"])[0]
        out["model.initializer"] = with_defaults("initializer", auto_initializer(act))
    for i, layer in enumerate(model["layers"] or ()):
        name, params = split_spec("layer", layer)
        if params.get("initializer") == "auto":
            act = split_spec("activation", params.get("activation", "linear"))[0]
            out[f"model.layers.{i}.initializer"] = with_defaults("initializer", auto_initializer(act))
    for key, value in with_defaults("schedule", cfg.schedule).items():
        if value is None or value == "auto":
            out[f"schedule.{key}"] = getattr(schedule, key, value)
    return out


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

    @property
    def y_train(self):
        """The targets the trainer fits: the training rows' main targets, and under ``model.mtp`` the
        further ones beside them (stack_targets)."""
        if isinstance(self.network, MTPNetwork):
            return stack_targets(self.dataset.y_train, self.dataset.y_ahead_train, self.network.depth)
        return self.dataset.y_train


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


def build_network(cfg: Config, dataset, init, noise, total_steps: int) -> Network:
    """The spec's network: hidden layers and output layer, with the MTP modules under ``model.mtp``."""
    model = cfg.to_dict()["model"]
    if is_bitwise(model):  # nn/bitwise.py: its own input and dense layers, the output layer bitwise too
        specs = bitwise_specs(model, dataset.n_outputs, dataset.X_train)  # the uniform code: feature ranges
        return Network(specs, dataset.n_features, cfg.training.dtype, init, noise)
    specs = expand_model(model) + [output_spec(dataset.n_outputs)]
    if not model.get("mtp"):
        return Network(specs, dataset.n_features, cfg.training.dtype, init, noise)
    n_classes = dataset.n_outputs if dataset.task == "classification" else None
    return MTPNetwork(specs, dataset.n_features, cfg.training.dtype, init, noise, **model["mtp"],
                      activation=model["activation"], n_classes=n_classes, total_steps=total_steps)


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
    check_task_fit(cfg, dataset)
    loss = build("loss", loss_spec(cfg, dataset.task))
    optimizer = build("optimizer", cfg.optimizer)
    per_epoch = batches_per_epoch(len(dataset.X_train), training.batch_size)
    if range_test is not None:
        epochs = math.ceil(range_test.steps / per_epoch)  # the ramp, whole epochs; the recorder stops it
    else:
        epochs = SMOKE_EPOCHS if smoke else training.epochs
    network = build_network(cfg, dataset, init, noise, epochs * per_epoch)
    schedule, derived = build_schedule(_schedule_spec(cfg, resolved, range_test), optimizer.learning_rate,
                                       epochs * per_epoch)
    resolved.update(derived)
    resolved.setdefault("total_steps", epochs * per_epoch)
    resolved["n_params"] = network.n_params
    if range_test is None:
        resolved.update(resolved_autos(cfg, dataset, schedule))
    stopping = {} if range_test is not None else {
        "tolerance": training.tolerance, "val_metrics": val_metric_fn(dataset, logged_metrics(cfg, dataset.task)),
        "early_stopping": training.early_stopping.model_dump() if training.early_stopping else None}
    if range_test is None and bitwise_layers(network):  # the stages of the network just built
        callbacks = [_bitwise_stages(cfg, network, epochs, resolved, smoke), *callbacks]
    trainer = Trainer(network, loss, optimizer, schedule, epochs=epochs, batch_size=training.batch_size,
                      l2=training.l2, shuffle_rng=shuffle, callbacks=callbacks, **stopping)
    return Setup(cfg, dataset, network, loss, optimizer, schedule, trainer, resolved)


def _bitwise_stages(cfg: Config, network: Network, epochs: int, resolved: dict, smoke: bool) -> BitwiseStages:
    """The stage callback of a bitwise run; its stage 1 length goes to ``resolved``."""
    options = cfg.to_dict()["model"]["bitwise"]
    stage_1 = compression_epochs(options, epochs)
    if not smoke and stage_1 >= epochs:
        raise ConfigError(f"model.bitwise.compression_epochs is {stage_1} but training.epochs is {epochs}: "
                          "stage 2 (noisy backpropagation) would never run; make it smaller")
    stop = cfg.training.early_stopping
    if stop is not None and stop.restore_best:
        raise ConfigError("training.early_stopping.restore_best would put back a stage-1 network in a bitwise "
                          "run; set restore_best: false or drop early_stopping")
    resolved["compression_epochs"] = stage_1
    return BitwiseStages(network, stage_1)
