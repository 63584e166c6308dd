"""The run-directory callback: history.csv, heartbeat and a checkpoint after every epoch."""

from __future__ import annotations

import numpy as np

from mlrun.lr_finder.range_test import keep_curve
from mlrun.runs import directory as runs
from mlrun.runs.files import load_npz
from mlrun.runs.history import write_history
from mlrun.spec.errors import ConfigError
from mlrun.training.setup import Setup
from mlrun.training.trainer import Trainer


class RunRecorder:
    """Trainer callback: history.csv, heartbeat and checkpoint after every epoch."""

    def __init__(self, run_dir: runs.RunDir, metric_names: list[str]) -> None:
        self.run_dir = run_dir
        self.metric_names = list(metric_names)

    def on_setup(self, setup: Setup) -> None:
        # max_lr: auto: the range test's curve and plot, and the resolved max_lr into run.json now
        keep_curve(self.run_dir, setup.resolved)

    def on_epoch_end(self, trainer: Trainer, logs: dict) -> None:
        write_history(self.run_dir.file("history.csv"), trainer.history, self.metric_names)
        save_checkpoint(self.run_dir, trainer)
        self.run_dir.heartbeat(epochs=trainer.epoch)


def save_checkpoint(run_dir: runs.RunDir, trainer: Trainer) -> None:
    meta, arrays = trainer.state()
    arrays["epoch"] = np.array(trainer.epoch)
    run_dir.write_npz("checkpoint.npz", **arrays)  # arrays first: the JSON names the epoch it matches
    run_dir.write_json("checkpoint.json", meta)


def load_checkpoint(run_dir: runs.RunDir) -> tuple[dict, dict]:
    meta = run_dir.read_json("checkpoint.json")
    arrays = load_npz(run_dir.file("checkpoint.npz"))
    if int(arrays.pop("epoch")) != meta["epoch"]:
        raise ConfigError(f"{run_dir.path}: checkpoint.npz and checkpoint.json disagree; cannot resume")
    return meta, arrays


def epochs_done(run_dir) -> int:
    try:
        return int(run_dir.read_json("checkpoint.json")["epoch"])
    except (OSError, ValueError, KeyError):
        return 0
