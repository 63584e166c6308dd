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

from annotated_types import Gt
from pydantic import ConfigDict, Field, field_validator, model_validator

from mlrun import registry
from mlrun.data.names import DATASETS, LOADERS, MNIST1D_DEFAULTS, SCALERS, SEQUENCE_PARAMS
from mlrun.hints import did_you_mean, hint
from mlrun.metrics.names import CLASSIFICATION_METRICS, METRICS, REGRESSION_METRICS, monitors
from mlrun.spec.bitwise_rules import check_bitwise_model, layer_names
from mlrun.spec.errors import PathError
from mlrun.spec.model_options import BitwiseSpec, MTPSpec
from mlrun.spec.monitors import check_monitors
from mlrun.spec.names import NAME_PATTERN, sanitize_name
from mlrun.spec.parts import Part
from mlrun.spec.section import Count, PartSpec, PosInt, Section, whole_number
from mlrun.spec.sequence import check_mtp, check_sequence_params

MONITORS = monitors()  # every name logged each epoch for some task (which for a spec: spec.monitors)
_NAMED = (*MONITORS, *(f"val_{m}" for m in METRICS))  # known names: the rest get a "did you mean"
DEFAULT_OPTIMIZER, DEFAULT_SCHEDULE = "nadam", "constant"  # also when a mapping gives no name
# where a part spec sits in the resolved spec (flatten turns these into "key" = name, "key.param" = value)
PART_KEYS = {
    "model.activation": "activation", "model.initializer": "initializer",
    "loss": "loss", "optimizer": "optimizer", "schedule": "schedule",
}


class DataSpec(Section):
    dataset: str = Field("digits", description="offline dataset, generator, or csv",
                         json_schema_extra={"enum": list(DATASETS)})
    params: dict[str, Any] = Field(default_factory=dict, description="generator/loader arguments")
    path: str | None = Field(None, description="csv only: file with a header row")
    target: str | list[str] | None = Field(None, description="csv only: label column(s)")
    test_size: float = Field(0.2, gt=0, lt=1, description="fraction of all rows, taken first")
    validation_size: float = Field(0.1, ge=0, lt=1, description="fraction of all rows; 0 = no validation")
    stratify: bool = True
    scale: Literal[SCALERS] = "standard"
    split_seed: Count | None = None
    positive_class: str | bool | int | float | None = None
    test_path: str | None = Field(None, description="csv only: a second file with the same columns, holding "
                                  "the test rows (a published split)")
    split_column: str | None = Field(None, description="csv only: a column naming each row's split: train, "
                                     "validation or test (a published split)")

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
            if not Path(self.path).is_file():  # a folder, FIFO or device exists but is no CSV file
                why = "is not a regular file (a folder, FIFO or device)" if Path(self.path).exists() else "not found"
                raise PathError("path", f"CSV file {why}: {self.path}")
            _check_published(self)
        elif self.test_path is not None or self.split_column is not None:
            key = "test_path" if self.test_path is not None else "split_column"
            raise PathError(key, f"data.{key} applies to dataset csv only (a published split of your file)")
        elif self.dataset == "sequence":
            check_sequence_params(self.params, self.path)
        elif self.params:
            _check_dataset_params(self.dataset, self.params)
        return self


def _check_published(data: DataSpec) -> None:
    if data.test_path is not None and not Path(data.test_path).is_file():
        raise PathError("test_path", f"test file not found: {data.test_path}")
    targets = [data.target] if isinstance(data.target, str) else data.target
    if data.split_column is not None and data.split_column in targets:
        raise PathError("split_column", f"the split column '{data.split_column}' is also data.target; name "
                                        "the column that says train, validation or test")


def dataset_parameters(dataset: str) -> list[str]:
    """What ``data.params`` may hold for a dataset other than csv (the schema lists the same)."""
    if dataset == "mnist1d":  # mlrun's own generator: its parameters, and split: random | fixed
        return ["split", *MNIST1D_DEFAULTS]
    if dataset == "sequence":  # data/sequence.py: checked further by spec/sequence.py
        return list(SEQUENCE_PARAMS)
    import sklearn.datasets  # only when params are given: keeps `mlrun validate` fast otherwise

    fn = getattr(sklearn.datasets, LOADERS[dataset][0] if dataset in LOADERS else dataset)
    return [p for p in inspect.signature(fn).parameters if p not in ("return_X_y", "as_frame", "data_home")]


def _check_dataset_params(dataset: str, params: dict) -> None:
    accepted = dataset_parameters(dataset)
    for key in params:  # random_state is allowed: it pins a generator's data across seeds
        if key not in accepted:
            did = hint(did_you_mean(key, accepted))
            raise PathError(f"params.{key}", f"{dataset} has no parameter {key!r}{did}; it takes: "
                                               f"{', '.join(accepted) or 'nothing'}")


