"""Outliers injected into a regression target, for claim 6 (MAE against RMSE/MSE with many outliers):
the contaminated data goes to a CSV that mlrun trains on, the clean target is kept to score the test
rows against (predictions.csv's ``row`` column joins them back)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


def contaminate(y: np.ndarray, fraction: float, rng: np.random.Generator,
                low: float = 5.0, high: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """A copy of ``y`` with ``round(fraction * n)`` rows, drawn without replacement, raised by
    U(low, high) x std(y): gross one-sided errors, as a broken sensor or a data-entry slip makes.
    Returns the contaminated target and the mask of the rows changed."""
    if not 0 <= fraction < 1:
        raise ValueError(f"fraction must be in [0, 1); got {fraction}")
    y = np.asarray(y, dtype=float)
    mask = np.zeros(len(y), dtype=bool)
    mask[rng.choice(len(y), size=int(round(fraction * len(y))), replace=False)] = True
    out = y.copy()
    out[mask] += rng.uniform(low, high, size=int(mask.sum())) * y.std()
    return out, mask


def write_dataset(path: Path, X: np.ndarray, y: np.ndarray) -> None:
    """X and y as a CSV with a header row (x0..x{k-1}, y), the form ``dataset: csv`` reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([*(f"x{i}" for i in range(X.shape[1])), "y"])
        writer.writerows([*map(repr, map(float, row)), repr(float(t))] for row, t in zip(X, y))


def clean_scores(predictions: Path, clean: np.ndarray) -> dict:
    """RMSE and MAE of a run's test predictions against the clean target of the same source rows."""
    with predictions.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    idx = np.array([int(r["row"]) for r in rows])
    err = np.array([float(r["y_pred"]) for r in rows]) - clean[idx]
    return {"rmse": float(np.sqrt(np.mean(err ** 2))), "mae": float(np.mean(np.abs(err)))}
