"""The spec: YAML in, a validated ``Config`` out (DESIGN.md section 3).

    cfg = load_config("spec.yaml", overrides=["optimizer.learning_rate=1e-2"])   # or a dict, or a Config
    cfg.model.activation, cfg.training.epochs, cfg.optimizer["name"], cfg.warnings
    cfg.to_dict()  -> the resolved spec (defaults filled, ``auto`` kept);  flatten(...) -> dotted params

Every problem is a ``ConfigError`` of one line naming the key path, what was received and a fix.
Part specs (activation, initializer, loss, optimizer, schedule, layer) are checked by the registry, so
a newly registered part needs no schema change here.

Here: the constants, the pydantic models, ``Config`` and ``load_config``. Reading YAML and applying
``--set`` overrides is ``spec_yaml``; turning pydantic's errors into the one-line message is
``spec_errors``; the JSON Schema is ``spec_schema``.
"""

from __future__ import annotations

import copy
import difflib
import inspect
import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mlrun import registry
from mlrun.data.sources import DATASETS
from mlrun.metrics.names import CLASSIFICATION_METRICS, METRICS, REGRESSION_METRICS
from mlrun.runs.directory import sanitize_name
from mlrun.spec.errors import ConfigError
from mlrun.spec.yaml_text import apply_override, read_spec

MONITORS = ("loss", "train_loss", "val_loss", *(f"val_{m}" for m in METRICS if m != "confusion_matrix"))
# where a part spec sits in the resolved spec (flatten turns these into "key" = name, "key.param" = value)
PART_KEYS = {
    "model.activation": "activation", "model.initializer": "initializer",
    "loss": "loss", "optimizer": "optimizer", "schedule": "schedule",
}
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


# -- parts -------------------------------------------------------------------------------------------
class _PathError(ValueError):
    """A validator's error for a sub-key (joined to pydantic's location by the translator)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def join_path(*keys: Any) -> str:
    return ".".join(str(k) for k in keys if k != "")


def _nested_kind(param: str) -> str | None:
    """A layer's parameter that is itself a part spec: ``activation``, ``initializer``, ``*_initializer``."""
    for kind in ("activation", "initializer"):
        if param == kind or param.endswith("_" + kind):
            return kind
    return None


def check_part(kind: str, spec: Any, key: str = "") -> Any:
    """Validate a part spec by the registry and by building it once; return it normalised.

    A name stays a name; a mapping becomes {name, coerced params}. Errors carry the key path.
    """
    try:
        name, params = registry.validate(kind, spec)
    except registry.RegistryError as exc:
        raise _PathError(key, str(exc)) from None
    for pname, value in params.items():
        sub = _nested_kind(pname)
        if sub and value is not None and value != "auto":
            params[pname] = check_part(sub, value, join_path(key, pname))
    accepted = registry.parameters(kind, name)
    empty = inspect.Parameter.empty
    missing = [p for p, info in accepted.items() if info.default is empty and p not in params]
    if missing:
        raise _PathError(key, f"{kind} {name!r} needs {', '.join(missing)}; it takes: {', '.join(accepted)}")
    try:
        registry.build(kind, {"name": name, **params})  # constructor-level ranges surface now
    except registry.RegistryError as exc:
        raise _PathError(key, str(exc)) from None
    return name if isinstance(spec, str) else {"name": name, **params}


