"""The training loop: batches -> forward -> loss -> backward -> L2 -> clip + optimizer step, per-epoch
history and stop rules (docs/contract.md). It never prints or writes files: progress, run
directories and checkpoints are callbacks with any of these methods::

    on_train_begin(trainer)   on_batch_end(trainer, logs)   on_epoch_end(trainer, logs)   on_train_end(trainer)
    epoch_logs(trainer) -> dict   (extra columns of the epoch's history row)

A callback (or a signal handler) calls ``trainer.request_stop(reason)`` to end the run after the
current batch. The whole state can be saved (``state()``: JSON dict + arrays) and restored
(``load_state``) so a run resumes bit-identically.
"""

from __future__ import annotations

import math
import time

import numpy as np

from mlrun.metrics.names import MONITOR_ALIASES
from mlrun.training.early_stopping import EarlyStopping

DIVERGENCE_FACTOR = 1e4


GATHER_BYTES = 8 << 20  # rows are shuffled into blocks of about this size, then sliced into batches


def _batches(X, y, order, size):
    """The epoch's batches in ``order`` (None: X, y whole). Rows are gathered a block of batches at a
    time: one np.take per block and contiguous slices per batch are 3x faster than fancy-indexing
    every batch (scattered reads), and the extra copy stays bounded whatever the data size. A block is
    a whole number of batches, so the batches are exactly those of slicing ``order``."""
    if order is None:
        yield X, y
        return
    block = size * max(1, GATHER_BYTES // max(1, size * X[:1].nbytes))
    for first in range(0, len(order), block):
        rows = order[first:first + block]
        X_block, y_block = np.take(X, rows, axis=0), np.take(y, rows, axis=0)
        for start in range(0, len(rows), size):
            yield X_block[start:start + size], y_block[start:start + size]


def batches_per_epoch(n_rows: int, batch_size: int | str) -> int:
    """Optimizer steps per epoch: 1 for ``batch_size: full``, else ceil(rows / batch_size)."""
    if batch_size == "full":
        return 1
    return max(1, math.ceil(n_rows / int(batch_size)))


class Trainer:
    """Trains a Network in place; see the module docstring for callbacks and state."""

    def __init__(self, network, loss, optimizer, schedule=None, *, epochs=50, batch_size=32,
                 tolerance=None, early_stopping=None, l2=0.0, shuffle_rng=None, callbacks=(),
                 val_metrics=None) -> None:
        self.network = network
        self.loss = loss
        self.optimizer = optimizer
        self.schedule = schedule
        self.epochs = int(epochs)
        self.batch_size = batch_size
        self.tolerance = tolerance
        self.early_stopping = EarlyStopping(**early_stopping) if isinstance(early_stopping, dict) else early_stopping
        self.l2 = float(l2)
        self.shuffle_rng = shuffle_rng if shuffle_rng is not None else np.random.default_rng(0)
        self.callbacks = list(callbacks)
        self.val_metrics = val_metrics
        self.epoch = 0            # completed epochs
        self.step = 0             # optimizer steps taken
        self.history: list[dict] = []
        self.baseline: float | None = None
        self.status = "running"
        self.stop_reason: str | None = None
        self.best_weights = None
        self._stop_request: str | None = None
        self._finished: str | None = None  # a restored checkpoint whose training had already stopped
        self.train_seconds = 0.0

    # -- control --------------------------------------------------------------------------------
    def request_stop(self, reason: str = "interrupted") -> None:
        self._stop_request = reason

    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            method = getattr(cb, hook, None)
            if method is not None:
                method(self, *args)

    def batches_per_epoch(self, n_rows: int) -> int:
        return batches_per_epoch(n_rows, self.batch_size)

    # -- one step -------------------------------------------------------------------------------
    def _set_hyperparameters(self) -> None:
        if self.schedule is None:
            return
        self.optimizer.learning_rate = float(self.schedule(self.step))
        momentum = self.schedule.momentum(self.step)
        if momentum is not None:
            self.optimizer.set_momentum(momentum)

    def _batch_loss_and_grads(self, xb, yb) -> tuple[float, dict]:
        """Forward + backward on one batch; fills network.grads (L2 included); returns the loss and the
        network's own per-batch values (the MTP depths' losses)."""
        net = self.network
        value, parts = net.loss_and_gradient(xb, yb, self.loss, self.step)
        if self.l2:
            w = net.params[: net.n_regularized]
            value += 0.5 * self.l2 * float(np.dot(w, w))
            net.grads[: net.n_regularized] += self.l2 * w
        return float(value), parts

    def _diverged(self, value: float) -> bool:
        if self.baseline is None:
            self.baseline = value if math.isfinite(value) else None
            return not math.isfinite(value)
        return not math.isfinite(value) or value > DIVERGENCE_FACTOR * max(self.baseline, 1e-12)

    # -- one epoch ------------------------------------------------------------------------------
    def _run_epoch(self, X, y) -> dict | None:
        """One pass over the data; returns the epoch's log row, or None when stopped mid-epoch."""
        net, n = self.network, len(X)
        full = self.batch_size == "full"
        size = n if full else int(self.batch_size)
        order = None if full else self.shuffle_rng.permutation(n)
        grad_sum = np.zeros_like(net.grads)
        loss_sum = 0.0
        part_sums: dict[str, float] = {}
        batch_hooks = [cb.on_batch_end for cb in self.callbacks if hasattr(cb, "on_batch_end")]
        for xb, yb in _batches(X, y, order, size):
            value, parts = self._batch_loss_and_grads(xb, yb)
            if self._diverged(value):
                self.stop_reason = "diverged"
                return None
            rows = len(xb)
            loss_sum += value * rows
            for key, part in parts.items():
                part_sums[key] = part_sums.get(key, 0.0) + part * rows
            # row-weighted mean of the raw gradients (for grad_norm), in units of full batches
            if rows == size:
                grad_sum += net.grads
            else:
                grad_sum += (rows / size) * net.grads
            self._set_hyperparameters()
            self.optimizer.step([net.params], [net.grads], [net.segments])
            self.step += 1
            if batch_hooks:
                logs = {"step": self.step, "loss": value, "rows": rows}
                for hook in batch_hooks:
                    hook(self, logs)
            if self._stop_request:
                self.stop_reason = self._stop_request
                return None
        grad_sum *= size / n
        return {"train_loss": loss_sum / n, "grad_norm": float(np.sqrt(np.dot(grad_sum, grad_sum))),
                **{key: total / n for key, total in part_sums.items()}}

    def _evaluate(self, X_val, y_val) -> dict:
        if X_val is None or len(X_val) == 0:
            return {"val_loss": None}
        output = self.network.predict_output(X_val)
        logs = {"val_loss": float(self.loss.value(y_val, output))}
        if self.l2:
            w = self.network.params[: self.network.n_regularized]
            logs["val_loss"] += 0.5 * self.l2 * float(np.dot(w, w))
        if self.val_metrics is not None:
            logs.update({f"val_{k}": v for k, v in self.val_metrics(y_val, output).items()})
        return logs

    def _after_epoch(self, logs: dict) -> bool:
        """Stop rules, early stopping and schedule hooks; returns True to stop."""
        # the stop rules see the monitors' other names too ("loss" = train_loss); the history does not
        watched = {**logs, **{alias: logs[key] for alias, key in MONITOR_ALIASES.items() if key in logs}}
        if self.schedule is not None:
            self.schedule.on_epoch_end(watched)
        if self.tolerance is not None and logs["grad_norm"] < self.tolerance:
            self.stop_reason = "tolerance"
            return True
        es = self.early_stopping
        if es is not None:
            if es.monitor not in watched:  # the spec refuses such a monitor; never stop on a missing one
                raise ValueError(f"early stopping monitors {es.monitor!r}, which the epoch logs do not have "
                                 f"(they have: {', '.join(watched)})")
            improved, stop = es.update(watched[es.monitor], self.epoch)
            if improved and es.restore_best:
                self.best_weights = self.network.get_weights()
            if stop:
                self.stop_reason = "early_stopping"
                return True
        return False

    # -- the loop -------------------------------------------------------------------------------
    def fit(self, X, y, X_val=None, y_val=None) -> Trainer:
        """Train until a stop rule fires; sets status/stop_reason; returns self."""
        X = np.ascontiguousarray(X, dtype=self.network.dtype)
        if X_val is not None:
            X_val = np.ascontiguousarray(X_val, dtype=self.network.dtype)
        if y.dtype.kind == "f":
            y = np.ascontiguousarray(y, dtype=self.network.dtype)
            if y_val is not None:
                y_val = np.ascontiguousarray(y_val, dtype=self.network.dtype)
        self.status, self.stop_reason, self._stop_request = "running", None, None
        self._call("on_train_begin")
        while self.epoch < self.epochs and not self._finished:
            started = time.perf_counter()
            logs = self._run_epoch(X, y)
            if logs is None:
                break
            logs.update(self._evaluate(X_val, y_val))
            self.epoch += 1
            logs = {"epoch": self.epoch, "learning_rate": self.optimizer.learning_rate,
                    "momentum": self.optimizer.get_momentum(), **logs}
            for cb in self.callbacks:  # columns a callback adds to the row (a bitwise run's stage)
                if hasattr(cb, "epoch_logs"):
                    logs.update(cb.epoch_logs(self))
            stop = self._after_epoch(logs)
            logs["seconds"] = time.perf_counter() - started
            self.train_seconds += logs["seconds"]
            self.history.append(logs)
            self._call("on_epoch_end", logs)
            if stop:
                break
            if self._stop_request:
                self.stop_reason = self._stop_request
                break
        else:
            self.stop_reason = self._finished or "max_epochs"
        self.status = {"diverged": "diverged", "interrupted": "interrupted"}.get(self.stop_reason, "completed")
        if self.best_weights is not None and self.early_stopping.restore_best:
            self.network.set_weights(self.best_weights)
        self._call("on_train_end")
        return self

    # -- checkpoint state (JSON + arrays, never pickled) ----------------------------------------
    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        opt = self.optimizer.state()
        arrays = {f"weights.{k}": v for k, v in self.network.get_weights().items()}
        for i, slots in enumerate(opt.pop("slots") or []):
            arrays.update({f"optimizer.{i}.{k}": v for k, v in slots.items()})
        if self.best_weights is not None:
            arrays.update({f"best.{k}": v for k, v in self.best_weights.items()})
        meta = {
            "epoch": self.epoch, "step": self.step, "history": self.history, "baseline": self.baseline,
            "train_seconds": self.train_seconds, "optimizer": opt,
            # a stop rule that fired at this epoch: a run interrupted while writing its results
            # resumes to the same end instead of training on
            "stop_reason": self.stop_reason if self.stop_reason in ("tolerance", "early_stopping") else None,
            "schedule": self.schedule.state() if self.schedule is not None else None,
            "early_stopping": self.early_stopping.state() if self.early_stopping else None,
            "rng": {"shuffle": self.shuffle_rng.bit_generator.state,
                    "noise": self.network.noise_rng.bit_generator.state},
        }
        return meta, arrays

    def load_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        def group(prefix):
            return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}

        self.network.set_weights(group("weights."))
        opt = dict(meta["optimizer"])
        slot_arrays = group("optimizer.")
        n_slots = len({k.split(".", 1)[0] for k in slot_arrays})
        opt["slots"] = [
            {k.split(".", 1)[1]: v for k, v in slot_arrays.items() if k.split(".", 1)[0] == str(i)}
            for i in range(n_slots)
        ] or None
        self.optimizer.load_state(opt)
        best = group("best.")
        self.best_weights = best or None
        self.epoch, self.step = meta["epoch"], meta["step"]
        self.history, self.baseline = list(meta["history"]), meta["baseline"]
        self.train_seconds = meta.get("train_seconds", 0.0)
        self._finished = meta.get("stop_reason")
        if self.schedule is not None and meta["schedule"] is not None:
            self.schedule.load_state(meta["schedule"])
        if self.early_stopping is not None and meta["early_stopping"] is not None:
            self.early_stopping.load_state(meta["early_stopping"])
        self.shuffle_rng.bit_generator.state = meta["rng"]["shuffle"]
        self.network.noise_rng.bit_generator.state = meta["rng"]["noise"]
