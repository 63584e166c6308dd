"""history.csv: one row per epoch; its columns and reading it back."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from mlrun.runs.files import write_csv

HISTORY_HEAD = ("epoch", "learning_rate", "momentum", "train_loss", "val_loss", "grad_norm")
PLAIN_COLUMNS = ("stage",)  # columns named as they are, not val_ metrics (a bitwise run's stage: 1 or 2)


def history_header(metric_names=()) -> list[str]:
    """history.csv columns: epoch, learning_rate, momentum, train_loss, val_loss, grad_norm,
    val_<metric>... (and ``stage`` when asked for), seconds."""
    metrics = [m if m.startswith("val_") or m in PLAIN_COLUMNS else f"val_{m}" for m in metric_names]
    metrics = [m for m in dict.fromkeys(metrics) if m not in HISTORY_HEAD]
    return [*HISTORY_HEAD, *metrics, "seconds"]


def write_history(path, history: list[dict], metric_names=()) -> Path:
    """Write history.csv atomically: the columns of ``history_header(metric_names)``, a row per epoch."""
    header = history_header(metric_names)
    return write_csv(path, header, [[row.get(key) for key in header] for row in history])


def append_history(path, row: dict, metric_names=()) -> None:
    """One epoch's row appended to history.csv (written by ``write_history`` first, header included).

    One ``os.write`` on an O_APPEND descriptor: a reader sees whole rows, and the file costs the same
    in epoch 5,000 as in epoch 1 (rewriting it every epoch made a run quadratic in its epochs).
    """
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([row.get(key) for key in history_header(metric_names)])
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, buf.getvalue().encode("utf-8"))
    finally:
        os.close(fd)


def read_history(path) -> list[dict]:
    """history.csv back as dicts: epoch an int, the rest floats, empty cells None."""
    with open(path, encoding="utf-8", newline="") as fh:
        return [{k: _parse_cell(k, v) for k, v in row.items()} for row in csv.DictReader(fh)]


def _parse_cell(key: str, value: str | None):
    if value is None or value == "":
        return None
    number = float(value)
    if key == "epoch" and number.is_integer():
        return int(number)
    return number
