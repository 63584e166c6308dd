"""Sweep axes: ``--grid KEY=V1,V2`` text and the spec's ``sweep:`` section, parsed and checked.

An axis is a spec key with a list of values (grid) or a distribution (random search).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

import yaml

from mlrun.spec.errors import ConfigError
from mlrun.spec.yaml_text import parse_yaml

DISTRIBUTIONS = ("log_uniform", "uniform", "int_uniform")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
_RANGE = re.compile(r"^range\((.*)\)$")


class SweepError(ConfigError):
    """A bad sweep (axes, manifest, cluster): one line, exit code 2."""


# -- axes ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Axis:
    """One swept key: a list of values, or (random search) a distribution on [low, high]."""

    key: str
    values: tuple | None = None
    distribution: str | None = None
    low: float | None = None
    high: float | None = None

    def to_dict(self) -> dict:
        if self.values is not None:
            return {"key": self.key, "values": list(self.values)}
        return {"key": self.key, "distribution": self.distribution, "min": self.low, "max": self.high}

    @classmethod
    def from_dict(cls, d: Mapping) -> Axis:
        if "values" in d:
            return cls(d["key"], tuple(d["values"]))
        return cls(d["key"], None, d["distribution"], d["min"], d["max"])


def split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets and quotes: "{a: 1, b: 2},[3, 4],5" -> 3 items."""
    items, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                raise SweepError(f"unbalanced {ch!r} in {text!r}")
        elif ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    if depth or quote:
        raise SweepError(f"unclosed bracket or quote in {text!r}")
    return [s.strip() for s in [*items, text[start:]]]


MAX_AXIS_VALUES = 10_000


def _range(args: str, where: str) -> list[int]:
    try:
        bounds = [int(a) for a in split_top_level(args)]
    except ValueError:
        raise SweepError(f"{where}: range(a,b[,step]) takes integers; got range({args})") from None
    if not 2 <= len(bounds) <= 3 or (len(bounds) == 3 and bounds[2] == 0):
        raise SweepError(f"{where}: range takes a start, a stop and an optional non-zero step; "
                         f"got range({args})")
    n = len(range(*bounds))  # counted before it is built: range(0, 10**9) would fill memory
    if n > MAX_AXIS_VALUES:
        raise SweepError(f"{where}: range({args}) has {n:.3g} values; an axis takes at most {MAX_AXIS_VALUES:,}")
    values = list(range(*bounds))
    if not values:
        raise SweepError(f"{where}: range({args}) is empty (the stop is excluded, as in Python)")
    return values


def parse_values(text: str, where: str) -> list:
    """The values of ``--grid key=...``: split on top-level commas; each is YAML or range(a,b[,step])."""
    values: list = []
    for item in split_top_level(text):
        if not item:
            raise SweepError(f"{where}: empty value in {text!r} (a stray comma?)")
        match = _RANGE.match(item)
        values += _range(match.group(1), where) if match else [parse_yaml(item, where)]
    return values


def _check_key(key: str, where: str) -> str:
    if not _KEY.match(key):
        raise SweepError(f"{where}: {key!r} is not a dotted spec key (e.g. optimizer.learning_rate)")
    if key == "seed":
        raise SweepError(f"{where}: seeds are not an axis; use --seeds K (runs seed, seed+1, ..., seed+K-1)")
    return key


def _values_axis(key: str, values: list, where: str) -> Axis:
    if not values:
        raise SweepError(f"{where}: no values")
    seen = [canonical(v) for v in values]
    if len(set(seen)) < len(seen):
        twice = next(s for s in seen if seen.count(s) > 1)
        raise SweepError(f"{where}: the value {twice} is listed twice")
    return Axis(key, tuple(values))


def parse_grid(text: str) -> Axis:
    """``key=v1,v2,...`` (the --grid grammar) -> Axis."""
    key, sep, rest = str(text).partition("=")
    where = f"--grid {key.strip()}"
    if not sep:
        raise SweepError(f"--grid {text!r}: expected KEY=V1,V2,... e.g. model.activation=relu,elu")
    return _values_axis(_check_key(key.strip(), where), parse_values(rest, where), where)


def grid_axes(grid) -> list[Axis]:
    """The API's ``grid``: {key: [values]} (a str value uses the --grid grammar), or KEY=... strings."""
    if grid is None:
        return []
    if isinstance(grid, str):
        grid = [grid]
    if not isinstance(grid, Mapping):
        return [parse_grid(g) for g in grid]
    axes = []
    for key, values in grid.items():
        where = f"grid[{key!r}]"
        if isinstance(values, str):
            values = parse_values(values, where)
        elif isinstance(values, range):
            values = list(values)
        elif not isinstance(values, (list, tuple)):
            values = [values]
        axes.append(_values_axis(_check_key(str(key), where), list(values), where))
    return axes


