"""Part specs inside the spec (activation, initializer, loss, optimizer, schedule, layer): checked by
the registry, so a newly registered part needs no schema change here.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from mlrun import registry
from mlrun.spec.errors import PathError, join_path


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
        raise PathError(key, str(exc)) from None
    for pname, value in params.items():
        sub = _nested_kind(pname)
        if sub and value is not None and value != "auto":
            params[pname] = check_part(sub, value, join_path(key, pname))
    accepted = registry.parameters(kind, name)
    empty = inspect.Parameter.empty
    missing = [p for p, info in accepted.items() if info.default is empty and p not in params]
    if missing:
        raise PathError(key, f"{kind} {name!r} needs {', '.join(missing)}; it takes: {', '.join(accepted)}")
    try:
        registry.build(kind, {"name": name, **params})  # constructor-level ranges surface now
    except registry.RegistryError as exc:
        raise PathError(key, str(exc)) from None
    return name if isinstance(spec, str) else {"name": name, **params}


def with_defaults(kind: str, spec: Any) -> Any:
    """A valid part spec with every parameter its part takes, as given or by default, in the
    constructor's order (nested activations and initializers likewise), so the spec replays the part
    exactly whatever a later version's defaults. A part without parameters stays a bare name;
    parameters without a default (required) are there because they were given."""
    name, given = registry.split_spec(kind, spec)
    empty = inspect.Parameter.empty
    full: dict[str, Any] = {}
    for pname, info in registry.parameters(kind, name).items():
        if pname not in given and info.default is empty:
            continue
        value = given.get(pname, info.default)
        sub = _nested_kind(pname)
        if sub and value is not None and value != "auto":
            value = with_defaults(sub, value)
        full[pname] = list(value) if isinstance(value, tuple) else value
    return name if isinstance(spec, str) and not full else {"name": name, **full}


def as_mapping(value: Any, default_name: str) -> Any:
    """optimizer/schedule: a bare name, a mapping without a name, or null -> {name: ..., ...}."""
    if value is None:
        return {"name": default_name}
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, Mapping):
        return {"name": default_name, **value} if "name" not in value else dict(value)
    return value
