"""The JSON Schema of a part spec, read from the registry and the ranges table: a registered name, or
a mapping with ``name`` (one subschema per registered name) and that part's parameters, typed, with
their ranges and defaults; parameters without a default are ``required``, and no other key is allowed.

``check_part`` applies the same registry and table, so a newly registered part is valid in both at once.
"""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any

from mlrun import registry
from mlrun.spec.ranges import AT_MOST_ONE, Allowed, allowed


def nested_kind(param: str) -> str | None:
    """A parameter that is itself a part spec: ``activation``, ``initializer``, ``*_initializer``."""
    for kind in ("activation", "initializer"):
        if param == kind or param.endswith("_" + kind):
            return kind
    return None


_TYPES = {float: "number", int: "integer", bool: "boolean", str: "string", dict: "object"}


def _value_schema(annotation: Any, rule: Allowed | None) -> dict:
    """An annotation as JSON Schema, with the range (numbers), strings (text) of ``rule``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        forms = [_value_schema(a, rule) for a in args]
        return forms[0] if len(forms) == 1 else {"anyOf": forms}
    if annotation is type(None):
        return {"type": "null"}
    if annotation in (list, tuple) or origin in (list, tuple):
        return {"type": "array", "items": _value_schema(args[0], rule) if args else {}}
    if origin is typing.Literal:
        return {"enum": list(args)}
    if annotation not in _TYPES and origin is not dict:
        return {}  # an unchecked class: the registry passes it on too
    schema = {"type": _TYPES.get(annotation, "object")}
    if rule is not None and annotation in (int, float):
        schema.update(rule.number_schema())
    if rule is not None and annotation is str:
        schema.update(rule.string_schema())
    return schema


def _default(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _parameter_schema(kind: str, name: str, param: str, info: inspect.Parameter) -> dict:
    sub = nested_kind(param)
    if sub is not None:  # check_part checks it as a part; "auto" lets the layer choose (initializers)
        schema = part_schema(sub, auto=sub == "initializer")
    else:
        schema = _value_schema(info.annotation, allowed(kind, name, param))
    if info.default is not inspect.Parameter.empty:
        schema["default"] = _default(info.default)
    return schema


def variant(kind: str, name: str, summary: str, name_required: bool = True) -> dict:
    """One registered part as a mapping: {name: <it>, <its parameters>}."""
    params = registry.parameters(kind, name)
    props: dict = {"name": {"const": name}}
    props.update({p: _parameter_schema(kind, name, p, info) for p, info in params.items()})
    needed = [p for p, info in params.items() if info.default is inspect.Parameter.empty]
    schema = {"type": "object", "properties": props, "additionalProperties": False, "description": summary}
    group = [p for p in AT_MOST_ONE.get(kind, ()) if p in params]
    if len(group) > 1:  # two given (not null) is refused
        pairs = [[a, b] for i, a in enumerate(group) for b in group[i + 1:]]
        schema["not"] = {"anyOf": [{"required": pair, "properties": {p: {"not": {"type": "null"}} for p in pair}}
                                   for pair in pairs]}
    required = (["name"] if name_required else []) + needed
    return {**schema, "required": required} if required else schema


def part_schema(kind: str, auto: bool = False, default: str | None = None) -> dict:
    """A part spec of ``kind``: a name (or "auto"), or a mapping; with ``default``, a mapping without a
    name is that part's and null is the default (``parts.as_mapping``)."""
    rows = registry.describe(kind)
    names: list = [row["name"] for row in rows] + (["auto"] if auto else [])
    by_name = {"type": "string", "enum": names}
    if default is not None:
        by_name = {"type": ["string", "null"], "enum": [*names, None]}
    return {"anyOf": [by_name, *(variant(kind, row["name"], row["summary"], row["name"] != default)
                                 for row in rows)]}