def _as_mapping(value: Any, default_name: str) -> Any:
    """optimizer/schedule: a bare name, a mapping without a name, or null -> {name: ..., ...}."""
    if value is None:
        return {"name": default_name}
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, Mapping):
        return {"name": default_name, **value} if "name" not in value else dict(value)
    return value


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
    scale: Literal["standard", "minmax", "none"] = "standard"
    split_seed: Annotated[int, Ge(0)] | None = None
    positive_class: str | bool | int | float | None = None

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, v: str) -> str:
        if v not in DATASETS:
            hint = difflib.get_close_matches(v, DATASETS, n=1)
            did = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ValueError(f"unknown dataset {v!r}{did}; only these offline datasets/generators are "
                             f"supported (no network downloads): {', '.join(DATASETS)}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> DataSpec:
        if self.test_size + self.validation_size >= 1:
            raise _PathError("validation_size", f"test_size + validation_size must be < 1 (something "
                             f"must be left to train on); got {self.test_size} + {self.validation_size}")
        if self.dataset == "csv":
            for key in ("path", "target"):
                if getattr(self, key) is None:
                    raise _PathError(key, f"dataset csv needs data.{key} (path: the CSV file, "
                                          "target: its label column)")
            if not Path(self.path).is_file():
                raise _PathError("path", f"CSV file not found: {self.path}")
        elif self.params:
            _check_dataset_params(self.dataset, self.params)
        return self


def _check_dataset_params(dataset: str, params: dict) -> None:
    import sklearn.datasets  # only when params are given: keeps `mlrun validate` fast otherwise

    fn = getattr(sklearn.datasets, dataset if dataset.startswith("make_") else f"load_{dataset}")
    accepted = [p for p in inspect.signature(fn).parameters
                if p not in ("return_X_y", "as_frame", "data_home")]
    for key in params:  # random_state is allowed: it pins a generator's data across seeds
        if key not in accepted:
            hint = difflib.get_close_matches(str(key), accepted, n=1)
            did = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise _PathError(f"params.{key}", f"{dataset} has no parameter {key!r}{did}; it takes: "
                                               f"{', '.join(accepted) or 'nothing'}")


class ModelSpec(_Section):
    hidden_layers: Annotated[int, Ge(0)] | None = Field(2, description="short form: number of hidden layers")
    neurons: PosInt | list[PosInt] | None = Field(64, description="width, or one width per hidden layer")
    activation: PartSpec = Field("elu", description="activation name or {name: ..., params}")
    initializer: PartSpec = Field("auto", description="auto = by activation")
    batch_norm: bool = False
    dropout: float = Field(0.0, ge=0, lt=1)
    layers: list[PartSpec] | None = Field(None, description="long form: the hidden layers as layer specs")

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
    def _shape(self) -> ModelSpec:
        given = self.model_fields_set
        if self.layers:  # long form wins; the short-form sizes are cleared so nobody reads them
            for key in ("hidden_layers", "neurons"):
                if key in given and getattr(self, key) is not None:
                    raise _PathError(key, f"use either layers (long form) or hidden_layers/neurons "
                                          f"(short form), not both; remove model.{key} or model.layers")
            self.hidden_layers = self.neurons = None
            return self
        if self.layers == [] and not {"hidden_layers", "neurons"} & given:
            self.hidden_layers = 0  # "layers: []" asks for no hidden layer at all
        self.layers = None
        if self.neurons is None:
            raise _PathError("neurons", "must be an integer >= 1 or a list of them (null only with layers)")
        if isinstance(self.neurons, list):
            n = len(self.neurons)
            if "hidden_layers" in given and self.hidden_layers is not None and self.hidden_layers != n:
                raise _PathError("hidden_layers", f"is {self.hidden_layers} but neurons lists {n} widths; "
                                                  f"set hidden_layers: {n} or omit it")
            self.hidden_layers = n
        elif self.hidden_layers is None:
            self.hidden_layers = 2
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
            hint = difflib.get_close_matches(v, MONITORS, n=1)
            did = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ValueError(f"unknown monitor {v!r}{did}; valid: {', '.join(MONITORS)}")
        return v


class TrainingSpec(_Section):
    epochs: PosInt = 50
    batch_size: PosInt | Literal["full"] = Field(32, description='rows per batch, or "full" (plain GD)')
    tolerance: Annotated[float, Gt(0)] | None = Field(None, description="stop when the gradient norm < this")
    early_stopping: EarlyStoppingSpec | None = None
    l2: float = Field(0.0, ge=0)
    dtype: Literal["float32", "float64"] = "float32"
    threads: PosInt | None = Field(None, description="BLAS threads; null = the library default")

    @field_validator("early_stopping", mode="before")
    @classmethod
    def _on_off(cls, v: Any) -> Any:
        return {} if v is True else None if v is False else v  # "early_stopping: true" = the defaults


class Spec(_Section):
    """The whole spec (DESIGN.md section 3)."""

    name: str = Field("run", description="run-name prefix: letters, digits, - and _")
    seed: Annotated[int, Ge(0)] = 0
    data: DataSpec = Field(default_factory=DataSpec)
    task: Literal["auto", "classification", "regression"] = "auto"
    model: ModelSpec = Field(default_factory=ModelSpec)
    loss: PartSpec = Field("auto", description="auto = cross_entropy / mse by task")
    optimizer: dict[str, Any] = Field(default_factory=lambda: {"name": "nadam"})
    schedule: dict[str, Any] = Field(default_factory=lambda: {"name": "constant"})
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    metrics: Literal["auto"] | list[str] = Field("auto", description="auto = all that fit the task")
    sweep: dict[str, Any] | None = Field(None, description="read by `mlrun sweep` only")

    @field_validator("name", mode="before")
    @classmethod
    def _number_name(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v  # name: 2024

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
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
        return _as_mapping(v, "nadam")

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
        return _as_mapping(v, "constant")

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
                hint = difflib.get_close_matches(m, METRICS, n=1)
                did = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise _PathError(str(i), f"unknown metric {m!r}{did}; valid: {', '.join(METRICS)}")
        return v if v == "auto" else list(dict.fromkeys(v))

    @model_validator(mode="after")
    def _cross_checks(self) -> Spec:
        _check_validation_needed(self)
        if self.task != "auto" and self.metrics != "auto":
            fit = CLASSIFICATION_METRICS if self.task == "classification" else REGRESSION_METRICS
            wrong = [m for m in self.metrics if m not in fit]
            if wrong:
                raise _PathError("metrics", f"{', '.join(wrong)} do not apply to task {self.task}; "
                                            f"valid for it: {', '.join(fit)}")
        return self


def _check_validation_needed(spec: Spec) -> None:
    """With validation_size 0 there is no validation loss: nothing may monitor one."""
    if spec.data.validation_size > 0:
        return
    stop = spec.training.early_stopping
    if stop is not None and stop.monitor.startswith("val_"):
        raise _PathError("training.early_stopping.monitor", f"monitors {stop.monitor!r} but data."
                         "validation_size is 0; set data.validation_size > 0 (e.g. 0.1) or monitor: loss")
    monitor = spec.schedule.get("monitor", "val_loss")
    if spec.schedule["name"] == "plateau" and str(monitor).startswith("val_"):
        raise _PathError("schedule", f"plateau watches {monitor!r} but data.validation_size is 0; "
                         "set data.validation_size > 0 or schedule.monitor: train_loss")


# -- the Config object --------------------------------------------------------------------------------
class Config:
    """A validated spec: sections as attributes (``cfg.model.activation``), ``to_dict()``, ``replace()``.

    ``cfg.optimizer`` and ``cfg.schedule`` are part specs as dicts with a ``name``.
    """

    def __init__(self, spec: Spec, source: Path | None = None, warnings: typing.Iterable[str] = ()) -> None:
        self._spec = spec
        self.source = source
        self.warnings = list(warnings)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._spec, name)

    def to_dict(self) -> dict:
        """The resolved spec as plain JSON/YAML-safe data (every default filled in, ``auto`` kept)."""
        return self._spec.model_dump(mode="json")

    def replace(self, overrides: typing.Iterable[str] = ()) -> Config:
        return load_config(self, overrides)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Config(name={self.name!r}, source={str(self.source) if self.source else None!r})"


def _read_source(source: Any) -> tuple[dict, Path | None]:
    if isinstance(source, Config):
        return source.to_dict(), source.source
    if isinstance(source, (str, Path)):
        return read_spec(source), Path(source)
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source)), None
    raise ConfigError(f"a spec is a YAML file path, a mapping or a Config; got {type(source).__name__}")


