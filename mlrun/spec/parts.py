"""Part specs inside the spec (activation, initializer, loss, optimizer, schedule, layer): checked by
the registry and the ranges table, so a newly registered part needs no change here.

``Part`` marks a field as a part spec of a kind: pydantic validates it with ``check_part`` and the JSON
Schema describes it from the same registry (``part_schema``), so the two cannot drift apart.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from mlrun import registry
from mlrun.spec import ranges
from mlrun.spec.errors import PathError, join_path
from mlrun.spec.part_schema import nested_kind, part_schema


def check_part(kind: str, spec: Any, key: str = "") -> Any:
    """Validate a part spec by the registry, the ranges table and by building it once; return it
    normalised. A name stays a name; a mapping becomes {name, coerced params}. Errors carry the key path.
    """
    try:
        name, params = registry.validate(kind, spec)
    except registry.RegistryError as exc:
        raise PathError(key, str(exc)) from None
    for pname, value in params.items():
        sub = nested_kind(pname)
        if sub and value is not None and value != "auto":
            params[pname] = check_part(sub, value, join_path(key, pname))
        elif (why := ranges.problem(kind, name, pname, value)) is not None:
            raise PathError(key, f"{kind} {name!r}: {why}")
    if (why := ranges.exclusive_problem(kind, params)) is not None:
        raise PathError(key, f"{kind} {name!r}: {why}")
    accepted = registry.parameters(kind, name)
    empty = inspect.Parameter.empty
    missing = [p for p, info in accepted.items() if info.default is empty and p not in params]
    if missing:
        raise PathError(key, f"{kind} {name!r} needs {', '.join(missing)}; it takes: {', '.join(accepted)}")
    try:
        registry.build(kind, {"name": name, **params})  # rules between parameters surface now
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
        sub = nested_kind(pname)
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


class Part:
    """``Annotated[PartSpec, Part("loss", auto=True)]``: a part spec of ``kind``, checked by ``check_part``
    and described by ``part_schema``. ``auto``: the string "auto" is kept as written (chosen later);
    ``default``: null or a mapping without a name mean that part (``as_mapping``) and the value is a mapping.
    """

    def __init__(self, kind: str, auto: bool = False, default: str | None = None) -> None:
        self.kind, self.auto, self.default = kind, auto, default

    def _before(self, value: Any) -> Any:
        return value if self.default is None else as_mapping(value, self.default)

    def _after(self, value: Any) -> Any:
        return value if self.auto and value == "auto" else check_part(self.kind, value)

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        inner = core_schema.no_info_after_validator_function(self._after, handler(source))
        return core_schema.no_info_before_validator_function(self._before, inner)

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict:  # at schema time: new parts count
        return part_schema(self.kind, self.auto, self.default)
