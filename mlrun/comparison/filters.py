"""The --filter mini-language: "key=value", "key!=value", "key>=n", "key<n", "key~text" as row predicates."""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable, Iterable

from mlrun.comparison.keys import NUMBER_TYPES, all_keys, is_number, resolve_key

_YAML_TRUE = frozenset({"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})
_YAML_FALSE = frozenset({"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})
_FILTER = re.compile(r"^\s*([^!=<>~\s]+)\s*(!=|>=|<=|==|=|>|<|~)\s*(.*?)\s*$")


def parse_scalar(text: str):
    """A filter value as YAML reads a plain scalar: null, booleans, int, float, else the string."""
    if text in ("null", "Null", "NULL", "~"):
        return None
    if text in _YAML_TRUE or text in _YAML_FALSE:
        return text in _YAML_TRUE
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _equal(value, target, raw: str) -> bool:
    if target is None or isinstance(target, bool):
        return value is target
    if type(target) in NUMBER_TYPES:
        return is_number(value) and math.isclose(value, target, rel_tol=1e-12, abs_tol=0.0)
    if isinstance(value, (list, dict)):  # model.neurons=[64,32]
        return json.dumps(value, separators=(",", ":")) == raw.replace(" ", "")
    return value == target or (value is not None and str(value) == raw)


_ORDER = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


def parse_filter(expr: str, known: Iterable[str]) -> Callable[[dict], bool]:
    """"key=value", "key!=value", "key>=n", "key<=n", "key>n", "key<n", "key~substring" -> predicate.

    Numbers compare numerically, other values by their YAML reading; "~" is a case-insensitive substring
    test on the text; ordering tests are false for missing or non-numeric values.
    """
    match = _FILTER.match(expr)
    if not match:
        raise ValueError(f"bad filter {expr!r}: use key=value, key!=value, key>=n, key<n or key~text")
    key, op, raw = match.groups()
    key = resolve_key(key, known, "filter key") if known else key
    target = parse_scalar(raw)
    if op in ("=", "=="):
        return lambda row: _equal(row.get(key), target, raw)
    if op == "!=":
        return lambda row: not _equal(row.get(key), target, raw)
    if op == "~":
        return lambda row: row.get(key) is not None and raw.lower() in str(row.get(key)).lower()
    if not is_number(target):
        raise ValueError(f"bad filter {expr!r}: {op} needs a number; got {raw!r}")
    test = _ORDER[op]
    return lambda row: is_number(row.get(key)) and test(row.get(key), target)


def apply_filters(rows: list[dict], filters: Iterable[str]) -> list[dict]:
    """Rows passing every filter (they are ANDed)."""
    if isinstance(filters, str):
        filters = [filters]
    if not filters:
        return list(rows)
    known = all_keys(rows)
    for test in [parse_filter(expr, known) for expr in filters]:
        rows = [row for row in rows if test(row)]
    return rows
