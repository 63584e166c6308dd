"""The spec's JSON Schema (``mlrun schema``, for yaml-language-server): pydantic's schema of the models,
with the registry's names and parameters filled in for the part specs.
"""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any

from mlrun import registry
from mlrun.data.names import DATASETS
from mlrun.spec.models import METRICS, DataSpec, ModelSpec, Spec


def _json_type(annotation: Any) -> dict:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_json_type(a) for a in args]}
    if origin in (list, tuple):
        return {"type": "array", "items": _json_type(args[0]) if args else {}}
    names = {float: "number", int: "integer", bool: "boolean", str: "string", type(None): "null",
             dict: "object"}
    return {"type": names[annotation]} if annotation in names else {}


def part_schema(kind: str, auto: bool = False, name_required: bool = True) -> dict:
    """A part spec: a registered name, or {name: <one of them>, <its parameters>}."""
    variants = []
    for row in registry.describe(kind):
        props: dict = {"name": {"const": row["name"]}}
        for pname, p in registry.parameters(kind, row["name"]).items():
            props[pname] = _json_type(p.annotation)
            if p.default is not inspect.Parameter.empty:
                props[pname]["default"] = list(p.default) if isinstance(p.default, tuple) else p.default
        variant = {"type": "object", "properties": props, "additionalProperties": False,
                   "description": row["summary"]}
        variants.append({**variant, "required": ["name"]} if name_required else variant)
    names = registry.names(kind) + (["auto"] if auto else [])
    return {"anyOf": [{"type": "string", "enum": names}, *variants]}


def json_schema() -> dict:
    """JSON Schema of the spec (for yaml-language-server), with registry names as enums."""
    schema = Spec.model_json_schema()
    props, defs = schema["properties"], schema["$defs"]
    for key, kind, auto in (("loss", "loss", True), ("optimizer", "optimizer", False),
                            ("schedule", "schedule", False)):
        props[key] = {**props[key], **part_schema(kind, auto, name_required=key == "loss")}
        props[key].pop("type", None)
        props[key].pop("additionalProperties", None)
    model = defs[ModelSpec.__name__]["properties"]
    model["activation"] = {**model["activation"], **part_schema("activation")}
    model["initializer"] = {**model["initializer"], **part_schema("initializer", auto=True)}
    model["layers"] = {**model["layers"], "anyOf": [{"type": "array", "items": part_schema("layer")},
                                                    {"type": "null"}]}
    defs[DataSpec.__name__]["properties"]["dataset"]["enum"] = list(DATASETS)
    props["metrics"] = {**props["metrics"], "anyOf": [
        {"const": "auto"}, {"type": "array", "items": {"type": "string", "enum": list(METRICS)}},
        {"type": "string", "enum": list(METRICS)}]}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": "mlrun spec"}
