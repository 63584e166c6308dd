"""The spec's JSON Schema (``mlrun schema``, for yaml-language-server), generated from the rules
``mlrun validate`` applies: pydantic's schema of the models (types, Field constraints, defaults, the
shorthand forms their before-validators declare), the part fields' schemas from the registry and the
ranges table (``Part``, ``part_schema``), and the dataset parameters ``DataSpec`` accepts.

What no schema keyword states stays validate-only; ``VALIDATE_ONLY`` lists it, and the schema's
description repeats it for the reader of an editor's tooltip. (``data.params`` values are neither's:
the generator checks them when the data is loaded, ``validate --data``.)
"""

from __future__ import annotations

from collections.abc import Mapping

from mlrun.data.names import DATASETS
from mlrun.spec.models import DataSpec, Spec, dataset_parameters

VALIDATE_ONLY = (
    "data: test_size + validation_size < 1",
    "data: a csv path must name an existing file",
    "model: hidden_layers equals the length of a neurons list",
    "model: layers (long form) or hidden_layers/neurons (short form), not both; neurons null only with layers",
    "metrics: only those of the task, when task is not auto",
    "training.early_stopping.monitor and schedule plateau's monitor: a val_ monitor needs validation_size > 0",
    "parts: rrelu lower <= upper; lr_range start < end; one_cycle base_momentum <= max_momentum; "
    "piecewise boundaries increasing, with one more value than boundaries",
    "baselines: names and multiclass of the task; scikit-learn's own parameter constraints; unique labels",
    "a number given as a string (\"1e-3\") is accepted for part parameters; the schema wants a number",
)


def _dataset_rules() -> list[dict]:
    """data.params per dataset (digits when none is named), and csv's path and target."""
    rules = []
    for dataset in DATASETS:
        when = {"properties": {"dataset": {"const": dataset}}}
        if dataset != DataSpec.model_fields["dataset"].default:
            when["required"] = ["dataset"]
        if dataset == "csv":
            then = {"required": ["path", "target"], "properties": {"path": {"type": "string"},
                                                                   "target": {"not": {"type": "null"}}}}
        else:
            then = {"properties": {"params": {"propertyNames": {"enum": dataset_parameters(dataset)}}}}
        rules.append({"if": when, "then": then})
    return rules


def json_schema(sections: Mapping[str, dict] | None = None) -> dict:
    """JSON Schema of the spec; ``sections`` replaces top-level sections' schemas with ones the layers
    above the spec know (the CLI passes the baselines')."""
    schema = Spec.model_json_schema()
    schema["$defs"][DataSpec.__name__]["allOf"] = _dataset_rules()
    for key, section in (sections or {}).items():
        schema["properties"][key] = {**section, "default": schema["properties"][key].get("default")}
    rules = "; ".join(VALIDATE_ONLY)
    description = (f"{schema.pop('description', '')} Checked by `mlrun validate` only: {rules}.").strip()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": "mlrun spec",
            "description": description}