def _resolve_csv_path(raw: dict, base: Path) -> None:
    data = raw.get("data")
    if isinstance(data, dict) and isinstance(data.get("path"), str):
        path = Path(data["path"]).expanduser()
        data["path"] = str(path if path.is_absolute() else (base / path).resolve())


def load_config(source: Any, overrides: typing.Iterable[str] = ()) -> Config:
    """Read, override, validate: a YAML path, a dict or a Config -> Config (or ConfigError)."""
    raw, path = _read_source(source)
    keys = [apply_override(raw, text) for text in ([overrides] if isinstance(overrides, str) else overrides)]
    if "name" not in raw:
        raw["name"] = sanitize_name(path.stem) if path else "run"
    # a csv path is relative to the spec's folder; one typed on the command line, to the current folder
    from_cli = any(k in ("data", "data.path") for k in keys)
    _resolve_csv_path(raw, path.parent if path and not from_cli else Path.cwd())
    try:
        spec = Spec.model_validate(raw)
    except ValidationError as exc:
        from mlrun.spec.messages import _translate  # not at the top: spec_errors imports Spec from this module

        raise ConfigError(_translate(exc, raw)) from None
    except _PathError as exc:  # raised outside pydantic's wrapping (defensive)
        raise ConfigError(f"{exc.key}: {exc}") from None
    return Config(spec, source=path, warnings=_warnings(spec))


