"""diagnostics.csv: tidy rows (epoch, layer, quantity, value), for pandas and DVC; and reading it back."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from mlrun.runs.files import write_csv

HEADER = ("epoch", "layer", "quantity", "value")
FILE = "diagnostics.csv"
# the per-layer table's columns, in reading order
QUANTITIES = ("act_mean", "act_std", "act_p02", "act_p98", "saturated", "dead", "grad_std",
              "weight_grad_norm", "update_ratio")


def write_rows(path, rows: list[dict]) -> Path:
    return write_csv(path, list(HEADER), [[row[k] for k in HEADER] for row in rows])


def read_rows(path) -> list[dict]:
    """diagnostics.csv back: epoch and layer ints, value a float."""
    with open(path, encoding="utf-8", newline="") as fh:
        return [{"epoch": int(r["epoch"]), "layer": int(r["layer"]), "quantity": r["quantity"],
                 "value": float(r["value"])} for r in csv.DictReader(fh)]


def last_epoch_table(rows: list[dict]) -> tuple[int | None, list[str], list[list]]:
    """The latest measured epoch's per-layer table: (epoch, columns, one row per layer)."""
    if not rows:
        return None, [], []
    epoch = max(r["epoch"] for r in rows)
    by_layer = defaultdict(dict)
    for r in rows:
        if r["epoch"] == epoch:
            by_layer[r["layer"]][r["quantity"]] = r["value"]
    columns = [q for q in QUANTITIES if any(q in v for v in by_layer.values())]
    return epoch, ["layer", *columns], [[layer, *(by_layer[layer].get(q) for q in columns)]
                                       for layer in sorted(by_layer)]
