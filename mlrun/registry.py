"""One registry per kind of part: names -> classes, filled by the ``@register`` decorator.

A spec is a name (``"adam"``) or a mapping ``{"name": "adam", "learning_rate": 0.01}``; its keys are
the class's constructor arguments, so ``cls(**params)`` rebuilds any part from a saved config.
``names()`` and ``build()`` import the part modules on first use, so importing this module alone
sees every part. A part's parameters are read from the ``__init__`` signatures along its class
hierarchy (``parameters``); values are checked against their annotations by pydantic, imported only
for a value that is not already of its type, so building parts from saved specs needs no pydantic.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
import numbers
import operator
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any

from mlrun.hints import did_you_mean, hint

KINDS = ("activation", "initializer", "layer", "loss", "optimizer", "schedule")
_PART_MODULES = (
    "mlrun.nn.activations",
    "mlrun.nn.initializers",
    "mlrun.nn.layers",
    "mlrun.nn.bitwise",
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
        for module in _PART_MODULES:  # a module that failed to import is tried again next time
            importlib.import_module(module)
        _loaded = True


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
    """Constructor parameters of a part (name -> inspect.Parameter with annotation and default).

    Read along the class hierarchy: the class's own ``__init__`` first, then, while an ``__init__``
    takes ``**kwargs`` (passed on to ``super().__init__``), its base classes' (object's aside). A name
    that a subclass declares again keeps the subclass's default.
    """
    params: dict[str, inspect.Parameter] = {}
    for klass in get_class(kind, name).__mro__[:-1]:  # [-1] is object
        init = vars(klass).get("__init__")
        if init is None:
            continue
        hints = typing.get_type_hints(init)
        signature = inspect.signature(init).parameters.values()
        for p in signature:
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                params.setdefault(p.name, p.replace(annotation=hints.get(p.name, p.annotation)))
        if not any(p.kind is p.VAR_KEYWORD for p in signature):
            break
    return params


def _type_name(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return "any"
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


# -- values -------------------------------------------------------------------------------------------
def _members(annotation: Any) -> tuple:
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return typing.get_args(annotation) if union else (annotation,)


def _as_is(annotation: Any, value: Any) -> bool:
    """True when ``value`` already has the annotated type exactly, so checking could not change it
    (the common case: saved specs, ``load_model``), decided without importing pydantic."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return True
    if value is None:
        return type(None) in _members(annotation)
    for member in _members(annotation):
        if member in (bool, int, float, str, dict) and type(value) is member:
            return True
        if member not in (str, bool):  # float, int, list, dict... convert other types: pydantic decides
            return False
    return False


# the conversions a spec needs before pydantic's strict check (each passes other values on unchanged)
def _list(value: Any) -> Any:
    """Any iterable but text or a mapping stands for a list (YAML gives lists; Python callers, tuples)."""
    text_or_map = isinstance(value, (str, bytes, Mapping))
    return value if text_or_map or not hasattr(value, "__iter__") else list(value)


def _dict(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else value


def _float(value: Any) -> Any:
    """A number in a string is a number: YAML 1.1 reads 1e-3 as text (ValueError when it is not one)."""
    return float(value) if isinstance(value, str) else value


def _int(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _pydantic_type(annotation: Any) -> Any:
    """The annotation as a strict pydantic type plus the conversions above (an int is a float there
    too; a bool is neither); unions try their members left to right; other classes pass unchecked."""
    from pydantic import BeforeValidator, Field

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):  # None apart: pydantic makes "X | None" nullable X
        union = functools.reduce(operator.or_, [_pydantic_type(a) for a in args if a is not type(None)])
        if typing.get_origin(union) in (typing.Union, types.UnionType):
            union = Annotated[union, Field(union_mode="left_to_right")]
        return union | None if type(None) in args else union
    if annotation in (list, tuple) or origin in (list, tuple):
        return Annotated[list[_pydantic_type(args[0]) if args else Any], BeforeValidator(_list)]
    before = {dict: _dict, float: _float, int: _int}
    if annotation is dict or origin is dict:
        annotation = dict
    if annotation in before:
        return Annotated[annotation, BeforeValidator(before[annotation])]
    return annotation if annotation in (bool, str, type(None)) or origin is typing.Literal else Any


@functools.cache
def _adapter(annotation: Any):
    from pydantic import ConfigDict, TypeAdapter

    return TypeAdapter(_pydantic_type(annotation), config=ConfigDict(strict=True))


def _check_value(annotation: Any, value: Any) -> Any:
    """``value`` as the annotation wants it (see ``_pydantic_type``), or ValueError."""
    if _as_is(annotation, value):
        return value
    from pydantic import ValidationError  # only here: building parts from saved specs needs no pydantic

    try:
        return _adapter(annotation).validate_python(value)
    except ValidationError:
        raise ValueError(f"not {_type_name(annotation)}: {value!r}") from None


def _nonfinite(value: Any) -> bool:
    """inf or nan, alone or inside a list: no part parameter may be either (text "inf" converts to one)."""
    if isinstance(value, (list, tuple)):
        return any(_nonfinite(v) for v in value)
    return (isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral))
            and not math.isfinite(value))


def validate(kind: str, spec: Any) -> tuple[str, dict[str, Any]]:
    """Check a spec's name and parameter names and types (numbers finite); return (name, coerced params)."""
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
        except ValueError:
            raise RegistryError(
                f"{kind} {name!r}: {key!r} must be {_type_name(annotation)}; got {value!r}"
            ) from None
        if _nonfinite(params[key]):
            raise RegistryError(f"{kind} {name!r}: {key!r} must be a finite number; got {value!r}")
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