def _warnings(spec: Spec) -> list[str]:
    """Legal but probably unintended combinations."""
    out = []
    model = spec.model
    layer_names = [registry.split_spec("layer", s)[0] for s in model.layers or ()]
    acts = [registry.split_spec("activation", model.activation)[0]] if not model.layers else [
        registry.split_spec("activation", s.get("activation", ""))[0] if isinstance(s, dict) else ""
        for s in model.layers]
    if "selu" in acts:
        if spec.data.scale != "standard":
            out.append(f"model.activation: selu self-normalises only with standardised inputs; "
                       f"data.scale is {spec.data.scale!r} (use standard)")
        if model.batch_norm or "batch_norm" in layer_names:
            out.append("model.batch_norm: batch normalisation breaks selu's self-normalisation; "
                       "use selu without it, or another activation")
    if spec.data.dataset != "csv":
        out += [f"data.{k} is ignored unless data.dataset is csv" for k in ("path", "target")
                if getattr(spec.data, k) is not None]
    ignored = [k for k, default in (("activation", "elu"), ("batch_norm", False), ("dropout", 0.0))
               if getattr(model, k) != default]
    if model.layers and ignored:
        out.append(f"model.layers is given: model.{', model.'.join(ignored)} (short form) are ignored")
    return out


# -- flat params -----------------------------------------------------------------------------------
def flatten(d: Mapping, prefix: str = "") -> dict:
    """Dotted keys for run.json params and compare: {"model.activation": "elu", "model.activation.alpha": 1}.

    Sections become "section.key"; a part spec at key k becomes k = name and "k.param" = value, with the
    part's own defaults filled in so equal settings compare equal; lists stay lists.
    """
    out: dict = {}
    for key, value in d.items():
        path = f"{prefix}{key}"
        if path in PART_KEYS and value != "auto" and isinstance(value, (str, Mapping)):
            out.update(_flatten_part(PART_KEYS[path], path, value))
        elif isinstance(value, Mapping) and value:
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def _flatten_part(kind: str, path: str, spec: Any) -> dict:
    name, given = registry.split_spec(kind, spec)
    try:
        defaults = {p: info.default for p, info in registry.parameters(kind, name).items()
                    if info.default is not inspect.Parameter.empty}
    except registry.RegistryError:
        defaults = {}
    values = {**defaults, **given}
    return {path: name, **{f"{path}.{p}": list(v) if isinstance(v, tuple) else v for p, v in values.items()}}
