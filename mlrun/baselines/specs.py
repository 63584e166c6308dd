"""A spec's ``baselines:`` list, checked once and built into scikit-learn estimators.

An item is a name (``svm``) or a mapping ``{name: svm, params: {C: 10}, multiclass: ovo, label: svm_c10}``.
Every problem is a ``ConfigError`` of one line naming the item, what was given and what is valid, before
anything trains. ``random_state`` is never a parameter: it comes from the run's seed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlrun.baselines.estimators import STRATEGIES, Estimator, estimator_names, lookup
from mlrun.hints import did_you_mean, hint
from mlrun.spec.errors import ConfigError

ITEM_KEYS = ("name", "params", "multiclass", "label")
_LABEL = re.compile(r"^[A-Za-z0-9_-]+$")  # a compare column is baseline.<label>.<split>.<metric>


@dataclass(frozen=True)
class BaselineSpec:
    """One checked baseline: estimator name, its parameters, the multiclass strategy and its label."""

    name: str
    params: dict = field(default_factory=dict)
    multiclass: str = "native"
    label: str = ""


def _hint(given: str, valid) -> str:
    return hint(did_you_mean(given, valid))


def _estimators(where: str, name: Any, task: str | None) -> list[Estimator]:
    """The table entries of ``name`` for the task (both, for random_forest when the task is not known yet)."""
    tasks = ("classification", "regression") if task in (None, "auto") else (task,)
    found = [lookup(t, name) for t in tasks if isinstance(name, str) and lookup(t, name)]
    if not found:
        valid = estimator_names(None if len(tasks) == 2 else tasks[0])
        kind = "" if len(tasks) == 2 else f"{tasks[0]} "
        raise ConfigError(f"{where}: unknown {kind}baseline {name!r}{_hint(name, valid)}; "
                          f"{kind}baselines: {', '.join(valid)}")
    return found


def _coerce(default: Any, value: Any) -> Any:
    # YAML 1.1 reads 1e-3 as a string; where scikit-learn's default is a float, a number is meant
    if isinstance(default, float) and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _check_params(where: str, entry: Estimator, params: Any) -> dict:
    if not isinstance(params, Mapping):
        raise ConfigError(f"{where}.params: a mapping of {entry.name} parameters; got {params!r}")
    accepted = entry.sklearn_class()().get_params(deep=False)
    checked = {}
    for key, value in params.items():
        if key == "random_state":
            raise ConfigError(f"{where}.params.random_state: baselines are seeded from the run's seed; "
                              f"set seed instead")
        if key not in accepted:
            takes = ", ".join(k for k in accepted if k != "random_state")
            raise ConfigError(f"{where}: baseline {entry.name!r} has no parameter {key!r}{_hint(key, accepted)}; "
                              f"it takes: {takes}")
        checked[key] = _coerce(accepted[key], value)
    estimator = entry.sklearn_class()(**{**entry.defaults, **checked})
    try:  # scikit-learn's own constraints, now rather than after the network has trained
        if hasattr(estimator, "_validate_params"):
            estimator._validate_params()
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where} ({entry.name}): {str(exc).splitlines()[0]}") from None
    return checked


def _item(i: int, item: Any, task: str | None) -> BaselineSpec:
    where = f"baselines[{i}]"
    if isinstance(item, str):
        item = {"name": item}
    if not isinstance(item, Mapping) or "name" not in item:
        raise ConfigError(f"{where}: a baseline is a name or a mapping with a 'name' key "
                          f"({', '.join(ITEM_KEYS)}); got {item!r}")
    for key in item:
        if key not in ITEM_KEYS:
            raise ConfigError(f"{where}: unknown key {key!r}{_hint(key, ITEM_KEYS)}; "
                              f"a baseline takes: {', '.join(ITEM_KEYS)}")
    entries = _estimators(where, item["name"], task)
    entry = entries[0]
    multiclass = item.get("multiclass") or "native"
    if multiclass not in STRATEGIES:
        raise ConfigError(f"{where}.multiclass: {multiclass!r} is not a strategy{_hint(multiclass, STRATEGIES)};"
                          f" choose from {', '.join(STRATEGIES)}")
    if multiclass != "native" and entry.task == "regression":
        raise ConfigError(f"{where}.multiclass: {multiclass!r} applies to classifiers only; "
                          f"{entry.name} is a regression baseline")
    label = item.get("label") or (entry.name if multiclass == "native" else f"{entry.name}_{multiclass}")
    if not isinstance(label, str) or not _LABEL.match(label):
        raise ConfigError(f"{where}.label: letters, digits, - and _ only; got {label!r}")
    for n, candidate in enumerate(entries):
        try:
            params = _check_params(where, candidate, item.get("params") or {})
            break
        except ConfigError:
            if n == len(entries) - 1:
                raise
    return BaselineSpec(entry.name, params, multiclass, label)


def parse_baselines(items: Any, task: str | None = None) -> list[BaselineSpec]:
    """The checked baselines of a spec's list (None: none); ``task`` None or "auto": either task's names."""
    if items is None:
        return []
    if isinstance(items, (str, Mapping)) or not isinstance(items, (list, tuple)):
        raise ConfigError(f"baselines: a list of baseline names or mappings; got {items!r}")
    specs = [_item(i, item, task) for i, item in enumerate(items)]
    seen: dict[str, int] = {}
    for i, spec in enumerate(specs):
        if spec.label in seen:
            raise ConfigError(f"baselines[{i}]: label {spec.label!r} is already baselines[{seen[spec.label]}]'s; "
                              f"give one of them a label")
        seen[spec.label] = i
    return specs


def build_estimator(spec: BaselineSpec, task: str, random_state: int):
    """The unfitted scikit-learn estimator of ``spec``, wrapped for ovr / ovo, seeded if it draws numbers."""
    from sklearn.multiclass import OneVsOneClassifier, OneVsRestClassifier

    (entry,) = _estimators("baselines", spec.name, task)
    estimator = entry.sklearn_class()(**{**entry.defaults, **spec.params})
    if "random_state" in estimator.get_params(deep=False):
        estimator.set_params(random_state=random_state)
    if spec.multiclass == "ovr":
        return OneVsRestClassifier(estimator)
    if spec.multiclass == "ovo":
        return OneVsOneClassifier(estimator)
    return estimator


def baselines_schema() -> dict:
    """The ``baselines:`` list as JSON Schema, from the same table, keys and strategies ``parse_baselines``
    reads (the names of either task: which task's apply, and the estimators' parameters, are checked
    by ``mlrun validate`` only)."""
    names = estimator_names()
    item = {"type": "object", "required": ["name"], "additionalProperties": False, "properties": {
        "name": {"enum": names}, "params": {"type": ["object", "null"]},
        "multiclass": {"enum": [*STRATEGIES, None]},
        "label": {"anyOf": [{"type": "string", "pattern": _LABEL.pattern}, {"type": "null"}]}}}
    return {"anyOf": [{"type": "array", "items": {"anyOf": [{"enum": names}, item]}}, {"type": "null"}],
            "description": "scikit-learn estimators fitted beside the network: names or {name, params, "
                           "multiclass, label}"}
