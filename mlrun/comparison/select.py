"""Compare runs: compare() loads, filters, sorts and seed-groups the rows of runs.

Sorting and seed groups live here; reading run directories in rows.py, keys and columns in
keys.py, filters in filters.py, csv/json/markdown text in formats.py.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable

from mlrun.comparison.filters import apply_filters
from mlrun.comparison.keys import (
    NUMBER_TYPES,
    all_keys,
    columns,
    direction,
    is_metric,
    is_number,
    is_param,
    main_metric,
    metric_columns,
    resolve_key,
)
from mlrun.comparison.rows import load_rows, python_warning

SEED_KEYS = ("seed", "name")  # runs equal but for these are one group (name: the spec's run prefix)


class Rows(list):
    """The list of row dicts compare() returns, plus what to show: ``columns`` (display columns, after
    --metrics / --all-params), ``warnings`` (one message per unreadable or foreign directory) and
    ``loaded`` (the runs found before the filters, so an empty result can say what the filters removed)."""

    columns: list[str]
    warnings: list[str]
    loaded: int = 0


# ---------------------------------------------------------------- sorting


def _sort_value(value):
    # numbers before text so a mixed column still sorts; bools as numbers
    if isinstance(value, NUMBER_TYPES):
        return (0, float(value), "")
    return (1, 0.0, json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else str(value))


def sort_rows(rows: list[dict], key: str | None = None, descending: bool | None = None) -> list[dict]:
    """Sorted by ``key`` (default: the main metric); scores descending, losses/errors/time ascending,
    other keys ascending, unless ``descending`` says otherwise. Missing/null values always go last."""
    key = key or main_metric(rows)
    if key is None or not rows:
        return list(rows)
    if key not in rows[0]:  # the common case needs no scan of every key
        key = resolve_key(key, all_keys(rows), "sort key")
    if descending is None:
        descending = direction(key) is True
    present = [row for row in rows if row.get(key) is not None and not _is_nan(row.get(key))]
    missing = [row for row in rows if row.get(key) is None or _is_nan(row.get(key))]
    if all(type(row[key]) is float or type(row[key]) is int for row in present):  # the usual case, fast
        present.sort(key=lambda row: row[key], reverse=descending)  # stable either way
    else:
        present.sort(key=lambda row: _sort_value(row[key]), reverse=descending)
    return present + missing


def _is_nan(value) -> bool:
    return type(value) is float and math.isnan(value)


# ---------------------------------------------------------------- seed groups


def _comparable(value):
    # lists and dicts (model.neurons: [64, 32]) are unhashable: compare their JSON text
    return json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else value


def group_key(row: dict) -> tuple:
    """Every parameter but seed and name: runs with equal keys differ only in their seed."""
    return tuple(sorted((k, _comparable(v)) for k, v in row.items() if is_param(k) and k not in SEED_KEYS))


def _status_count(rows: list[dict]) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda item: -item[1]))


def _mean(values: list) -> float | None:
    """mean = fsum(x) / n over the numbers (nulls left out); None if there are none."""
    values = [v for v in values if is_number(v)]
    return math.fsum(values) / len(values) if values else None


def _std(values: list) -> float | None:
    """Sample standard deviation sqrt(fsum((x - mean)²) / (n - 1)) (= numpy std(ddof=1)); None when
    fewer than two values (it is undefined). Two-pass in floats: statistics.stdev's Fractions cost
    seconds over thousands of groups."""
    values = [v for v in values if is_number(v)]
    if len(values) < 2:
        return None
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _ordered_keys(rows: Iterable[dict], keep: Callable[[str], bool]) -> list[str]:
    return [k for k in all_keys(rows) if keep(k)]


def merge_group(members: list[dict]) -> dict:
    """One row for runs differing only in seed: n, seeds, status counts, mean of duration and epochs,
    the shared parameters, and for each metric m: "m.mean" = mean, "m.std" = sample std (ddof=1; None
    if n=1), and m itself = the mean too (so --sort, --filter and code written for single runs read a
    group as they read a run). Null metric values are left out (the mean is over the runs that have it)."""
    first = members[0]
    names = {m.get("name") for m in members}
    row = {
        "run": first.get("name") if len(names) == 1 and first.get("name") else first["run"],
        "n": len(members),
        "status": _status_count(members),
        "duration": _mean([m.get("duration") for m in members]),
        "epochs": _mean([m.get("epochs") for m in members]),
        "seeds": [m.get("seed") for m in members],
        "runs": [m["run"] for m in members],
        "paths": [m.get("path") for m in members],
    }
    for key in ("findings", "model_bytes"):
        if any(key in m for m in members):
            row[key] = _mean([m.get(key) for m in members])
    row.update((k, v) for k, v in first.items() if is_param(k) and k not in SEED_KEYS)
    if len(members) == 1:  # most groups of a sweep without seeds: no arithmetic to do
        for key, value in first.items():
            if is_metric(key):
                mean = value if is_number(value) else None
                row[key], row[_mean_key(key)], row[_std_key(key)] = mean, mean, None
        return row
    for key in _ordered_keys(members, is_metric):
        values = [m.get(key) for m in members]
        mean = _mean(values)
        row[key], row[_mean_key(key)], row[_std_key(key)] = mean, mean, _std(values)
    return row


@functools.lru_cache(maxsize=4096)
def _std_key(key: str) -> str:
    return f"{key}.std"


@functools.lru_cache(maxsize=4096)
def _mean_key(key: str) -> str:
    return f"{key}.mean"


def group_rows(rows: list[dict], warn: Callable[[str], None] | None = None) -> list[dict]:
    """Seed groups in first-seen order; unreadable rows pass through as they are. ``warn`` hears of a
    group holding one seed twice (two sweeps of one grid merged: its n counts copies, its std shrinks)."""
    groups: dict[tuple, list[dict]] = {}
    loose = []
    for row in rows:
        if row["status"] == "unreadable":
            loose.append(row)
        else:
            groups.setdefault(group_key(row), []).append(row)
    if warn is not None:
        _warn_repeated_seeds(list(groups.values()), warn)
    return [merge_group(members) for members in groups.values()] + loose


def _warn_repeated_seeds(groups: list[list[dict]], warn: Callable[[str], None]) -> None:
    """One line per group with a repeated seed, naming the group by its name and the parameters that
    tell the groups apart."""
    firsts = [members[0] for members in groups]
    keys = _ordered_keys(firsts, lambda k: is_param(k) and k not in SEED_KEYS)
    differing = [k for k in keys if len({repr(_comparable(f.get(k))) for f in firsts}) > 1]
    for members in groups:
        counts = Counter(m.get("seed") for m in members)
        repeated = [f"seed {seed} {n} times" for seed, n in counts.items() if n > 1]
        if not repeated:
            continue
        first = members[0]
        label = " ".join([str(first.get("name") or first["run"]), *(f"{k}={first.get(k)}" for k in differing)])
        warn(f"group {label} holds {', '.join(repeated)} (n = {len(members)} from {len(counts)} seeds): "
             "runs repeated (two sweeps of one grid?), so its ± is not over independent seeds")


# ---------------------------------------------------------------- the public function


def compare(
    paths=("runs",),
    filters=(),
    sort=None,
    descending=None,
    top=None,
    group=False,
    kind="train",
    include_smoke=False,
    metrics=None,
    all_params=False,
    *,
    on_warning: Callable[[str], None] | None = None,
    stale_after: float = 3600.0,
    now: float | None = None,
) -> Rows:
    """One flat dict per run below ``paths`` (docs/api.md), filtered, sorted, cut to ``top``.

    Rows: "run", "path", "status" (display status: "stale" for a dead running run, "unreadable" for
    corrupt JSON), "duration" (total seconds), "epochs", every parameter as a dotted key, every scalar
    metric as "<split>.<metric>". group=True merges runs differing only in seed (see merge_group).
    ``kind`` None means every kind. ``metrics`` ("a,b" or a list) and ``all_params`` choose the
    returned ``.columns``; the dicts always carry everything. Warnings go to ``on_warning`` (default:
    Python warnings, category RunWarning) and ``.warnings``. A missing path raises FileNotFoundError;
    an unknown filter, sort or metric key raises ValueError naming near matches.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    for path in paths:
        if not os.path.exists(path):
            raise FileNotFoundError(f"no such file or directory: {path}")
    messages: list[str] = []

    def warn(message: str) -> None:
        messages.append(message)
        (on_warning or python_warning)(message)

    rows = load_rows(paths, kind, include_smoke, warn, now, stale_after)
    if metrics is not None:  # validated against every run loaded, not only those the filters keep
        metrics = metric_columns(rows, metrics)
        sort = sort or next((k for k in metrics if direction(k) is not None), None)
    loaded = len(rows)
    rows = apply_filters(rows, filters)
    if group:
        rows = group_rows(rows, warn)
    rows = sort_rows(rows, sort, descending)
    out = Rows(rows[:top] if top is not None else rows)
    out.columns = columns(out, metrics, all_params)
    out.warnings = messages
    out.loaded = loaded
    return out
