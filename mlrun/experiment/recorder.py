"""The run-directory callback: history.csv every epoch; checkpoint and heartbeat on a time budget.

The checkpoint is one file, ``checkpoint.npz``: the trainer's arrays and its JSON state (under
``meta``) replaced together by one atomic rename, so a kill at any instant leaves either the previous
checkpoint or the new one, never a pair that disagrees. It does not hold the history: history.csv has
a row per epoch (appended), and a resume keeps its first ``epoch`` rows.
"""

from __future__ import annotations

import json
import time

import numpy as np

from mlrun.lr_finder.range_test import keep_curve
from mlrun.runs import directory as runs
from mlrun.runs.files import load_npz, to_json
from mlrun.runs.history import append_history, read_history, write_history
from mlrun.spec.errors import ConfigError
from mlrun.training.setup import Setup
from mlrun.training.trainer import Trainer

# At most one checkpoint (and run.json heartbeat) per this many seconds, plus one after the first
# epoch, one before a stop rule ends the run and one at the end or on a signal (the last whole epoch).
CHECKPOINT_SECONDS = 10.0
CHECKPOINT = "checkpoint.npz"
LEGACY_META = "checkpoint.json"  # run directories written before the checkpoint was one file


class RunRecorder:
    """Trainer callback: a history.csv row per epoch; checkpoint + heartbeat on a time budget."""

    def __init__(self, run_dir: runs.RunDir, metric_names: list[str], checkpoint_seconds: float | None = None):
        self.run_dir = run_dir
        self.metric_names = list(metric_names)
        self.checkpoint_seconds = CHECKPOINT_SECONDS if checkpoint_seconds is None else checkpoint_seconds
        self._pending = None   # (epoch, meta, arrays) of the last whole epoch not yet on disk
        self._written = 0.0    # time.monotonic() of the last checkpoint written
        self.extra: tuple[str, ...] = ()

    def on_setup(self, setup: Setup) -> None:
        # max_lr: auto: the range test's curve and plot, and the resolved max_lr into run.json now
        keep_curve(self.run_dir, setup.resolved)

    def on_train_begin(self, trainer: Trainer) -> None:
        # a resumed run's rows after its checkpoint's epoch are dropped here (they will be trained again)
        # the network's own columns (MTP depth losses), then those callbacks add (a bitwise run's stage)
        self.extra = (*trainer.network.history_keys,
                      *(k for cb in trainer.callbacks for k in getattr(cb, "history_keys", ())))
        write_history(self.run_dir.file("history.csv"), trainer.history, self.metric_names, self.extra)
        self._written = time.monotonic()

    def on_epoch_end(self, trainer: Trainer, logs: dict) -> None:
        append_history(self.run_dir.file("history.csv"), logs, self.metric_names, self.extra)
        self._pending = (trainer.epoch, *trainer.state())
        stopping = trainer.stop_reason is not None or trainer.epoch >= trainer.epochs
        if stopping or trainer.epoch == 1 or time.monotonic() - self._written >= self.checkpoint_seconds:
            self.flush()

    def on_train_end(self, trainer: Trainer) -> None:
        self.flush()  # a signal stops mid-epoch: the checkpoint is the last whole epoch

    def flush(self) -> None:
        """Write the last whole epoch's checkpoint (and the heartbeat), if it is not on disk yet."""
        if self._pending is None:
            return
        epoch, meta, arrays = self._pending
        save_checkpoint(self.run_dir, meta, arrays)
        self._pending, self._written = None, time.monotonic()
        self.run_dir.heartbeat(epochs=epoch)


def save_checkpoint(run_dir: runs.RunDir, meta: dict, arrays: dict) -> None:
    """One atomic file: the arrays and, under ``meta``, the trainer's JSON state without its history."""
    meta = {k: v for k, v in meta.items() if k != "history"}
    run_dir.write_npz(CHECKPOINT, meta=np.array(to_json(meta)), **arrays)


def load_checkpoint(run_dir: runs.RunDir) -> tuple[dict, dict]:
    """The trainer state of the checkpoint, its history from history.csv's first ``epoch`` rows."""
    arrays = load_npz(run_dir.file(CHECKPOINT))
    if "meta" not in arrays:
        return _load_legacy(run_dir, arrays)
    meta = json.loads(str(arrays.pop("meta")))
    try:
        history = read_history(run_dir.file("history.csv"))[: meta["epoch"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:  # the checkpoint is whole: say which file is not
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{run_dir.file('history.csv')} is missing or damaged ({type(exc).__name__}: {why}); "
                          "the checkpoint needs its history to resume; train the spec again") from None
    if len(history) != meta["epoch"] or (history and history[-1].get("epoch") != meta["epoch"]):
        raise ConfigError(f"{run_dir.file('history.csv')} has {len(history)} epochs, fewer than the checkpoint's"
                          f" {meta['epoch']}; cannot resume")
    return {**meta, "history": history}, arrays


def _load_legacy(run_dir: runs.RunDir, arrays: dict) -> tuple[dict, dict]:
    meta = run_dir.read_json(LEGACY_META)
    if int(arrays.pop("epoch", -1)) != meta["epoch"]:
        raise ConfigError(f"{run_dir.path}: checkpoint.npz and checkpoint.json disagree; cannot resume")
    return meta, arrays


def epochs_done(run_dir) -> int:
    """The epoch of the checkpoint on disk (0 without one)."""
    try:
        with np.load(run_dir.file(CHECKPOINT), allow_pickle=False) as npz:
            if "meta" in npz.files:
                return int(json.loads(str(npz["meta"]))["epoch"])
            return int(npz["epoch"])
    except (OSError, ValueError, KeyError):
        return 0
