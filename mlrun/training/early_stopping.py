"""Early stopping as Keras's EarlyStopping: patience, min_delta, and the mode the monitored metric implies."""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlrun.metrics.names import higher_is_better


@dataclass
class EarlyStopping:
    """Keras EarlyStopping: stop after ``patience`` epochs without an improvement of ``min_delta``."""

    patience: int = 10
    min_delta: float = 0.0
    monitor: str = "val_loss"
    restore_best: bool = True
    best: float | None = None
    best_epoch: int = 0
    wait: int = 0

    @property
    def mode_min(self) -> bool:
        return higher_is_better(self.monitor) is not True

    def improved(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.mode_min:
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def update(self, value: float, epoch: int) -> tuple[bool, bool]:
        """Returns (improved, should_stop)."""
        if value is None or not math.isfinite(value):
            self.wait += 1
            return False, self.wait >= self.patience
        if self.improved(value):
            self.best, self.best_epoch, self.wait = float(value), epoch, 0
            return True, False
        self.wait += 1
        return False, self.wait >= self.patience

    def state(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}

    def load_state(self, state: dict) -> None:
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
