"""Loading a spec: a YAML path, a dict or a Config in, a validated ``Config`` out (README.md, "The spec").

    cfg = load_config("spec.yaml", overrides=["optimizer.learning_rate=1e-2"])   # or a dict, or a Config
    cfg.model.activation, cfg.training.epochs, cfg.optimizer["name"], cfg.warnings
    cfg.to_dict()  -> the resolved spec (defaults filled, ``auto`` kept);  flatten(...) -> dotted params

Every problem is a ``ConfigError`` of one line naming the key path, what was received and a fix.
"""

from __future__ import annotations

import copy
import inspect
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mlrun import registry
from mlrun.spec.errors import ConfigError, PathError
from mlrun.spec.finite import check_finite
from mlrun.spec.messages import translate
from mlrun.spec.models import PART_KEYS, Spec
from mlrun.spec.names import sanitize_name
from mlrun.spec.parts import with_defaults
from mlrun.spec.yaml_text import apply_override, read_spec


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

    def to_dict(self, part_defaults: bool = True) -> dict:
        """The resolved spec as plain JSON/YAML-safe data (every default filled in, ``auto`` kept): what
        config.yaml and ``validate --show`` hold. Each part (activation, initializer, loss, optimizer,
        schedule, the long form's layers) lists all its parameters, defaults included, so the spec
        replays the run when a default changes; ``part_defaults=False``: the parts as given."""
        spec = self._spec.model_dump(mode="json")
        if spec.get("baselines") is None:  # opt-in: a spec without baselines writes what it always wrote
            spec.pop("baselines", None)
        for key in ("test_path", "split_column"):  # likewise a published split
            if spec["data"].get(key) is None:
                spec["data"].pop(key, None)
        return fill_part_defaults(spec) if part_defaults else spec

    def replace(self, overrides: typing.Iterable[str] = ()) -> Config:
        """A new Config with ``overrides`` applied to the parts as given (``optimizer.name=sgd`` carries no
        nadam defaults over)."""
        return load_config(self, overrides)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Config(name={self.name!r}, source={str(self.source) if self.source else None!r})"


def _read_source(source: Any) -> tuple[dict, Path | None]:
    if isinstance(source, Config):
        return source.to_dict(part_defaults=False), source.source
    if isinstance(source, (str, Path)):
        return read_spec(source), Path(source)
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source)), None
    raise ConfigError(f"a spec is a YAML file path, a mapping or a Config; got {type(source).__name__}")


DATA_FILES = ("path", "test_path")  # the data section's file keys


def _resolve_csv_path(raw: dict, base: Path) -> None:
    data = raw.get("data")
    for key in DATA_FILES:
        if isinstance(data, dict) and isinstance(data.get(key), str):
            path = Path(data[key]).expanduser()
            data[key] = str(path if path.is_absolute() else (base / path).resolve())


def load_config(source: Any, overrides: typing.Iterable[str] = ()) -> Config:
    """Read, override, validate: a YAML path, a dict or a Config -> Config (or ConfigError)."""
    raw, path = _read_source(source)
    keys = [apply_override(raw, text) for text in ([overrides] if isinstance(overrides, str) else overrides)]
    if "name" not in raw:
        raw["name"] = sanitize_name(path.stem) if path else "run"
    # a csv path is relative to the spec's folder; one typed on the command line, to the current folder
    from_cli = any(k in ("data", "data.path", "data.test_path") for k in keys)
    _resolve_csv_path(raw, path.parent if path and not from_cli else Path.cwd())
    check_finite(raw)
    try:
        spec = Spec.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(translate(exc, raw)) from None
    except PathError as exc:  # raised outside pydantic's wrapping (defensive)
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
    if spec.data.dataset not in ("csv", "sequence"):
        out += [f"data.{k} is ignored unless data.dataset is csv" for k in ("path", "target")
                if getattr(spec.data, k) is not None]
    ignored = [k for k in ("activation", "batch_norm", "dropout")
               if getattr(model, k) != type(model).model_fields[k].default]
    if model.layers and ignored:
        out.append(f"model.layers is given: model.{', model.'.join(ignored)} (short form) are ignored")
    return out


def fill_part_defaults(spec: dict) -> dict:
    """``spec`` (a dumped spec, changed in place and returned) with every part's parameters filled in."""
    for path, kind in PART_KEYS.items():
        section, _, key = path.rpartition(".")
        holder = spec.get(section) if section else spec
        if isinstance(holder, dict) and holder.get(key) not in (None, "auto"):
            holder[key] = with_defaults(kind, holder[key])
    model = spec.get("model")
    if isinstance(model, dict) and model.get("layers"):
        model["layers"] = [with_defaults("layer", layer) for layer in model["layers"]]
    return spec


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
