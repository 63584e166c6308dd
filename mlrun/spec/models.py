"""The spec's pydantic models (README.md, "The spec"): every section, its defaults (stated here only)
and its checks, plus the constants the other spec modules read.

Part specs (activation, initializer, loss, optimizer, schedule, layer) are checked by the registry
(``parts``), so a newly registered part needs no change here. Loading a spec into a ``Config`` is
``loading``; pydantic's errors become one-line messages in ``messages``; the JSON Schema is ``schema``.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt, Le
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mlrun import registry
from mlrun.data.names import DATASETS, LOADERS, MNIST1D_DEFAULTS, SCALERS
from mlrun.hints import did_you_mean, hint
from mlrun.metrics.names import CLASSIFICATION_METRICS, METRICS, REGRESSION_METRICS
from mlrun.spec.bitwise_rules import check_bitwise_model, layer_names
from mlrun.spec.errors import PathError
from mlrun.spec.names import NAME_PATTERN, sanitize_name
from mlrun.spec.parts import as_mapping, check_part

MONITORS = ("loss", "train_loss", "val_loss", *(f"val_{m}" for m in METRICS if m != "confusion_matrix"))
DEFAULT_OPTIMIZER, DEFAULT_SCHEDULE = "nadam", "constant"  # also when a mapping gives no name
# where a part spec sits in the resolved spec (flatten turns these into "key" = name, "key.param" = value)
PART_KEYS = {
    "model.activation": "activation", "model.initializer": "initializer",
    "loss": "loss", "optimizer": "optimizer", "schedule": "schedule",
}


# -- the schema ---------------------------------------------------------------------------------------
PartSpec = str | dict[str, Any]
PosInt = Annotated[int, Ge(1)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _null_is_default(cls, data: Any) -> Any:
        return {} if data is None else data  # "model:" with its keys commented out = defaults


class DataSpec(_Section):
    dataset: str = Field("digits", description="offline dataset, generator, or csv")
    params: dict[str, Any] = Field(default_factory=dict, description="generator/loader arguments")
    path: str | None = Field(None, description="csv only: file with a header row")
    target: str | list[str] | None = Field(None, description="csv only: label column(s)")
    test_size: float = Field(0.2, gt=0, lt=1, description="fraction of all rows, taken first")
    validation_size: float = Field(0.1, ge=0, lt=1, description="fraction of all rows; 0 = no validation")
    stratify: bool = True
    scale: Literal[SCALERS] = "standard"
    split_seed: Annotated[int, Ge(0)] | None = None
    positive_class: str | bool | int | float | None = None

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, v: str) -> str:
        if v not in DATASETS:
            did = hint(did_you_mean(v, DATASETS))
            raise ValueError(f"unknown dataset {v!r}{did}; only these offline datasets/generators are "
                             f"supported (no network downloads): {', '.join(DATASETS)}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> DataSpec:
        if self.test_size + self.validation_size >= 1:
            raise PathError("validation_size", f"test_size + validation_size must be < 1 (something "
                             f"must be left to train on); got {self.test_size} + {self.validation_size}")
        if self.dataset == "csv":
            for key in ("path", "target"):
                if getattr(self, key) is None:
                    raise PathError(key, f"dataset csv needs data.{key} (path: the CSV file, "
                                          "target: its label column)")
            if not Path(self.path).is_file():
                raise PathError("path", f"CSV file not found: {self.path}")
        elif self.params:
            _check_dataset_params(self.dataset, self.params)
        return self


def _check_dataset_params(dataset: str, params: dict) -> None:
    if dataset == "mnist1d":  # mlrun's own generator: its parameters, and split: random | fixed
        accepted = ["split", *MNIST1D_DEFAULTS]
    else:
        import sklearn.datasets  # only when params are given: keeps `mlrun validate` fast otherwise

        fn = getattr(sklearn.datasets, LOADERS[dataset][0] if dataset in LOADERS else dataset)
        accepted = [p for p in inspect.signature(fn).parameters
                    if p not in ("return_X_y", "as_frame", "data_home")]
    for key in params:  # random_state is allowed: it pins a generator's data across seeds
        if key not in accepted:
            did = hint(did_you_mean(key, accepted))
            raise PathError(f"params.{key}", f"{dataset} has no parameter {key!r}{did}; it takes: "
                                               f"{', '.join(accepted) or 'nothing'}")


class BitwiseSpec(_Section):
    """Kim & Smaragdis 2016's two stages (docs/bitwise.md): weight compression, then noisy backprop."""

    compression_epochs: PosInt | None = Field(
        None, description="stage 1 (real-valued, tanh-compressed) epochs; null: half of training.epochs; "
                          "stage 2 (binarised forward, straight-through backward) runs the rest")
    beta: float = Field(0.0, ge=0, lt=1, description="sparsity boundary: weights with |tanh w| < beta are 0")
    input_bits: Annotated[int, Ge(1), Le(8)] = Field(1, description="bipolar bits per input feature "
                                                                    "(thermometer code at normal quantiles)")



