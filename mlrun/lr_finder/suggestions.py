"""The range test's curve turned into learning rates: bias-corrected EMA smoothing, then one of three rules:

    minimum   η at the smoothed minimum / 10                   (Géron's note; fastai ``minimum``)
    steepest  η at the most negative d smoothed / d log η, before the minimum   (fastai ``steep``)
    valley    2/3 down the longest decreasing run of the smoothed loss           (fastai ``valley``)

Slopes are taken against log η: η grows geometrically, so a slope against η itself is inflated by
1/η at the start of the ramp and picks the first points whatever the curve does.
"""

from __future__ import annotations

import numpy as np

from mlrun.registry import build

RULES = ("minimum", "steepest", "valley")
BETA = 0.98
MIN_STEPS = 10
TAIL = 5  # points dropped at the end of the curve before suggesting (fastai's skip_end)


# -- the curve ----------------------------------------------------------------------------------
class EMA:
    """Bias-corrected exponential moving average.

    a_t = β a_{t-1} + (1-β) x_t, a_0 = 0;  smoothed_t = a_t / (1 - β^t)   (t from 1; Adam's correction)
    """

    def __init__(self, beta: float = BETA) -> None:
        self.beta, self.avg, self.t = float(beta), 0.0, 0

    def update(self, x: float) -> float:
        self.t += 1
        self.avg = self.beta * self.avg + (1.0 - self.beta) * float(x)
        return self.avg / (1.0 - self.beta ** self.t)


def smooth(losses, beta: float = BETA) -> np.ndarray:
    """The smoothed curve of ``losses`` (float64), as the range test records it."""
    ema = EMA(beta)
    return np.array([ema.update(x) for x in np.asarray(losses, dtype=np.float64)])


def ramp(start: float, end: float, steps: int) -> np.ndarray:
    """η_t = start·(end/start)^(t/(steps-1)), t = 0..steps-1: the lr_range schedule's values."""
    schedule = build("schedule", {"name": "lr_range", "start": start, "end": end, "steps": steps})
    return np.array([schedule(t) for t in range(steps)])


# -- suggestion rules (pure functions of a finite curve) ----------------------------------------
def suggest_minimum(lrs: np.ndarray, smoothed: np.ndarray) -> float:
    """η at the smoothed loss's minimum, divided by 10."""
    return float(lrs[int(np.argmin(smoothed))]) / 10.0


def suggest_steepest(lrs: np.ndarray, smoothed: np.ndarray) -> float:
    """η where d smoothed / d log η is most negative, looking only up to the minimum."""
    if len(lrs) < 2:
        return float(lrs[0])
    slope = np.gradient(smoothed, np.log(lrs))
    last = int(np.argmin(smoothed))
    return float(lrs[int(np.argmin(slope[: last + 1]))])


def longest_valley(smoothed: np.ndarray) -> tuple[int, int]:
    """(start, end) of fastai's longest valley: ``end`` closes the longest strictly decreasing
    subsequence (its first occurrence), ``start = end - length`` as fastai takes it."""
    n = len(smoothed)
    lds = np.ones(n, dtype=np.int64)  # lds[i]: longest strictly decreasing subsequence ending at i
    for i in range(1, n):
        higher = smoothed[:i] > smoothed[i]
        if higher.any():
            lds[i] = lds[:i][higher].max() + 1
    end = int(np.argmax(lds))
    return end - int(lds[end]), end


def suggest_valley(lrs: np.ndarray, smoothed: np.ndarray) -> float:
    """η about 2/3 down the longest valley (fastai ``valley``: start + ⌊L/3⌋ + ⌊L/6⌋)."""
    start, end = longest_valley(smoothed)
    sections = (end - start) / 3
    idx = start + int(sections) + int(sections / 2)
    return float(lrs[min(max(idx, 0), len(lrs) - 1)])


SUGGEST = {"minimum": suggest_minimum, "steepest": suggest_steepest, "valley": suggest_valley}


def window(smoothed: np.ndarray, steps: int) -> slice:
    """The part of the curve the rules read (fastai): up to the first non-finite value, without the
    EMA's warm-up (steps // 10 points) and the last 5; the whole finite part when that leaves < 5."""
    finite = np.isfinite(smoothed)
    n = int(np.argmin(finite)) if not finite.all() else len(smoothed)
    head, stop = steps // 10, n - TAIL
    if stop - head < 5:
        return slice(0, n)
    return slice(head, stop)


def suggestions(lrs, smoothed, steps: int) -> dict[str, float | None]:
    """Every rule's learning rate on the recorded curve (None for all when no loss was finite)."""
    lrs, smoothed = np.asarray(lrs, dtype=np.float64), np.asarray(smoothed, dtype=np.float64)
    part = window(smoothed, steps)
    x, y = lrs[part], smoothed[part]
    if len(y) == 0:
        return dict.fromkeys(RULES)
    return {rule: SUGGEST[rule](x, y) for rule in RULES}


# -- running the test ---------------------------------------------------------------------------
