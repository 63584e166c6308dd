"""Compare runs: one flat row per run directory; filters, sorting, seed groups, csv/json/markdown text.

Reads only run.json and metrics.json (never config.yaml or history.csv), so 10,000 runs load in well
under 2 s (bench/bench_compare.py). The rich table lives in cli.py; this module returns data and text.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import json
import math
import operator
import os
import re
import time
import warnings
from collections.abc import Callable, Iterable

from mlrun.runs import display_status
from mlrun.runs import run_dir_paths as run_dirs

SPLITS = ("train", "validation", "test")
FIXED = ("run", "path", "status", "duration", "epochs")
GROUP_FIXED = ("run", "n", "status", "duration", "epochs", "seeds", "runs", "paths")
SEED_KEYS = ("seed", "name")  # runs equal but for these are one group (name: the spec's run prefix)
HIGHER = frozenset({"accuracy", "precision", "recall", "f1", "f1_macro", "roc_auc", "pr_auc", "r2"})
LOWER = frozenset({"loss", "log_loss", "mse", "rmse", "mae", "minkowski_error", "duration", "epochs"})
MAIN = {  # the main metric of a task (the default sort key) and the columns shown with it
    "test.accuracy": ("test.accuracy", "test.f1_macro", "test.roc_auc", "test.log_loss"),
    "test.rmse": ("test.rmse", "test.mae", "test.r2"),
}
_NUMBER = (int, float)
_FIXED_SET = frozenset(FIXED) | {"_kind", "_smoke"}
_YAML_TRUE = frozenset({"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})
_YAML_FALSE = frozenset({"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})
_FILTER = re.compile(r"^\s*([^!=<>~\s]+)\s*(!=|>=|<=|==|=|>|<|~)\s*(.*?)\s*$")


class RunWarning(UserWarning):
    """A run directory that could not be read (corrupt JSON, not an mlrun run.json)."""


class Rows(list):
    """The list of row dicts compare() returns, plus what to show: ``columns`` (display columns, after
    --metrics / --all-params) and ``warnings`` (one message per unreadable or foreign directory)."""

    columns: list[str]
    warnings: list[str]


# ---------------------------------------------------------------- reading run directories


def _read_bytes(path: str) -> bytes:
    # os.open/os.read: no file object or text layer (a third of the time of open().read())
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.read(fd, 1 << 16)
        if len(data) == 1 << 16:  # rare: a big file, read the rest
            chunks = [data]
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            data = b"".join(chunks)
    finally:
        os.close(fd)
    return data


def _read_json(path: str):
    return json.loads(_read_bytes(path))


# A confusion matrix is never a column, and its hundreds of ints are most of the parsing work: blank it
# in the bytes first (only digits, brackets, commas, signs, dots and spaces can match). 2.5x faster.
_CONFUSION = re.compile(rb'"confusion_matrix"\s*:\s*\[[\[\]\d,.eE+\-\s]*\]')


def _read_metrics(path: str):
    return json.loads(_CONFUSION.sub(b'"confusion_matrix": null', _read_bytes(path)))


def _why(err: Exception) -> str:
    if isinstance(err, json.JSONDecodeError):
        return f"not valid JSON (line {err.lineno} column {err.colno})"
    if isinstance(err, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(err, OSError):
        return err.strerror or str(err)
    return str(err)


def _unreadable(path: str, name: str) -> dict:
    return {"run": name, "path": path, "status": "unreadable", "duration": None, "epochs": None}


def _status(info: dict, now: float, stale_after: float) -> str:
    try:
        return display_status(info, now=now, stale_after=stale_after)
    except (TypeError, ValueError):  # a hand-edited pid or heartbeat of the wrong type
        return str(info.get("status"))


_METRIC_KEYS: dict[tuple[str, str], str] = {}


def _add_metrics(row: dict, metrics) -> None:
    # "<split>.<metric>" for scalars (and nulls) only: a confusion matrix is never a column
    keys = _METRIC_KEYS
    for split, values in metrics.items():
        if type(values) is dict:
            for name, value in values.items():
                kind = type(value)
                if kind is float or kind is int or (value is None and name != "confusion_matrix"):
                    key = keys.get((split, name))
                    if key is None:
                        key = keys[split, name] = f"{split}.{name}"
                    row[key] = value


def read_row(path: str, now: float, stale_after: float, warn: Callable[[str], None]) -> dict | None:
    """The flat row of one run directory (None for a foreign run.json; an "unreadable" row if corrupt)."""
    name = os.path.basename(path)
    try:
        info = _read_json(os.path.join(path, "run.json"))
    except (OSError, ValueError) as err:
        warn(f"{path}: run.json is {_why(err)}; shown as unreadable")
        return _unreadable(path, name)
    params = info.get("params") if isinstance(info, dict) else None
    if not isinstance(params, dict) or "status" not in info:
        warn(f"{path}: run.json is not an mlrun run (no status or params); skipped")
        return None
    timings = info.get("timings")
    row = {
        "run": name,
        "path": path,
        "status": _status(info, now, stale_after),
        "duration": timings.get("total_seconds") if isinstance(timings, dict) else None,
        "epochs": info.get("epochs"),
        "_kind": info.get("kind", "train"),
        "_smoke": bool(info.get("smoke")),
    }
    if _FIXED_SET.isdisjoint(params):
        row.update(params)
    else:  # a parameter named like a fixed column never overwrites it
        row.update((k, v) for k, v in params.items() if k not in row)
    try:
        metrics = _read_metrics(os.path.join(path, "metrics.json"))
    except FileNotFoundError:  # running, failed or interrupted before evaluation: no metrics yet
        return row
    except (OSError, ValueError) as err:
        warn(f"{path}: metrics.json is {_why(err)}; shown as unreadable")
        row["status"] = "unreadable"
        return row
    if isinstance(metrics, dict):
        _add_metrics(row, metrics)
    return row


def load_rows(paths, kind="train", include_smoke=False, warn=None, now=None, stale_after=3600.0):
    """Rows of every run below ``paths`` of this kind (None: all kinds), smoke runs only on request.

    Unreadable rows are kept whatever the kind (their kind is unknown) so they are never silently lost.
    """
    warn = warn or _python_warning
    now = time.time() if now is None else now
    rows = []
    for run_dir in run_dirs(paths):
        row = read_row(run_dir, now, stale_after, warn)
        if row is None:
            continue
        run_kind, smoke = row.pop("_kind", None), row.pop("_smoke", False)
        if row["status"] != "unreadable" and kind is not None and run_kind != kind:
            continue
        if smoke and not include_smoke:
            continue
        rows.append(row)
    return rows


def _python_warning(message: str) -> None:
    warnings.warn(message, RunWarning, stacklevel=4)


# ---------------------------------------------------------------- keys: params, metrics, directions


@functools.lru_cache(maxsize=4096)  # a few dozen distinct keys, asked about for every row
def is_metric(key: str) -> bool:
    """"<split>.<metric>" (and "<split>.<metric>.std" in groups)."""
    return key.split(".", 1)[0] in SPLITS and "." in key


@functools.lru_cache(maxsize=4096)
def is_param(key: str) -> bool:
    return key not in GROUP_FIXED and key not in FIXED and not is_metric(key)


def all_keys(rows: Iterable[dict]) -> list[str]:
    """Every key of the rows in first-seen order (dict.fromkeys over chain: C speed for 10^4 rows)."""
    return list(dict.fromkeys(itertools.chain.from_iterable(rows)))


def _ordered_keys(rows: Iterable[dict], keep: Callable[[str], bool]) -> list[str]:
    return [k for k in all_keys(rows) if keep(k)]


def _same(rows: list[dict], key: str) -> bool:
    first = rows[0].get(key, _MISSING)
    return all(row.get(key, _MISSING) == first for row in rows)  # stops at the first difference


def _comparable(value):
    # lists and dicts (model.neurons: [64, 32]) are unhashable: compare their JSON text
    return json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else value


def differing_keys(rows: list[dict], keys: list[str] | None = None) -> list[str]:
    """Parameter keys whose value is not the same in every row (a missing key counts as a value).

    "name" (the run column already shows it) is never listed; "seed" is, when it differs.
    ``keys``: all_keys(rows) when the caller has it already.
    """
    rows = [row for row in rows if row.get("status") != "unreadable"]  # they have no params to compare
    keys = all_keys(rows) if keys is None else keys
    return [k for k in keys if k != "name" and is_param(k) and not _same(rows, k)]


_MISSING = "\0missing"


def direction(key: str) -> bool | None:
    """True if higher is better (scores), False if lower is (losses, errors, time), None otherwise."""
    if key.endswith(".std"):
        return False if is_metric(key) else None
    last = key.rsplit(".", 1)[-1]
    if last in HIGHER or last.startswith("f1"):
        return True
    if last in LOWER or "loss" in last or "error" in last:
        return False
    return None


def resolve_key(key: str, known: Iterable[str], what: str = "key") -> str:
    """The key itself, or "test.<key>" for a bare metric name; else ValueError with near matches."""
    known = list(known)
    if key in known:
        return key
    if f"test.{key}" in known:
        return f"test.{key}"
    import difflib

    near = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    near += [k for k in known if key in k and k not in near][: 3 - len(near)]
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise ValueError(f"unknown {what} {key!r}{hint}")


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
    known = [k for k in keys if is_metric(k) and not k.endswith(".std")]
    if metrics is not None:
        names = metrics.split(",") if isinstance(metrics, str) else list(metrics)
        names = [n.strip() for n in names if n.strip()]
        if not rows or not strict:
            return [n if is_metric(n) or f"test.{n}" not in known else f"test.{n}" for n in names]
        return [resolve_key(n, known, "metric") for n in names]
    chosen = [k for main in MAIN for k in MAIN[main] if main in known and k in known]
    return chosen or [k for k in known if k.startswith("test.")][:4] or known[:4]


def columns(rows: list[dict], metrics=None, all_params=False) -> list[str]:
    """Display columns: run, (n,) status, duration, epochs, params that differ (all with all_params),
    metrics (each followed by its ".std" in groups)."""
    grouped = any("n" in row for row in rows)
    head = ["run", "status", "duration", "epochs"]
    if grouped:
        head.insert(1, "n")
    keys = all_keys(rows)
    params = _nest([k for k in keys if is_param(k)] if all_params else differing_keys(rows, keys))
    cols = []
    for key in metric_columns(rows, metrics, strict=False, keys=keys):
        cols += [key, f"{key}.std"] if grouped else [key]
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


def machine_columns(rows: list[dict], cols: list[str]) -> list[str]:
    """``cols`` plus where each row comes from (csv, json): path, or runs and seeds for a group."""
    grouped = any("n" in row for row in rows)
    return [cols[0], *(["runs", "seeds"] if grouped else ["path"]), *cols[1:]]


# ---------------------------------------------------------------- filters


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


def _is_number(value) -> bool:
    return type(value) in _NUMBER and not (type(value) is float and math.isnan(value))


def _equal(value, target, raw: str) -> bool:
    if target is None or isinstance(target, bool):
        return value is target
    if type(target) in _NUMBER:
        return _is_number(value) and math.isclose(value, target, rel_tol=1e-12, abs_tol=0.0)
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
    if not _is_number(target):
        raise ValueError(f"bad filter {expr!r}: {op} needs a number; got {raw!r}")
    test = _ORDER[op]
    return lambda row: _is_number(row.get(key)) and test(row.get(key), target)


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


# ---------------------------------------------------------------- sorting


def _sort_value(value):
    # numbers before text so a mixed column still sorts; bools as numbers
    if isinstance(value, _NUMBER):
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
    values = [v for v in values if _is_number(v)]
    return math.fsum(values) / len(values) if values else None


def _std(values: list) -> float | None:
    """Sample standard deviation sqrt(fsum((x - mean)²) / (n - 1)) (= numpy std(ddof=1)); None when
    fewer than two values (it is undefined). Two-pass in floats: statistics.stdev's Fractions cost
    seconds over thousands of groups."""
    values = [v for v in values if _is_number(v)]
    if len(values) < 2:
        return None
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))


def merge_group(members: list[dict]) -> dict:
    """One row for runs differing only in seed: n, seeds, status counts, mean of duration and epochs,
    the shared parameters, and for each metric m: m = mean, "m.std" = sample std (ddof=1; None if n=1).
    Null metric values are left out of both (the mean is over the runs that have the metric)."""
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
    row.update((k, v) for k, v in first.items() if is_param(k) and k not in SEED_KEYS)
    if len(members) == 1:  # most groups of a sweep without seeds: no arithmetic to do
        for key, value in first.items():
            if is_metric(key):
                row[key], row[_std_key(key)] = (value if _is_number(value) else None), None
        return row
    for key in _ordered_keys(members, is_metric):
        values = [m.get(key) for m in members]
        row[key], row[_std_key(key)] = _mean(values), _std(values)
    return row


@functools.lru_cache(maxsize=4096)
def _std_key(key: str) -> str:
    return f"{key}.std"


def group_rows(rows: list[dict]) -> list[dict]:
    """Seed groups in first-seen order; unreadable rows pass through as they are."""
    groups: dict[tuple, list[dict]] = {}
    loose = []
    for row in rows:
        if row["status"] == "unreadable":
            loose.append(row)
        else:
            groups.setdefault(group_key(row), []).append(row)
    return [merge_group(members) for members in groups.values()] + loose


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
    """One flat dict per run below ``paths`` (DESIGN.md section 6), filtered, sorted, cut to ``top``.

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
        (on_warning or _python_warning)(message)

    rows = load_rows(paths, kind, include_smoke, warn, now, stale_after)
    if metrics is not None:  # validated against every run loaded, not only those the filters keep
        metrics = metric_columns(rows, metrics)
        sort = sort or next((k for k in metrics if direction(k) is not None), None)
    rows = apply_filters(rows, filters)
    if group:
        rows = group_rows(rows)
    rows = sort_rows(rows, sort, descending)
    out = Rows(rows[:top] if top is not None else rows)
    out.columns = columns(out, metrics, all_params)
    out.warnings = messages
    return out


