"""Learning-rate schedules of docs/contract.md: ``sched(t)`` is η at optimizer step t (0, 1, 2, ...).

Parameters a spec leaves ``None`` (η0 = ``initial_learning_rate``, ``total_steps``, ``decay_steps``,
``max_lr``) are derived from the optimizer's learning rate and the run's length by ``build_schedule``,
which builds the schedule complete and returns what it derived for run.json's ``resolved`` (never
config.yaml). A schedule is never changed after it is built, but for its own state (plateau's rate).
"""

from __future__ import annotations

import bisect
import inspect
import math

from mlrun.optim.base import Schedule
from mlrun.registry import build, get_class, parameters, register, split_spec


def build_schedule(spec, initial_learning_rate: float, total_steps: int) -> tuple[Schedule, dict]:
    """(the schedule of ``spec`` with every None parameter derived, {name: value} of what was derived).

    ``initial_learning_rate`` is the optimizer's η; ``total_steps`` = epochs × batches per epoch.
    """
    if not initial_learning_rate > 0:
        raise ValueError(f"initial_learning_rate must be > 0; got {initial_learning_rate}")
    if int(total_steps) < 1:
        raise ValueError(f"total_steps must be >= 1; got {total_steps}")
    name, given = split_spec("schedule", spec)
    empty = inspect.Parameter.empty
    values = {p: info.default for p, info in parameters("schedule", name).items() if info.default is not empty}
    values.update(given)
    auto = {p for p, v in values.items() if v is None}
    derived, report = get_class("schedule", name).derive(auto, values, float(initial_learning_rate),
                                                        int(total_steps))
    return build("schedule", {"name": name, **given, **derived}), report


class Resolvable(Schedule):
    """A schedule whose None parameters ``build_schedule`` derives; subclasses extend ``derive``."""

    initial_learning_rate: float | None = None

    @classmethod
    def derive(cls, auto: set, values: dict, initial_learning_rate: float, total_steps: int) -> tuple[dict, dict]:
        """(constructor arguments for the parameters in ``auto``, what to report in run.json)."""
        if "initial_learning_rate" not in auto:
            return {}, {}
        lr = {"initial_learning_rate": initial_learning_rate}
        return dict(lr), (lr if cls._uses_initial_lr(auto) else {})

    def _needed(self) -> tuple[str, ...]:
        return ("initial_learning_rate",)

    @classmethod
    def _uses_initial_lr(cls, auto: set) -> bool:
        """Whether η0 shapes the rates (if not, it is not reported)."""
        return True

    def _check(self) -> None:
        """A clear error when a needed parameter is missing (built without ``build_schedule``)."""
        missing = [n for n in self._needed() if getattr(self, n) is None]
        if missing:
            raise RuntimeError(
                f"schedule {self.registry_name!r}: {', '.join(missing)} not set; "
                "build it with build_schedule(spec, initial_learning_rate, total_steps)"
            )


def positive_int(name: str, value: int | None) -> int | None:
    if value is not None and not int(value) >= 1:
        raise ValueError(f"{name} must be >= 1; got {value}")
    return None if value is None else int(value)


def positive(name: str, value: float | None) -> float | None:
    if value is not None and not value > 0:
        raise ValueError(f"{name} must be > 0; got {value}")
    return None if value is None else float(value)


@register("schedule", "constant")
class Constant(Resolvable):
    """A constant learning rate.

    η_t = η0
    """

    def __init__(self, initial_learning_rate: float | None = None) -> None:
        self.initial_learning_rate = positive("initial_learning_rate", initial_learning_rate)

    def __call__(self, step: int) -> float:
        self._check()
        return float(self.initial_learning_rate)


@register("schedule", "exponential")
class Exponential(Resolvable):
    """Exponential decay: a factor 10 every s steps (s defaults to the whole run).

    η_t = η0 · 0.1^(t/s)   (Géron, Hands-On ML, ch. 11; Keras ExponentialDecay(decay_rate=0.1))
    """

    def __init__(self, initial_learning_rate: float | None = None, decay_steps: int | None = None) -> None:
        self.initial_learning_rate = positive("initial_learning_rate", initial_learning_rate)
        self.decay_steps = positive_int("decay_steps", decay_steps)

    def _needed(self):
        return ("initial_learning_rate", "decay_steps")

    @classmethod
    def derive(cls, auto, values, initial_learning_rate, total_steps):
        derived, report = super().derive(auto, values, initial_learning_rate, total_steps)
        if "decay_steps" in auto:
            derived["decay_steps"] = report["decay_steps"] = total_steps
        return derived, report

    def __call__(self, step: int) -> float:
        self._check()
        return float(self.initial_learning_rate * 0.1 ** (step / self.decay_steps))


