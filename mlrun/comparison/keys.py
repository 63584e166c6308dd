"""Keys of compare rows: parameters or metrics, which way is better, which columns to show."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable

from mlrun.comparison.rows import FIXED
from mlrun.hints import did_you_mean, hint_list
from mlrun.metrics.names import MAIN_COLUMNS, higher_is_better, main_metric

SPLITS = ("train", "validation", "test", "lr_find")  # lr_find: a range test's results, as metrics
LR_FIND_COLUMNS = ("lr_find.suggestion", "lr_find.rule", "lr_find.steps")
GROUP_FIXED = ("run", "n", "status", "duration", "epochs", "findings", "model_bytes", "seeds", "runs", "paths")
MAIN = {  # the main metric of a task (the default sort key) and the columns shown with it
    f"test.{main_metric(task)}": tuple(f"test.{m}" for m in columns) for task, columns in MAIN_COLUMNS.items()
}
NUMBER_TYPES = (int, float)


@functools.lru_cache(maxsize=4096)  # a few dozen distinct keys, asked about for every row
def is_metric(key: str) -> bool:
    """"<split>.<metric>", "baseline.<label>.<split>.<metric>" (and their ".mean", ".std" in groups)."""
    parts = key.split(".", 3)
    if parts[0] == "baseline":
        return len(parts) == 4 and parts[2] in SPLITS
    return parts[0] in SPLITS and len(parts) > 1


@functools.lru_cache(maxsize=4096)
def is_param(key: str) -> bool:
    return key not in GROUP_FIXED and key not in FIXED and not is_metric(key)


def all_keys(rows: Iterable[dict]) -> list[str]:
    """Every key of the rows in first-seen order (dict.fromkeys over chain: C speed for 10^4 rows)."""
    return list(dict.fromkeys(itertools.chain.from_iterable(rows)))


def _same(rows: list[dict], key: str) -> bool:
    first = rows[0].get(key, _MISSING)
    return all(row.get(key, _MISSING) == first for row in rows)  # stops at the first difference


def differing_keys(rows: list[dict], keys: list[str] | None = None) -> list[str]:
    """Parameter keys whose value is not the same in every row (a missing key counts as a value).

    "name" (the run column already shows it) is never listed; "seed" is, when it differs.
    ``keys``: all_keys(rows) when the caller has it already.
    """
    rows = [row for row in rows if row.get("status") != "unreadable"]  # they have no params to compare
    if not rows:  # every run shown is unreadable: nothing to tell apart
        return []
    keys = all_keys(rows) if keys is None else keys
    return [k for k in keys if k != "name" and is_param(k) and not _same(rows, k)]


_MISSING = "\0missing"


def direction(key: str) -> bool | None:
    """True if higher is better (scores), False if lower is (losses, errors, time), None otherwise."""
    if key.endswith(".std"):
        return False if is_metric(key) else None
    if key.endswith(".mean") and is_metric(key):
        return higher_is_better(key[: -len(".mean")])
    return higher_is_better(key)


GROUP_SUFFIXES = (".mean", ".std")  # a seed group's columns for each metric


def std_column(key: str) -> str:
    """The ".std" column beside a group's ".mean" column (or beside a bare metric)."""
    return (key[: -len(".mean")] if key.endswith(".mean") else key) + ".std"


def resolve_key(key: str, known: Iterable[str], what: str = "key") -> str:
    """The key itself, or "test.<key>" (else "lr_find.<key>") for a bare metric name; else ValueError
    with near matches."""
    known = list(known)
    if key in known:
        return key
    for split in ("test", "lr_find"):
        if f"{split}.{key}" in known:
            return f"{split}.{key}"
    near = did_you_mean(key, known, n=3)
    near += [k for k in known if key in k and k not in near][: 3 - len(near)]
    raise ValueError(f"unknown {what} {key!r}{hint_list(near)}")


def main_metric(rows: list[dict]) -> str | None:
    """test.accuracy for classification runs, test.rmse for regression (whichever the rows carry)."""
    for key in MAIN:
        if any(row.get(key) is not None for row in rows):
            return key
    return None


def metric_columns(rows: list[dict], metrics=None, strict=True, keys=None) -> list[str]:
    """The chosen metric columns ("a,b" or a list; a bare name means test.<name>), or by default the
    main ones of the tasks present. ``strict``: an unknown name raises ValueError (when there are rows);
    otherwise "<split>.<metric>" names pass as they are (columns of rows cut by --top)."""
    keys = all_keys(rows) if keys is None else keys
    known = [k for k in keys if is_metric(k) and not k.endswith(GROUP_SUFFIXES)]
    if metrics is not None:
        names = metrics.split(",") if isinstance(metrics, str) else list(metrics)
        names = [n.strip() for n in names if n.strip()]
        if not rows or not strict:
            return [n if is_metric(n) or f"test.{n}" not in known else f"test.{n}" for n in names]
        return [resolve_key(n, known, "metric") for n in names]
    chosen = [k for main in MAIN for k in MAIN[main] if main in known and k in known]
    chosen += [k for k in LR_FIND_COLUMNS if k in known]
    return chosen or [k for k in known if k.startswith("test.")][:4] or known[:4]


def columns(rows: list[dict], metrics=None, all_params=False) -> list[str]:
    """Display columns: run, (n,) status, duration, epochs, params that differ (all with all_params),
    metrics (in groups: each metric's ".mean" and ".std")."""
    grouped = any("n" in row for row in rows)
    head = ["run", "status", "duration", "epochs"]
    if grouped:
        head.insert(1, "n")
    keys = all_keys(rows)
    if "model_bytes" in keys:
        head.append("model_bytes")
    params = _nest([k for k in keys if is_param(k)] if all_params else differing_keys(rows, keys))
    cols = []
    for key in metric_columns(rows, metrics, strict=False, keys=keys):
        cols += [f"{key}.mean", f"{key}.std"] if grouped else [key]
    return head + params + cols


def _nest(keys: list[str]) -> list[str]:
    """A key right after its parent's family (model.activation.alpha after model.activation), even
    when it first appears in a later row; otherwise first-seen order."""
    out: list[str] = []
    for key in keys:
        parent = key.rsplit(".", 1)[0]
        family = [i for i, k in enumerate(out) if k == parent or k.startswith(parent + ".")]
        out.insert(family[-1] + 1 if family else len(out), key)
    return out


def is_number(value) -> bool:
    return type(value) in NUMBER_TYPES and not (type(value) is float and math.isnan(value))
