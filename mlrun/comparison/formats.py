"""Compare rows as output: table cells, csv, json and markdown text, and the learning-curve overlay.

The rich table lives in mlrun/cli/compare_view.py; this module returns text (and writes the curves' PNG).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable

from mlrun.comparison.keys import differing_keys, direction, is_metric, is_number, std_column

# ---------------------------------------------------------------- text formats


def machine_columns(rows: list[dict], cols: list[str]) -> list[str]:
    """``cols`` plus where each row comes from (csv, json): path, or runs and seeds for a group."""
    grouped = any("n" in row for row in rows)
    return [cols[0], *(["runs", "seeds"] if grouped else ["path"]), *cols[1:]]


def best_values(rows: list[dict], cols: Iterable[str]) -> dict[str, float]:
    """The best value of each metric column with a direction (max of scores, min of losses)."""
    best = {}
    for key in cols:
        good = direction(key)
        if not is_metric(key) or key.endswith(".std") or good is None:
            continue
        values = [row.get(key) for row in rows if is_number(row.get(key))]
        if values:
            best[key] = max(values) if good else min(values)
    return best


def format_duration(seconds) -> str:
    """12.3s, 4m05s, 2h03m."""
    if not is_number(seconds):
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def format_bytes(size) -> str:
    """512 B, 12.3 kB, 4.56 MB (powers of 1000, as file managers show sizes)."""
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size:.0f} B"


def format_value(value, precision: int = 4, key: str = "") -> str:
    """A cell as text: floats to ``precision`` significant digits, null empty, lists as JSON."""
    if value is None:
        return ""
    if key == "duration":
        return format_duration(value)
    if key == "model_bytes" and is_number(value):
        return format_bytes(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.{precision}g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def display_columns(cols: list[str]) -> list[str]:
    """Columns as a table shows them: a ".std" column folds into its ".mean" ("0.95 ± 0.01")."""
    means = {std_column(c) for c in cols if not c.endswith(".std")}
    return [c for c in cols if not (c.endswith(".std") and c in means)]


def display_cells(row: dict, cols: list[str], precision: int = 4) -> list[str]:
    """The row's text for each display column."""
    out = []
    for key in display_columns(cols):
        text = format_value(row.get(key), precision, key)
        std = row.get(std_column(key))
        if std_column(key) in cols and text and std is not None:
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
    numeric = {c for c in shown if any(is_number(row.get(c)) for row in rows)}
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
    """"model.activation=elu, optimizer.learning_rate=0.001" (keys this row has no value for left
    out), or the run name when nothing differs."""
    parts = [f"{k}={format_value(row.get(k), precision)}" for k in keys if row.get(k) is not None]
    return ", ".join(parts) or str(row["run"])


def _distinct(labels: list[str], rows: list[dict]) -> list[str]:
    """Labels several rows share get their run name, so every curve can be told apart."""
    seen = {label: labels.count(label) for label in labels}
    return [f"{label} [{row['run']}]" if seen[label] > 1 and label != row["run"] else label
            for label, row in zip(labels, rows)]


def _histories(row: dict):
    from mlrun.runs.history import read_history

    out = []
    for path in row.get("paths") or [row.get("path")]:
        try:
            out.append(read_history(os.path.join(path, "history.csv")))
        except (OSError, ValueError, TypeError):
            continue
    return out


def plot_curves(rows: list[dict], out, key: str = "val_loss", limit: int = 12, title: str = "") -> list[str]:
    """Overlay the learning curves of the first ``limit`` rows into ``out``; a seed group (--group)
    is its runs' mean with a ± std band and n in the label.

    Returns the labels drawn; runs without a readable history.csv are skipped.
    """
    from mlrun.runs.overlay import overlay_learning_curves

    shown = list(rows)[:limit]
    keys = differing_keys(shown)
    kept, curves = [], []
    for row in shown:
        histories = _histories(row)
        if histories:
            kept.append(row)
            curves.append(histories if "paths" in row else histories[0])
    labels = _distinct([curve_label(row, keys) for row in kept], kept)
    groups = sum(isinstance(c[0], list) for c in curves)
    what = f"{groups} groups ({sum(map(len, curves))} runs)" if groups else f"{len(curves)} runs"
    overlay_learning_curves(list(zip(labels, curves)), out, title or f"{key} of {what}", key=key)
    return labels
