"""One registry per kind of part: names -> classes, filled by the ``@register`` decorator.

A spec is a name (``"adam"``) or a mapping ``{"name": "adam", "learning_rate": 0.01}``; its keys are
the class's constructor arguments, so ``cls(**params)`` rebuilds any part from a saved config.
``names()`` and ``build()`` import the part modules on first use, so importing this module alone
sees every part.
"""

from __future__ import annotations

import importlib
import inspect
import types
import typing
from collections.abc import Mapping
from typing import Any

from mlrun.hints import did_you_mean, hint

KINDS = ("activation", "initializer", "layer", "loss", "optimizer", "schedule")
_PART_MODULES = (
    "mlrun.nn.activations",
    "mlrun.nn.initializers",
    "mlrun.nn.layers",
    "mlrun.nn.losses",
    "mlrun.optim.optimizers",
    "mlrun.optim.schedules",
    "mlrun.optim.cycles",
)
_REGISTRIES: dict[str, dict[str, type]] = {kind: {} for kind in KINDS}
_loaded = False


class RegistryError(ValueError):
    """An unknown kind, name or parameter, or a parameter of the wrong type; the message is for users."""


def register(kind: str, name: str | None = None):
    """Class decorator: ``@register("optimizer", "adam")`` makes ``build("optimizer", "adam")`` work."""
    if kind not in _REGISTRIES:
        raise RegistryError(f"unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}")

    def decorate(cls):
        part_name = name or cls.__name__.lower()
        cls.registry_kind = kind
        cls.registry_name = part_name
        _REGISTRIES[kind][part_name] = cls
        return cls

    return decorate


def _load_parts() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in _PART_MODULES:
            importlib.import_module(module)


def _table(kind: str) -> dict[str, type]:
    if kind not in _REGISTRIES:
        raise RegistryError(f"unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    _load_parts()
    return _REGISTRIES[kind]


def names(kind: str) -> list[str]:
    """The registered names of a kind, in registration order."""
    return list(_table(kind))


def get_class(kind: str, name: str) -> type:
    table = _table(kind)
    if not isinstance(name, str) or name not in table:
        did = hint(did_you_mean(name, table))
        raise RegistryError(f"unknown {kind} {name!r}{did}; valid names: {', '.join(table)}")
    return table[name]


def split_spec(kind: str, spec: Any) -> tuple[str, dict[str, Any]]:
    """``"adam"`` or ``{"name": "adam", ...}`` -> ``("adam", {...})``."""
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, Mapping):
        if "name" not in spec:
            raise RegistryError(f"a {kind} mapping needs a 'name' key; got keys {sorted(spec)}")
        params = {k: v for k, v in spec.items() if k != "name"}
        return spec["name"], params
    raise RegistryError(f"a {kind} is a name or a mapping with a 'name' key; got {spec!r}")


def parameters(kind: str, name: str) -> dict[str, inspect.Parameter]:
    """Constructor parameters of a part (name -> inspect.Parameter with annotation and default)."""
    cls = get_class(kind, name)
    hints = typing.get_type_hints(cls.__init__)
    params = {}
    for pname, p in inspect.signature(cls.__init__).parameters.items():
        if pname == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        params[pname] = p.replace(annotation=hints.get(pname, p.annotation))
    return params


def _type_name(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return "any"
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def _check_value(annotation: Any, value: Any) -> Any:
    """Coerce ``value`` to ``annotation`` or raise TypeError. Numbers in strings ("1e-3") are numbers."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return value
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(annotation):
            try:
                return _check_value(option, value)
            except (TypeError, ValueError):
                continue
        raise TypeError
    if origin is typing.Literal:
        if value in typing.get_args(annotation):
            return value
        raise TypeError
    if origin in (list, tuple):
        if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
            raise TypeError
        (item,) = typing.get_args(annotation)[:1] or (Any,)
        return [_check_value(item, v) for v in value]
    if annotation is type(None):
        if value is None:
            return None
        raise TypeError
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise TypeError
    if annotation is int:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise TypeError
    if annotation is float:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            return float(value)  # YAML 1.1 reads "1e-3" as a string; ValueError if not a number
        raise TypeError
    if annotation is str:
        if isinstance(value, str):
            return value
        raise TypeError
    if annotation is dict or origin is dict:
        if isinstance(value, Mapping):
            return dict(value)
        raise TypeError
    return value  # nested part specs and other free-form values: the class checks them


def validate(kind: str, spec: Any) -> tuple[str, dict[str, Any]]:
    """Check a spec's name and parameter names and types; return (name, coerced params)."""
    name, given = split_spec(kind, spec)
    accepted = parameters(kind, name)
    params = {}
    for key, value in given.items():
        if key not in accepted:
            did = hint(did_you_mean(key, accepted))
            takes = ", ".join(accepted) or "no parameters"
            raise RegistryError(f"{kind} {name!r} has no parameter {key!r}{did}; it takes: {takes}")
        annotation = accepted[key].annotation
        try:
            params[key] = _check_value(annotation, value)
        except (TypeError, ValueError):
            raise RegistryError(
                f"{kind} {name!r}: {key!r} must be {_type_name(annotation)}; got {value!r}"
            ) from None
    return name, params


def build(kind: str, spec: Any, **extra: Any) -> Any:
    """Build a part from its spec: ``build("optimizer", {"name": "adam", "learning_rate": 0.01})``.

    ``extra`` keyword arguments are passed to the constructor unvalidated (internal wiring only).
    A part instance passes through unchanged.
    """
    if not isinstance(spec, (str, Mapping)) and getattr(spec, "registry_kind", None) == kind:
        return spec
    name, params = validate(kind, spec)
    cls = get_class(kind, name)
    try:
        return cls(**params, **extra)
    except (TypeError, ValueError) as exc:
        raise RegistryError(f"{kind} {name!r}: {exc}") from None


def describe(kind: str) -> list[dict[str, Any]]:
    """Every part of a kind with its parameters and defaults (for ``mlrun registry`` and the schema)."""
    rows = []
    for name in names(kind):
        cls = get_class(kind, name)
        doc = inspect.getdoc(cls) or ""
        params = {
            pname: {
                "type": _type_name(p.annotation),
                "default": None if p.default is inspect.Parameter.empty else p.default,
                "required": p.default is inspect.Parameter.empty,
            }
            for pname, p in parameters(kind, name).items()
        }
        rows.append({"name": name, "summary": doc.splitlines()[0] if doc else "", "params": params})
    return rows