class ModelSpec(Section):
    hidden_layers: Count | None = Field(2, description="short form: number of hidden layers")
    neurons: PosInt | list[PosInt] | None = Field(64, description="width, or one width per hidden layer")
    activation: Annotated[PartSpec, Part("activation")] = Field(
        "elu", description="activation name or {name: ..., params}")
    initializer: Annotated[PartSpec, Part("initializer", auto=True)] = Field(
        "auto", description="auto = by activation")
    batch_norm: bool = False
    dropout: float = Field(0.0, ge=0, lt=1)
    layers: list[Annotated[PartSpec, Part("layer")]] | None = Field(
        None, description="long form: the hidden layers as layer specs")
    mtp: MTPSpec | None = Field(None, description="multi-token prediction heads (dataset sequence only)")
    bitwise: BitwiseSpec | None = Field(None, description="a bitwise network (true, or its stage options)")

    @field_validator("bitwise", mode="before", json_schema_input_type=bool | BitwiseSpec | None)
    @classmethod
    def _bitwise_on_off(cls, v: Any) -> Any:
        return {} if v is True else None if v is False else v

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


class EarlyStoppingSpec(Section):
    patience: Count = 10
    min_delta: float = Field(0.0, ge=0)
    monitor: str = Field("val_loss", json_schema_extra={"enum": list(MONITORS)})
    restore_best: bool = True

    @field_validator("monitor")
    @classmethod
    def _monitor(cls, v: str) -> str:
        if v not in _NAMED:
            did = hint(did_you_mean(v, MONITORS))
            raise ValueError(f"unknown monitor {v!r}{did}; valid: {', '.join(MONITORS)}")
        return v


class DiagnosticsSpec(Section):
    every: PosInt | Literal["auto"] = Field("auto", description="measure every N epochs; auto: within 5% of the time")
    probe_rows: PosInt = Field(512, description="training rows in the fixed probe batch")


class TrainingSpec(Section):
    epochs: PosInt = 50
    batch_size: PosInt | Literal["full"] = Field(32, description='rows per batch, or "full" (plain GD)')
    tolerance: Annotated[float, Gt(0)] | None = Field(None, description="stop when the gradient norm < this")
    early_stopping: EarlyStoppingSpec | None = None
    l2: float = Field(0.0, ge=0)
    dtype: Literal["float32", "float64"] = "float32"
    threads: PosInt | None = Field(None, description="BLAS threads; null = the library default")
    diagnostics: DiagnosticsSpec | None = Field(default_factory=DiagnosticsSpec,
                                                description="per-layer measurements; false turns them off")

    @field_validator("early_stopping", mode="before", json_schema_input_type=EarlyStoppingSpec | bool | None)
    @classmethod
    def _early_stopping(cls, v: Any) -> Any:
        return _on_off(v)

    @field_validator("diagnostics", mode="before", json_schema_input_type=DiagnosticsSpec | bool | None)
    @classmethod
    def _diagnostics(cls, v: Any) -> Any:
        return _on_off(v)


def _on_off(v: Any) -> Any:
    return {} if v is True else None if v is False else v  # "early_stopping: true" = the defaults


class Spec(Section):
    """The whole spec (README.md, "The spec")."""

    model_config = ConfigDict(json_schema_extra=None)  # the spec itself is a mapping, never null

    name: str = Field("run", description="run-name prefix: letters, digits, - and _",
                      json_schema_extra={"pattern": NAME_PATTERN.pattern})
    seed: Count = 0
    data: DataSpec = Field(default_factory=DataSpec)
    task: Literal["auto", "classification", "regression"] = "auto"
    model: ModelSpec = Field(default_factory=ModelSpec)
    loss: Annotated[PartSpec, Part("loss", auto=True)] = Field("auto", description="auto = cross_entropy / mse by task")
    optimizer: Annotated[dict[str, Any], Part("optimizer", default=DEFAULT_OPTIMIZER)] = Field(
        default_factory=lambda: {"name": DEFAULT_OPTIMIZER})
    schedule: Annotated[dict[str, Any], Part("schedule", default=DEFAULT_SCHEDULE)] = Field(
        default_factory=lambda: {"name": DEFAULT_SCHEDULE})
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    metrics: Literal["auto"] | list[str] = Field("auto", description="auto = all that fit the task")
    sweep: dict[str, Any] | None = Field(None, description="read by `mlrun sweep` only")
    baselines: list[str | dict[str, Any]] | None = Field(
        None, description="scikit-learn estimators fitted beside the network: names or {name, params, multiclass}")

    @field_validator("name", mode="before", json_schema_input_type=str | int)
    @classmethod
    def _number_name(cls, v: Any) -> Any:
        return str(whole_number(v)) if isinstance(whole_number(v), int) and not isinstance(v, bool) else v  # name: 2024

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME_PATTERN.match(v):
            raise ValueError(f"only letters, digits, '-' and '_' are allowed (it prefixes run directories); "
                             f"got {v!r}; try {sanitize_name(v)!r}")
        return v

    @field_validator("optimizer")
    @classmethod
    def _optimizer(cls, spec: dict) -> dict:
        default = registry.parameters("optimizer", spec["name"])["learning_rate"].default
        lr = spec.get("learning_rate", default)
        return {"name": spec["name"], "learning_rate": lr, **spec}  # learning_rate filled, second

    @field_validator("metrics", mode="before",
                     json_schema_input_type=Literal[("auto", *METRICS)] | list[Literal[METRICS]])
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
        check_mtp(self)
        check_monitors(self)
        if self.task != "auto" and self.metrics != "auto":
            fit = CLASSIFICATION_METRICS if self.task == "classification" else REGRESSION_METRICS
            wrong = [m for m in self.metrics if m not in fit]
            if wrong:
                raise PathError("metrics", f"{', '.join(wrong)} do not apply to task {self.task}; "
                                            f"valid for it: {', '.join(fit)}")
        return self
