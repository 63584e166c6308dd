"""Reading run directories into flat rows: one dict per run from its run.json and metrics.json.

Reads only those two files (never config.yaml or history.csv), so 10,000 runs load in well under 2 s
(bench/bench_compare.py). A corrupt directory becomes an "unreadable" row and a warning, never an error.
"""

from __future__ import annotations

import json
import os
import re
import stat
import time
import warnings
from collections.abc import Callable

from mlrun.runs.discovery import display_status
from mlrun.runs.discovery import run_dir_paths as run_dirs

FIXED = ("run", "path", "status", "duration", "epochs", "findings", "model_bytes")
_FIXED_SET = frozenset(FIXED) | {"_kind", "_smoke"}


class RunWarning(UserWarning):
    """A run directory that could not be read (corrupt JSON, not an mlrun run.json)."""


MAX_JSON = 64 << 20  # a run's JSON file is never near this; /dev/zero or a huge file is refused


def _read_bytes(path: str) -> bytes:
    # os.open/os.read: no file object or text layer (a third of the time of open().read()); non-blocking
    # and fstat-checked, so a FIFO or a device named run.json never hangs or fills memory
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file (a FIFO, device or socket)")
        if info.st_size > MAX_JSON:
            raise ValueError(f"{info.st_size >> 20} MiB (at most {MAX_JSON >> 20} MiB)")
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
    try:
        return json.loads(_read_bytes(path))
    except RecursionError:  # json is recursive: a file nested 100,000 levels deep exhausts the stack
        raise ValueError("nested too deeply to be an mlrun file") from None


# A confusion matrix is never a column, and its hundreds of ints are most of the parsing work: blank it
# in the bytes first (only digits, brackets, commas, signs, dots and spaces can match). 2.5x faster.
_CONFUSION = re.compile(rb'"confusion_matrix"\s*:\s*\[[\[\]\d,.eE+\-\s]*\]')


def _read_metrics(path: str):
    try:
        return json.loads(_CONFUSION.sub(b'"confusion_matrix": null', _read_bytes(path)))
    except RecursionError:
        raise ValueError("nested too deeply to be an mlrun file") from None


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


def _add_metrics(row: dict, metrics, prefix: str = "") -> None:
    # "<split>.<metric>" for scalars (and nulls) only: a confusion matrix is never a column;
    # a baseline's are "baseline.<label>.<split>.<metric>" (runs before baselines have none)
    keys = _METRIC_KEYS
    for split, values in metrics.items():
        if split == "baselines" and not prefix and type(values) is dict:
            for label, by_split in values.items():
                if type(by_split) is dict:
                    _add_metrics(row, by_split, f"baseline.{label}.")
        elif type(values) is dict:
            split = prefix + split
            for name, value in values.items():
                kind = type(value)
                if kind is float or kind is int or (value is None and name != "confusion_matrix"):
                    key = keys.get((split, name))  # split carries its baseline prefix
                    if key is None:
                        key = keys[split, name] = f"{split}.{name}"
                    row[key] = value


def _lr_find_columns(info: dict) -> dict:
    """A range test's results as "lr_find.<name>" columns: the suggestion, its rule, the steps run and
    each rule's learning rate."""
    out = {f"lr_find.{k}": info.get(k) for k in ("suggestion", "rule", "steps")}
    suggestions = info.get("suggestions")
    if isinstance(suggestions, dict):
        out.update((f"lr_find.{rule}", lr) for rule, lr in suggestions.items())
    return out


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
    if row["_kind"] == "lr_find":
        row.update(_lr_find_columns(info))
    diagnostics = info.get("diagnostics")
    if isinstance(diagnostics, dict):  # runs measured by mlrun.diagnostics: the advisor's finding count
        row["findings"] = diagnostics.get("findings")
    if "model_bytes" in info:  # the size of model.npz (runs before it was recorded have none)
        row["model_bytes"] = info["model_bytes"]
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
    warn = warn or python_warning
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


def python_warning(message: str) -> None:
    warnings.warn(message, RunWarning, stacklevel=4)
