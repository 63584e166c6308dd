"""A trained run's model: its network plus preprocessing, to predict on raw feature rows.

``mlrun.load_model(RUN_DIR)`` (docs/api.md) and ``mlrun predict RUN_DIR DATA.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlrun.nn.activations import softmax
from mlrun.nn.network import Network
from mlrun.nn.packed_file import read_packed
from mlrun.runs.files import csv_text, load_npz
from mlrun.spec.errors import ConfigError  # not mlrun.config: loading a model needs no pydantic


def probabilities(logits: np.ndarray) -> np.ndarray:
    """Class probabilities from logits, row-wise, in float64 (metrics and predictions read them)."""
    return softmax(np.asarray(logits, dtype=np.float64))


class Model:
    """A trained run's network with its preprocessing: predict on raw feature rows."""

    def __init__(self, network: Network, data_state: dict, warning: str | None = None) -> None:
        from mlrun.data.dataset import Preprocessor

        self.network = network
        self.pre = Preprocessor.from_state(data_state)
        self.warning = warning  # why this model may not be the run's finished one (None if it is)

    @property
    def task(self) -> str:
        return self.pre.task

    @property
    def classes(self):
        return self.pre.classes

    def _output(self, X) -> np.ndarray:
        return self.network.predict_output(self.pre.transform(np.asarray(X, dtype=np.float64))).astype(np.float64)

    def predict_proba(self, X) -> np.ndarray:
        if self.task != "classification":
            raise ValueError("predict_proba is for classification models")
        return probabilities(self._output(X))

    def predict(self, X) -> np.ndarray:
        out = self._output(X)
        if self.task == "classification":
            return self.pre.classes[np.argmax(out, axis=1)]
        return self.pre.inverse_y(out)


def predict_csv(model: Model, path) -> str:
    """Predictions for the rows of a CSV file (header row; columns matched by name), as CSV text."""
    from mlrun.data.user_csv import read_feature_csv

    X = read_feature_csv(path, model.pre.feature_names)
    if model.task == "classification":
        proba = model.predict_proba(X)
        labels = [str(c) for c in model.classes]
        header = ["y_pred"] + [f"score_{c}" for c in labels]
        rows = [[labels[i], *(f"{p:.6g}" for p in row)] for i, row in zip(np.argmax(proba, axis=1), proba)]
    else:
        pred = model.predict(X)
        names = model.pre.target_names
        header = [f"y_pred_{n}" for n in names] if len(names) > 1 else ["y_pred"]
        rows = [[f"{v:.8g}" for v in row] for row in pred]
    return csv_text(header, rows)


def _status_warning(path: Path) -> str | None:
    """None for a completed run; a one-line warning for an interrupted or diverged one (its model is
    partial or unreliable); ConfigError for a running, stale or failed one (its model.npz, if any, is
    left from an earlier stage, not this run's result)."""
    from mlrun.runs.directory import RunDir
    from mlrun.runs.discovery import display_status

    if not (path / "run.json").exists():
        return None
    _, info = RunDir.open(path)
    status, epochs = display_status(info), info.get("epochs")
    if status == "completed":
        return None
    if status in ("interrupted", "diverged"):
        return (f"{path} is {status} after {epochs} epochs: this model is its state then, not a finished "
                "training" + (" (resume it: mlrun train --resume)" if status == "interrupted" else ""))
    raise ConfigError(f"{path} is {status}; its model.npz is not this run's result (resume or retrain it)")


def load_model(path) -> Model:
    """The model saved in a run directory (model.npz, loaded with allow_pickle=False); ``.warning`` says
    if the run was interrupted or diverged; a running, stale or failed run is refused (ConfigError)."""
    path = Path(path)
    file = path / "model.npz"
    if not file.exists():
        raise ConfigError(f"no model.npz in {path} (is it a finished training run?)")
    warning = _status_warning(path)
    try:
        arrays = load_npz(file)
        if "bitwise" in arrays:  # nn/packed_file.py: the packed network with its preprocessing
            network, data_state = read_packed(arrays)
        else:
            data_state = {k[len("data."):]: v for k, v in arrays.items() if k.startswith("data.")}
            network = Network.from_arrays(arrays)
        return Model(network, data_state, warning)
    except (ValueError, KeyError, TypeError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{file} cannot be loaded: {why}") from None