def _spec_axis(key: str, spec, where: str) -> Axis:
    """One entry of ``sweep.parameters``: a list, {values: [...]}, {value: v} or {distribution, min, max}."""
    _check_key(key, where)
    if isinstance(spec, list):
        return _values_axis(key, spec, where)
    if not isinstance(spec, Mapping):
        raise SweepError(f"{where}: give values: [...], or distribution: {'|'.join(DISTRIBUTIONS)} "
                         "with min and max")
    if "values" in spec or "value" in spec:
        values = spec.get("values", [spec.get("value")])
        values = parse_values(values, where) if isinstance(values, str) else values
        return _values_axis(key, list(values) if isinstance(values, (list, tuple)) else [values], where)
    unknown = set(spec) - {"distribution", "min", "max"}
    if unknown or "distribution" not in spec:
        raise SweepError(f"{where}: unknown keys {sorted(unknown) or sorted(spec)}; give values: [...], or "
                         f"distribution: {'|'.join(DISTRIBUTIONS)} with min and max")
    return _distribution_axis(key, spec, where)


def _distribution_axis(key: str, spec: Mapping, where: str) -> Axis:
    kind, low, high = spec["distribution"], spec.get("min"), spec.get("max")
    if kind not in DISTRIBUTIONS:
        raise SweepError(f"{where}: distribution must be one of {', '.join(DISTRIBUTIONS)}; got {kind!r}")
    numbers = (int,) if kind == "int_uniform" else (int, float)
    if not all(isinstance(v, numbers) and not isinstance(v, bool) for v in (low, high)):
        what = "integers" if kind == "int_uniform" else "numbers"
        raise SweepError(f"{where}: {kind} needs min and max {what}; got min {low!r}, max {high!r}")
    if not low < high or (kind == "log_uniform" and low <= 0):
        floor = "0 < " if kind == "log_uniform" else ""
        raise SweepError(f"{where}: need {floor}min < max; got {low}, {high}")
    return Axis(key, None, kind, low, high)


def spec_axes(section) -> tuple[str, list[Axis], int | None, int | None]:
    """The spec's ``sweep:`` section -> (method, axes, n_trials, seeds)."""
    section = dict(section or {})
    unknown = set(section) - {"method", "parameters", "n_trials", "seeds"}
    if unknown:
        raise SweepError(f"sweep: unknown keys {', '.join(sorted(unknown))}; "
                         "valid: method, parameters, n_trials, seeds")
    method = section.get("method", "grid")
    if method not in ("grid", "random"):
        raise SweepError(f"sweep.method must be grid or random; got {method!r}")
    n_trials, seeds = section.get("n_trials"), section.get("seeds")
    for key, value in (("n_trials", n_trials), ("seeds", seeds)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise SweepError(f"sweep.{key} must be an integer >= 1; got {value!r}")
    params = section.get("parameters") or {}
    if not isinstance(params, Mapping):
        raise SweepError("sweep.parameters must map spec keys to {values: [...]} or {distribution: ...}")
    axes = [_spec_axis(str(k), v, f"sweep.parameters.{k}") for k, v in params.items()]
    return method, axes, n_trials, seeds


def merge_axes(base: list[Axis], extra: list[Axis]) -> list[Axis]:
    """Axes from the command line replace the spec's axis of the same key (in place) or come after."""
    out = list(base)
    for axis in extra:
        keys = [a.key for a in out]
        if axis.key in keys[len(base):]:
            raise SweepError(f"--grid {axis.key} is given twice; list all its values in one --grid")
        if axis.key in keys:
            out[keys.index(axis.key)] = axis
        else:
            out.append(axis)
    return out


# -- trials -------------------------------------------------------------------------------------------


def _ordered(value):
    """Mappings with ``name`` first, then sorted keys (the canonical form of a part spec)."""
    if isinstance(value, Mapping):
        keys = sorted(value, key=lambda k: (k != "name", str(k)))
        return {k: _ordered(value[k]) for k in keys}
    if isinstance(value, (list, tuple)):
        return [_ordered(v) for v in value]
    return value


def canonical(value) -> str:
    """One YAML flow text per value (floats as YAML 1.1 reads them back: 1.0e-05), for keys and overrides."""
    text = yaml.safe_dump(_ordered(value), default_flow_style=True, sort_keys=False, width=1 << 30,
                          allow_unicode=True).strip()
    text = text[:-3].rstrip() if text.endswith("\n...") else text
    if parse_yaml(text, "value") != value:  # e.g. the text "1e-3", which the spec loader reads as a float
        text = json.dumps(_ordered(value), separators=(", ", ": "), ensure_ascii=False)
    return text