class ModelSpec(_Section):
    hidden_layers: Annotated[int, Ge(0)] | None = Field(2, description="short form: number of hidden layers")
    neurons: PosInt | list[PosInt] | None = Field(64, description="width, or one width per hidden layer")
    activation: PartSpec = Field("elu", description="activation name or {name: ..., params}")
    initializer: PartSpec = Field("auto", description="auto = by activation")
    batch_norm: bool = False
    dropout: float = Field(0.0, ge=0, lt=1)
    layers: list[PartSpec] | None = Field(None, description="long form: the hidden layers as layer specs")
    bitwise: BitwiseSpec | None = Field(None, description="a bitwise network (true, or its stage options)")

    @field_validator("bitwise", mode="before")
    @classmethod
    def _bitwise_on_off(cls, v: Any) -> Any:
        return {} if v is True else None if v is False else v

    @field_validator("activation")
    @classmethod
    def _activation(cls, v: Any) -> Any:
        return check_part("activation", v)

    @field_validator("initializer")
    @classmethod
    def _initializer(cls, v: Any) -> Any:
        return v if v == "auto" else check_part("initializer", v)

    @field_validator("layers")
    @classmethod
    def _layers(cls, v: list | None) -> list | None:
        return None if v is None else [check_part("layer", spec, str(i)) for i, spec in enumerate(v)]

    @model_validator(mode="after")
    def _bitwise(self) -> ModelSpec:
        if self.bitwise is None and "bitwise_dense" in layer_names(self.layers):
            self.bitwise = BitwiseSpec()  # a bitwise_dense layer makes the network bitwise, with the defaults
        if self.bitwise is not None:
            check_bitwise_model(self)
            self.activation = "tanh"  # what it trains with, so the resolved spec (config.yaml) says so
        return self

    @model_validator(mode="after")
    def _shape(self) -> ModelSpec:
        given = self.model_fields_set
        if self.layers:  # long form wins; the short-form sizes are cleared so nobody reads them
            for key in ("hidden_layers", "neurons"):
                if key in given and getattr(self, key) is not None:
                    raise PathError(key, f"use either layers (long form) or hidden_layers/neurons "
                                          f"(short form), not both; remove model.{key} or model.layers")
            self.hidden_layers = self.neurons = None
            return self
        if self.layers == [] and not {"hidden_layers", "neurons"} & given:
            self.hidden_layers = 0  # "layers: []" asks for no hidden layer at all
        self.layers = None
        if self.neurons is None:
            raise PathError("neurons", "must be an integer >= 1 or a list of them (null only with layers)")
        if isinstance(self.neurons, list):
            n = len(self.neurons)
            if "hidden_layers" in given and self.hidden_layers is not None and self.hidden_layers != n:
                raise PathError("hidden_layers", f"is {self.hidden_layers} but neurons lists {n} widths; "
                                                  f"set hidden_layers: {n} or omit it")
            self.hidden_layers = n
        elif self.hidden_layers is None:
            self.hidden_layers = type(self).model_fields["hidden_layers"].default
        return self


class EarlyStoppingSpec(_Section):
    patience: Annotated[int, Ge(0)] = 10
    min_delta: float = Field(0.0, ge=0)
    monitor: str = "val_loss"
    restore_best: bool = True

    @field_validator("monitor")
    @classmethod
    def _monitor(cls, v: str) -> str:
        if v not in MONITORS:
            did = hint(did_you_mean(v, MONITORS))
            raise ValueError(f"unknown monitor {v!r}{did}; valid: {', '.join(MONITORS)}")
        return v


class DiagnosticsSpec(_Section):
    every: PosInt | Literal["auto"] = Field("auto", description="measure every N epochs; auto: within 5% of the time")
    probe_rows: PosInt = Field(512, description="training rows in the fixed probe batch")


