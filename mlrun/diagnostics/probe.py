"""The diagnostics callback: measures every hidden layer on a fixed probe batch at initialisation and
after every ``every``-th epoch, and keeps the results (tidy rows and histogram samples) in memory.

It never touches the training network's buffers or random streams: it measures a copy (same specs,
weights and batch-norm state copied in), so a run trains bit-identically with or without it.
"""

from __future__ import annotations

import math
import time

import numpy as np

from mlrun.diagnostics.measures import hidden_layers, measure, norm
from mlrun.nn.network import Network
from mlrun.training.setup import seeds

DEFAULT_EVERY, DEFAULT_PROBE_ROWS = "auto", 512
# every: auto measures after an epoch only while the measuring time stays within this share of the
# training time so far (so at init, then as often as the budget allows: each epoch on a large network)
OVERHEAD_BUDGET = 0.05


def diagnostics_options(value) -> dict | None:
    """``training.diagnostics`` (true | false | {every: N | auto, probe_rows: M}) -> options, or None."""
    if value is False or value is None:
        return None
    options = {"every": DEFAULT_EVERY, "probe_rows": DEFAULT_PROBE_ROWS}
    if isinstance(value, dict):
        options.update({k: v if v == "auto" else int(v) for k, v in value.items() if v is not None})
    return options


def probe_rows(n_rows: int, size: int, seed_sequence: np.random.SeedSequence) -> np.ndarray:
    """The probe batch's row indices (sorted): ``size`` rows drawn without replacement from the seed child."""
    rng = np.random.default_rng(seed_sequence)
    if n_rows <= size:
        return np.arange(n_rows)
    return np.sort(rng.choice(n_rows, size=size, replace=False))


class Diagnostics:
    """Trainer callback; ``rows`` = [{"epoch", "layer", "quantity", "value"}], ``layers`` = per-layer facts,
    ``samples`` = {"init" | "end": {layer: {"activation": array, "gradient": array}}} for the histograms."""

    def __init__(self, X_probe, y_probe, n_train: int, every: int | str = DEFAULT_EVERY,
                 rows: list[dict] | None = None) -> None:
        self.X_probe, self.y_probe, self.n_train = X_probe, y_probe, int(n_train)
        self.every = every if every == "auto" else max(1, int(every))
        self.train_seconds = self.measure_seconds = self.last_cost = 0.0
        self.rows: list[dict] = list(rows or [])
        self.samples: dict[str, dict] = {}
        self.layers: list[dict] = []
        self._probe = None

    # -- trainer hooks ------------------------------------------------------------------------------
    def on_setup(self, setup) -> None:
        net = setup.network
        self.loss = setup.loss
        self._probe = Network(net.specs, net.in_dim, net.dtype)
        self.blocks = hidden_layers(self._probe.layers)
        self.layers = [{"layer": b.number, "activation": b.activation, "units": b.units} for b in self.blocks]
        self.X_probe = np.ascontiguousarray(self.X_probe, dtype=net.dtype)
        if self.y_probe.dtype.kind == "f":
            self.y_probe = np.ascontiguousarray(self.y_probe, dtype=net.dtype)
        self._weights = [self._offset(net, layer.params["W"]) for layer in
                         (net.layers[b.first] for b in self.blocks)]
        self._before = np.empty_like(net.params)
        self._per_epoch = None

    def on_train_begin(self, trainer) -> None:
        if not self.blocks:
            return
        self._per_epoch = trainer.batches_per_epoch(self.n_train)
        np.copyto(self._before, trainer.network.params)
        if trainer.epoch == 0:
            self._measure(trainer, 0)

    def on_batch_end(self, trainer, logs) -> None:
        # the weights before the epoch's last step, for that step's ||ΔW|| / ||W||
        if self.blocks and self._per_epoch > 1 and trainer.step % self._per_epoch == self._per_epoch - 1:
            np.copyto(self._before, trainer.network.params)

    def on_epoch_end(self, trainer, logs) -> None:
        if not self.blocks:
            return
        self.train_seconds += logs.get("seconds") or 0.0
        if self._due(trainer):
            self._measure(trainer, trainer.epoch, update=True)
        if self._per_epoch == 1:
            np.copyto(self._before, trainer.network.params)

    def _due(self, trainer) -> bool:
        if self.every != "auto":
            return trainer.epoch % self.every == 0 or trainer.epoch == trainer.epochs
        return self.measure_seconds + self.last_cost <= OVERHEAD_BUDGET * self.train_seconds

    # -- measuring ----------------------------------------------------------------------------------
    @staticmethod
    def _offset(net, W) -> tuple[int, int]:
        start = (W.__array_interface__["data"][0] - net.params.__array_interface__["data"][0]) // W.itemsize
        return int(start), int(start + W.size)

    def _measure(self, trainer, epoch: int, update: bool = False) -> None:
        started = time.perf_counter()
        net, probe = trainer.network, self._probe
        np.copyto(probe.params, net.params[:probe.n_params])  # MTP modules (nn/mtp.py) follow the main part
        probe.load_layer_state(net.layer_state())
        stats, raw = measure(probe.layers, self.blocks, self.loss, self.X_probe, self.y_probe)
        for block, (start, stop) in zip(self.blocks, self._weights):
            values = stats[block.number]
            if update:
                values["update_ratio"] = _ratio(net.params[start:stop] - self._before[start:stop],
                                                net.params[start:stop])
            self.rows += [{"epoch": epoch, "layer": block.number, "quantity": q, "value": v}
                          for q, v in values.items()]
        self.samples["init" if epoch == 0 else "end"] = {
            number: {"epoch": epoch, "activation": np.array(a, np.float32).ravel(),
                     "gradient": np.array(da, np.float32).ravel()} for number, (a, da) in raw.items()}
        self.last_cost = time.perf_counter() - started
        self.measure_seconds += self.last_cost

    def result(self) -> dict:
        """What the run-directory writer keeps: rows, per-layer facts, histogram samples, options."""
        return {"rows": self.rows, "layers": self.layers, "samples": self.samples, "every": self.every,
                "probe_rows": int(len(self.X_probe))}


def _ratio(delta, W) -> float:
    w = norm(W)
    return norm(delta) / w if w > 0 else math.inf


def diagnostics_callback(cfg, dataset, rows: list[dict] | None = None) -> Diagnostics | None:
    """The callback a spec asks for (``training.diagnostics``; on by default), or None when it is off.
    ``rows``: what a resumed run measured before, kept."""
    options = diagnostics_options(cfg.to_dict()["training"].get("diagnostics"))
    if options is None:
        return None
    n = len(dataset.X_train)
    index = probe_rows(n, options["probe_rows"], seeds(cfg.seed)["probe"])
    return Diagnostics(dataset.X_train[index], dataset.y_train[index], n, options["every"], rows)
