"""The records data passes through, and ``DataError``, the one exception bad data raises.

``RawData``: rows as a loader read them; ``Preprocessor``: the scaling and label encoding fitted on the
training part (what a saved model keeps); ``Dataset``: the scaled splits plus that preprocessing.
Their own module so the loaders (``sources``, ``user_csv``) and ``experiment.model`` share them
without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class DataError(ValueError):
    """A one-line, user-facing problem with the data section or the data itself."""


@dataclass
class Preprocessor:
    """Everything needed to turn raw rows into network inputs and outputs back into labels/units.

    Features: x_scaled = (x - center) / scale; regression targets: y_std = (y - y_mean) / y_scale.
    """

    task: str
    classes: np.ndarray | None
    positive_class: int | None
    feature_names: list[str]
    target_names: list[str]
    scaler: dict
    y_mean: np.ndarray | None
    y_scale: np.ndarray | None
    name: str

    @property
    def n_features(self) -> int:
        return len(self.scaler["center"])

    @property
    def n_outputs(self) -> int:
        return len(self.classes) if self.task == "classification" else len(self.y_mean)

    def transform(self, X_raw) -> np.ndarray:
        """Scale raw feature rows (n, n_features) as the training part was: (x - center) / scale."""
        X = np.asarray(X_raw, dtype=np.float64)
        X = X.reshape(1, -1) if X.ndim == 1 else X
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise DataError(
                f"expected {self.n_features} feature columns ({', '.join(self.feature_names)}); "
                f"got shape {X.shape}"
            )
        return (X - self.scaler["center"]) / self.scaler["scale"]

    def inverse_y(self, y_std) -> np.ndarray:
        """Regression: y = y_std * y_scale + y_mean in original units, shape (n, n_targets).

        Classification outputs are returned unchanged."""
        if self.task != "regression":
            return np.asarray(y_std)
        y = np.asarray(y_std, dtype=np.float64).reshape(-1, len(self.y_mean))
        return y * self.y_scale + self.y_mean

    def state(self, prefix: str = "") -> dict[str, np.ndarray | str]:
        """Plain arrays and strings (no object dtype) for np.savez; read back by ``from_state``."""
        state = {
            "task": self.task, "name": self.name, "scaler_kind": self.scaler["kind"],
            "scaler_center": np.asarray(self.scaler["center"], dtype=np.float64),
            "scaler_scale": np.asarray(self.scaler["scale"], dtype=np.float64),
            "feature_names": np.asarray(self.feature_names, dtype=str),
            "target_names": np.asarray(self.target_names, dtype=str),
        }
        if self.classes is not None:
            state["classes"] = plain_array(self.classes)
        if self.positive_class is not None:
            state["positive_class"] = np.asarray(self.positive_class, dtype=np.int64)
        if self.y_mean is not None:
            state["y_mean"], state["y_scale"] = self.y_mean, self.y_scale
        return {prefix + key: value for key, value in state.items()}

    @classmethod
    def from_state(cls, state, prefix: str = "") -> Preprocessor:
        """Rebuild from ``state()`` (a dict or an opened npz file)."""

        def get(key):
            value = state[prefix + key] if prefix + key in state else None
            return np.asarray(value) if value is not None else None

        positive = get("positive_class")
        kind = str(get("scaler_kind"))
        return cls(
            task=str(get("task")), name=str(get("name")), classes=get("classes"),
            positive_class=None if positive is None else int(positive),
            feature_names=[str(n) for n in get("feature_names")],
            target_names=[str(n) for n in get("target_names")],
            scaler={"kind": kind, "center": get("scaler_center"), "scale": get("scaler_scale")},
            y_mean=get("y_mean"), y_scale=get("y_scale"),
        )


@dataclass
class Dataset(Preprocessor):
    """Scaled splits plus the preprocessing fitted on the training part.

    X_*: float64 (n, n_features); y_*: int64 codes (n,) or float64 standardised targets (n, n_targets).
    """

    X_train: np.ndarray = field(repr=False, default=None)
    y_train: np.ndarray = field(repr=False, default=None)
    X_val: np.ndarray = field(repr=False, default=None)
    y_val: np.ndarray = field(repr=False, default=None)
    X_test: np.ndarray = field(repr=False, default=None)
    y_test: np.ndarray = field(repr=False, default=None)
    rows_test: np.ndarray = field(repr=False, default=None)  # each test row's index among the source's data rows
    y_ahead_train: np.ndarray = field(repr=False, default=None)  # sequence data: each training row's H further targets

    def summary(self) -> str:
        """One line: split sizes, features and classes (or targets)."""
        sizes = [f"{len(X)} {split}" for X, split in
                 ((self.X_train, "train"), (self.X_val, "validation"), (self.X_test, "test")) if X is not None]
        if self.task == "classification":
            outputs = f"{len(self.classes)} classes ({join_values(self.classes[:10])}"
            outputs += ", ...)" if len(self.classes) > 10 else ")"
        else:
            outputs = f"{len(self.target_names)} regression target{'s' * (len(self.target_names) != 1)}"
        return f"{' / '.join(sizes)} rows, {self.n_features} features, {outputs}"


def label_key(label, textual: bool):
    if textual:
        return str(label)
    try:
        return float(label)
    except (TypeError, ValueError):
        return str(label)


def plain_array(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    return values.astype(str) if values.dtype.kind in "OUS" else values


def join_values(values, limit: int = 20) -> str:
    """'a, b, c'; past ``limit`` values '..., and 9,980 more' (a 10,000-column header is no error line)."""
    values = [str(v) for v in values]
    more = f", and {len(values) - limit:,} more" if len(values) > limit else ""
    return ", ".join(values[:limit]) + more


@dataclass
class RawData:
    X: np.ndarray
    y: np.ndarray  # (n,) labels, or (n, t) targets
    feature_names: list[str]
    target_names: list[str]
    task: str | None  # fixed by the dataset, or None (csv: decided from the values)
    where: str
    split: np.ndarray | None = None  # a published split: each row's SPLITS code (0 train, 1 validation, 2 test)
    source_rows: np.ndarray | None = None  # each row's index in its own file (a test file counts from 0)
