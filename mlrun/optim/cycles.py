"""Schedules that sweep the learning rate across a range: 1cycle (Smith 2018) and the range test's ramp."""

from __future__ import annotations

from mlrun.optim.schedules import Resolvable, positive, positive_int
from mlrun.registry import register


@register("schedule", "one_cycle")
class OneCycle(Resolvable):
    """1cycle, three phases, linear: max_lr/div → max_lr → max_lr/div → max_lr/div/final_div.

    η_t = a + (b - a)·(t - t0)/(t1 - t0) within each phase   (Smith 2018; = torch OneCycleLR(three_phase=True,
    anneal_strategy="linear", div_factor=div, final_div_factor=final_div))
    """

    def __init__(
        self,
        initial_learning_rate: float | None = None,
        max_lr: float | str | None = None,
        total_steps: int | None = None,
        pct_start: float = 0.45,
        div: float = 10.0,
        final_div: float = 1000.0,
        cycle_momentum: bool = True,
        base_momentum: float = 0.85,
        max_momentum: float = 0.95,
    ) -> None:
        if isinstance(max_lr, str) and max_lr != "auto":
            raise ValueError(f"max_lr must be a number, 'auto' or null; got {max_lr!r}")
        if not 0 < pct_start <= 0.5:
            raise ValueError(f"pct_start must be in (0, 0.5] (three phases); got {pct_start}")
        if not 0 <= base_momentum <= max_momentum < 1:
            raise ValueError(
                f"need 0 <= base_momentum <= max_momentum < 1; got {base_momentum} and {max_momentum}"
            )
        self.initial_learning_rate = positive("initial_learning_rate", initial_learning_rate)
        self.max_lr = max_lr if isinstance(max_lr, str) else positive("max_lr", max_lr)
        self.total_steps = positive_int("total_steps", total_steps)
        self.pct_start = float(pct_start)
        self.div, self.final_div = positive("div", div), positive("final_div", final_div)
        self.cycle_momentum = bool(cycle_momentum)
        self.base_momentum, self.max_momentum = float(base_momentum), float(max_momentum)

    def _needed(self):
        return ("max_lr", "total_steps")

    @classmethod
    def _uses_initial_lr(cls, auto):
        return "max_lr" in auto

    @classmethod
    def derive(cls, auto, values, initial_learning_rate, total_steps):
        if values.get("max_lr") == "auto":
            raise ValueError("one_cycle max_lr 'auto' must be replaced by a number (from lr-find) first")
        derived, report = super().derive(auto, values, initial_learning_rate, total_steps)
        if "max_lr" in auto:
            derived["max_lr"] = report["max_lr"] = initial_learning_rate
        if "total_steps" in auto:
            derived["total_steps"] = report["total_steps"] = total_steps
        max_lr = float(derived.get("max_lr", values["max_lr"]))
        report["start_lr"] = max_lr / values["div"]
        report["final_lr"] = max_lr / values["div"] / values["final_div"]
        return derived, report

    def _check(self) -> None:
        super()._check()
        if self.max_lr == "auto":
            raise RuntimeError("one_cycle max_lr is still 'auto'; run lr-find to choose it")

    def _phase(self, step: int) -> tuple[int, float]:
        """(phase index, fraction of it done), with torch's phase end steps; clamped at T - 1."""
        T = self.total_steps
        ends = (float(self.pct_start * T) - 1, float(2 * self.pct_start * T) - 2, T - 1)
        step = min(step, T - 1)
        start = 0.0
        for i, end in enumerate(ends):
            if step <= end or i == 2:
                span = end - start
                return i, (step - start) / span if span > 0 else 1.0
            start = end
        raise AssertionError("unreachable")

    def __call__(self, step: int) -> float:
        self._check()
        low = self.max_lr / self.div
        points = (low, self.max_lr, low, low / self.final_div)
        i, pct = self._phase(step)
        return float(points[i] + (points[i + 1] - points[i]) * pct)

    def momentum(self, step: int) -> float | None:
        """max_momentum → base_momentum → max_momentum over the first two phases, then max_momentum."""
        if not self.cycle_momentum:
            return None
        self._check()
        hi, lo = self.max_momentum, self.base_momentum
        points = (hi, lo, hi, hi)
        i, pct = self._phase(step)
        return float(points[i] + (points[i + 1] - points[i]) * pct)


@register("schedule", "lr_range")
class LRRange(Resolvable):
    """Exponential ramp for the learning-rate range test (lr-find): start at t = 0, end at t = steps - 1.

    η_t = start · (end/start)^(t/(steps-1))   (Smith 2017, "Cyclical learning rates", sec. 3.3)
    """

    def __init__(
        self,
        initial_learning_rate: float | None = None,
        start: float = 1e-5,
        end: float = 10.0,
        steps: int = 500,
    ) -> None:
        if not 0 < start < end:
            raise ValueError(f"need 0 < start < end; got start={start}, end={end}")
        if not steps >= 2:
            raise ValueError(f"steps must be >= 2; got {steps}")
        self.initial_learning_rate = positive("initial_learning_rate", initial_learning_rate)
        self.start, self.end, self.steps = float(start), float(end), int(steps)

    def _needed(self):
        return ()

    @classmethod
    def _uses_initial_lr(cls, auto):
        return False

    def __call__(self, step: int) -> float:
        return float(self.start * (self.end / self.start) ** (step / (self.steps - 1)))