@register("schedule", "power")
class Power(Resolvable):
    """Power scheduling: η0 halves after s steps (c = 1), then falls more slowly.

    η_t = η0 / (1 + t/s)^c   (Géron, Hands-On ML, ch. 11; Keras InverseTimeDecay when c = 1)
    """

    def __init__(
        self, initial_learning_rate: float | None = None, decay_steps: int | None = None, power: float = 1.0
    ) -> None:
        self.initial_learning_rate = positive("initial_learning_rate", initial_learning_rate)
        self.decay_steps = positive_int("decay_steps", decay_steps)
        self.power = positive("power", power)

    def _needed(self):
        return ("initial_learning_rate", "decay_steps")

    @classmethod
    def derive(cls, auto, values, initial_learning_rate, total_steps):
        derived, report = super().derive(auto, values, initial_learning_rate, total_steps)
        if "decay_steps" in auto:
            derived["decay_steps"] = report["decay_steps"] = max(1, total_steps // 10)
        return derived, report

    def __call__(self, step: int) -> float:
        self._check()
        return float(self.initial_learning_rate / (1.0 + step / self.decay_steps) ** self.power)


@register("schedule", "piecewise")
class Piecewise(Resolvable):
    """Piecewise constant: values[0] while t <= boundaries[0], values[i] while boundaries[i-1] < t <= boundaries[i].

    η_t = values[#{b in boundaries : b < t}]   (= Keras PiecewiseConstantDecay)
    """

    def __init__(
        self, boundaries: list[int], values: list[float], initial_learning_rate: float | None = None
    ) -> None:
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                f"piecewise needs one more value than boundaries; got {len(boundaries)} boundaries "
                f"and {len(values)} values"
            )
        if any(b < 0 for b in boundaries) or any(a >= b for a, b in zip(boundaries, boundaries[1:])):
            raise ValueError(f"boundaries must be increasing steps >= 0; got {list(boundaries)}")
        if not all(v > 0 for v in values):
            raise ValueError(f"values must be > 0; got {list(values)}")
        self.boundaries = [int(b) for b in boundaries]
        self.values = [float(v) for v in values]
        # kept for a uniform signature; the values set the rates
        self.initial_learning_rate = positive("initial_learning_rate", initial_learning_rate)

    def _needed(self):
        return ()

    @classmethod
    def _uses_initial_lr(cls, auto):
        return False

    def __call__(self, step: int) -> float:
        return self.values[bisect.bisect_left(self.boundaries, step)]


@register("schedule", "plateau")
class Plateau(Resolvable):
    """Reduce η by ``factor`` after ``patience`` epochs without improvement of the monitored loss.

    η ← max(η · factor, min_lr)   (Keras ReduceLROnPlateau, mode "min"; applied per epoch)
    """

    def __init__(
        self,
        initial_learning_rate: float | None = None,
        factor: float = 0.5,
        patience: int = 5,
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        monitor: str = "val_loss",
    ) -> None:
        if not 0 < factor < 1:
            raise ValueError(f"factor must be in (0, 1); got {factor}")
        for name, value in (("patience", patience), ("cooldown", cooldown), ("min_delta", min_delta),
                            ("min_lr", min_lr)):
            if not value >= 0:
                raise ValueError(f"{name} must be >= 0; got {value}")
        if "loss" not in monitor:
            raise ValueError(f"plateau monitors a loss (mode min), e.g. 'val_loss'; got {monitor!r}")
        self.initial_learning_rate = positive("initial_learning_rate", initial_learning_rate)
        self.factor, self.patience, self.min_delta = float(factor), int(patience), float(min_delta)
        self.cooldown, self.min_lr, self.monitor = int(cooldown), float(min_lr), monitor
        self.lr: float | None = self.initial_learning_rate
        self.best = math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def __call__(self, step: int) -> float:
        self._check()
        return float(self.lr)

    def on_epoch_end(self, logs: dict) -> None:
        """Keras's rule: count epochs without improvement (outside cooldown); reduce at ``patience``."""
        self._check()
        current = logs.get(self.monitor)
        if current is None:
            raise ValueError(f"plateau monitors {self.monitor!r}, which the epoch logs do not have")
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if current < self.best - self.min_delta:
            self.best = float(current)
            self.wait = 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience and self.lr > self.min_lr:
                self.lr = max(self.lr * self.factor, self.min_lr)
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def state(self) -> dict:
        # JSON has no infinity: "no best yet" is null
        best = None if math.isinf(self.best) else self.best
        return {"best": best, "wait": self.wait, "cooldown_counter": self.cooldown_counter, "lr": self.lr}

    def load_state(self, state: dict) -> None:
        self.best = math.inf if state["best"] is None else float(state["best"])
        self.wait = int(state["wait"])
        self.cooldown_counter = int(state["cooldown_counter"])
        self.lr = float(state["lr"])
