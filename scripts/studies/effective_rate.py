"""The effective learning rate of AdaGrad and RMSProp, logged per epoch (claim 11: "AdaGrad often stops
too early"). Both scale each coordinate's step by η / (√s + ε); AdaGrad's s sums every squared gradient
since the start, RMSProp's is a moving average, so only AdaGrad's rate can only fall.

A training callback (the loop stays quiet): it reads the optimizer's accumulator after every epoch and
keeps the median and the 10th/90th percentiles over all coordinates."""

from __future__ import annotations

import numpy as np


def effective_rates(optimizer) -> np.ndarray:
    """η / (√s + ε) for every coordinate of every parameter (AdaGrad and RMSProp keep s in slot "s")."""
    if optimizer.slots is None:
        return np.array([])
    s = np.concatenate([slot["s"].ravel() for slot in optimizer.slots])
    return optimizer.learning_rate / (np.sqrt(s) + optimizer.epsilon)


class EffectiveRateLog:
    """``rows``: one {"epoch", "median", "p10", "p90"} per epoch, of the optimizer's effective rates."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def on_epoch_end(self, trainer, logs) -> None:
        rates = effective_rates(trainer.optimizer)
        if rates.size:
            p10, median, p90 = np.percentile(rates, [10, 50, 90])
            self.rows.append({"epoch": int(trainer.epoch), "median": float(median), "p10": float(p10),
                              "p90": float(p90)})


def train_logged(spec: dict) -> tuple[list[dict], list[dict]]:
    """Train ``spec`` in memory (as a sweep's worker does) with the log; (its rows, the run's history)."""
    from mlrun.experiment.outcome import run_training
    from mlrun.spec.loading import load_config
    from mlrun.training.setup import load_data

    cfg = load_config(spec)
    log = EffectiveRateLog()
    outcome = run_training(cfg, load_data(cfg), callbacks=[log])
    return log.rows, outcome.history