# ---------------------------------------------------------------- text formats


def best_values(rows: list[dict], cols: Iterable[str]) -> dict[str, float]:
    """The best value of each metric column with a direction (max of scores, min of losses)."""
    best = {}
    for key in cols:
        good = direction(key)
        if not is_metric(key) or key.endswith(".std") or good is None:
            continue
        values = [row.get(key) for row in rows if _is_number(row.get(key))]
        if values:
            best[key] = max(values) if good else min(values)
    return best


def format_duration(seconds) -> str:
    """12.3s, 4m05s, 2h03m."""
    if not _is_number(seconds):
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def format_value(value, precision: int = 4, key: str = "") -> str:
    """A cell as text: floats to ``precision`` significant digits, null empty, lists as JSON."""
    if value is None:
        return ""
    if key == "duration":
        return format_duration(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.{precision}g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def display_columns(cols: list[str]) -> list[str]:
    """Columns as a table shows them: a ".std" column folds into its mean ("0.95 ± 0.01")."""
    return [c for c in cols if not (c.endswith(".std") and c[: -len(".std")] in cols)]


def display_cells(row: dict, cols: list[str], precision: int = 4) -> list[str]:
    """The row's text for each display column."""
    out = []
    for key in display_columns(cols):
        text = format_value(row.get(key), precision, key)
        std = row.get(f"{key}.std")
        if f"{key}.std" in cols and text and std is not None:
            text += f" ± {format_value(std, precision)}"
        out.append(text)
    return out


def _machine_value(value):
    if type(value) is float and not math.isfinite(value):
        return None
    return value


def to_json(rows: list[dict], cols: list[str]) -> str:
    """A JSON list of objects with exactly ``cols`` (missing keys null); json.loads gives them back."""
    data = [{c: _machine_value(row.get(c)) for c in cols} for row in rows]
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return _machine_value(value)  # floats as repr: they parse back exactly


def to_csv(rows: list[dict], cols: list[str]) -> str:
    """CSV with a header row; null is an empty cell, lists are JSON text, floats at full precision."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    writer.writerows([_csv_cell(row.get(c)) for c in cols] for row in rows)
    return buf.getvalue()


def to_markdown(rows: list[dict], cols: list[str], precision: int = 4) -> str:
    """A GitHub table (for CI comments): numbers right-aligned, the best value of each metric in bold."""
    shown = display_columns(cols)
    best = best_values(rows, cols)
    numeric = {c for c in shown if any(_is_number(row.get(c)) for row in rows)}
    rule = "|" + "|".join("---:" if c in numeric else "---" for c in shown) + "|"
    lines = ["| " + " | ".join(shown) + " |", rule]
    for row in rows:
        cells = display_cells(row, cols, precision)
        for i, key in enumerate(shown):
            if key in best and row.get(key) == best[key]:
                cells[i] = f"**{cells[i]}**"
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- learning curves


def curve_label(row: dict, keys: list[str], precision: int = 3) -> str:
    """"model.activation=elu, optimizer.learning_rate=0.001", or the run name when nothing differs."""
    parts = [f"{k}={format_value(row.get(k), precision)}" for k in keys]
    return ", ".join(parts) or str(row["run"])


def plot_curves(rows: list[dict], out, key: str = "val_loss", limit: int = 12, title: str = "") -> list[str]:
    """Overlay the learning curves of the first ``limit`` rows (a group: its first run) into ``out``.

    Returns the labels drawn; runs without a readable history.csv are skipped.
    """
    from mlrun.plots import overlay_learning_curves
    from mlrun.runs import read_history

    shown = list(rows)[:limit]
    keys = differing_keys(shown)
    curves = []
    for row in shown:
        path = row.get("path") or (row.get("paths") or [None])[0]
        try:
            history = read_history(os.path.join(path, "history.csv"))
        except (OSError, ValueError, TypeError):
            continue
        curves.append((curve_label(row, keys), history))
    overlay_learning_curves(curves, out, title or f"{key} of {len(curves)} runs", key=key)
    return [label for label, _ in curves]