class TrainingSpec(_Section):
    epochs: PosInt = 50
    batch_size: PosInt | Literal["full"] = Field(32, description='rows per batch, or "full" (plain GD)')
    tolerance: Annotated[float, Gt(0)] | None = Field(None, description="stop when the gradient norm < this")
    early_stopping: EarlyStoppingSpec | None = None
    l2: float = Field(0.0, ge=0)
    dtype: Literal["float32", "float64"] = "float32"
    threads: PosInt | None = Field(None, description="BLAS threads; null = the library default")
    diagnostics: DiagnosticsSpec | None = Field(default_factory=DiagnosticsSpec,
                                                description="per-layer measurements; false turns them off")

    @field_validator("early_stopping", "diagnostics", mode="before")
    @classmethod
    def _on_off(cls, v: Any) -> Any:
        return {} if v is True else None if v is False else v  # "early_stopping: true" = the defaults


class Spec(_Section):
    """The whole spec (README.md, "The spec")."""

    name: str = Field("run", description="run-name prefix: letters, digits, - and _")
    seed: Annotated[int, Ge(0)] = 0
    data: DataSpec = Field(default_factory=DataSpec)
    task: Literal["auto", "classification", "regression"] = "auto"
    model: ModelSpec = Field(default_factory=ModelSpec)
    loss: PartSpec = Field("auto", description="auto = cross_entropy / mse by task")
    optimizer: dict[str, Any] = Field(default_factory=lambda: {"name": DEFAULT_OPTIMIZER})
    schedule: dict[str, Any] = Field(default_factory=lambda: {"name": DEFAULT_SCHEDULE})
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    metrics: Literal["auto"] | list[str] = Field("auto", description="auto = all that fit the task")
    sweep: dict[str, Any] | None = Field(None, description="read by `mlrun sweep` only")
    baselines: list[str | dict[str, Any]] | None = Field(
        None, description="scikit-learn estimators fitted beside the network: names or {name, params, multiclass}")

    @field_validator("name", mode="before")
    @classmethod
    def _number_name(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v  # name: 2024

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME_PATTERN.match(v):
            raise ValueError(f"only letters, digits, '-' and '_' are allowed (it prefixes run directories); "
                             f"got {v!r}; try {sanitize_name(v)!r}")
        return v

    @field_validator("loss")
    @classmethod
    def _loss(cls, v: Any) -> Any:
        return v if v == "auto" else check_part("loss", v)

    @field_validator("optimizer", mode="before")
    @classmethod
    def _optimizer_mapping(cls, v: Any) -> Any:
        return as_mapping(v, DEFAULT_OPTIMIZER)

    @field_validator("optimizer")
    @classmethod
    def _optimizer(cls, v: dict) -> dict:
        spec = check_part("optimizer", v)
        default = registry.parameters("optimizer", spec["name"])["learning_rate"].default
        lr = spec.get("learning_rate", default)
        return {"name": spec["name"], "learning_rate": lr, **spec}  # learning_rate filled, second

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule_mapping(cls, v: Any) -> Any:
        return as_mapping(v, DEFAULT_SCHEDULE)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: dict) -> dict:
        return check_part("schedule", v)

    @field_validator("metrics", mode="before")
    @classmethod
    def _one_metric(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) and v != "auto" else v

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, v: Any) -> Any:
        for i, m in enumerate([] if v == "auto" else v):
            if m not in METRICS:
                did = hint(did_you_mean(m, METRICS))
                raise PathError(str(i), f"unknown metric {m!r}{did}; valid: {', '.join(METRICS)}")
        return v if v == "auto" else list(dict.fromkeys(v))

    @model_validator(mode="after")
    def _cross_checks(self) -> Spec:
        _check_validation_needed(self)
        if self.task != "auto" and self.metrics != "auto":
            fit = CLASSIFICATION_METRICS if self.task == "classification" else REGRESSION_METRICS
            wrong = [m for m in self.metrics if m not in fit]
            if wrong:
                raise PathError("metrics", f"{', '.join(wrong)} do not apply to task {self.task}; "
                                            f"valid for it: {', '.join(fit)}")
        return self


def _check_validation_needed(spec: Spec) -> None:
    """With validation_size 0 there is no validation loss: nothing may monitor one."""
    if spec.data.validation_size > 0:
        return
    stop = spec.training.early_stopping
    if stop is not None and stop.monitor.startswith("val_"):
        raise PathError("training.early_stopping.monitor", f"monitors {stop.monitor!r} but data."
                         "validation_size is 0; set data.validation_size > 0 (e.g. 0.1) or monitor: loss")
    monitor = spec.schedule.get("monitor", "val_loss")
    if spec.schedule["name"] == "plateau" and str(monitor).startswith("val_"):
        raise PathError("schedule", f"plateau watches {monitor!r} but data.validation_size is 0; "
                         "set data.validation_size > 0 or schedule.monitor: train_loss")
