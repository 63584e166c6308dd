"""What a part parameter's value may be, as data: ``check_part`` (``mlrun validate``) refuses what a row
refuses, and the JSON Schema states the same row (minimum, exclusiveMaximum, enum, pattern).

Rows are keyed by (kind, parameter), so a new optimizer taking ``epsilon`` gets epsilon's range without
a row of its own; (kind, name, parameter) rows override. The parts' constructors check the same ranges
for Python callers; tests/test_schema_corpus.py probes every registered part's numeric parameters and
fails when a constructor and this table disagree. Rules between two parameters (rrelu lower <= upper,
lr_range start < end, one_cycle base_momentum <= max_momentum, piecewise's increasing boundaries and one
more value than boundaries) stay in the constructors: no schema keyword states them. ``AT_MOST_ONE``
does have one ("not" two of them), so it is a table too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Allowed:
    """Bounds for a number (or each number of a list), and the strings a text value may be."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    strings: tuple[str, ...] | None = None  # the only strings allowed (None: any string the type allows)
    pattern: str | None = None  # a string must contain a match (re.search, as JSON Schema's "pattern")

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is refused (None: it is allowed)."""
        if isinstance(value, list):
            return next((p for p in map(self.problem, value) if p), None)
        if isinstance(value, str):
            if self.strings is not None and value not in self.strings:
                return f"must be a number or one of {', '.join(self.strings)}; got {value!r}"
            if self.pattern is not None and not re.search(self.pattern, value):
                return f"must match {self.pattern!r}; got {value!r}"
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        low = self.ge is None or value >= self.ge
        low = low and (self.gt is None or value > self.gt)
        high = self.le is None or value <= self.le
        high = high and (self.lt is None or value < self.lt)
        return None if low and high and not math.isnan(value) else f"must be {self.words()}; got {value}"

    def words(self) -> str:
        lo = f"[{self.ge:g}" if self.ge is not None else f"({self.gt:g}" if self.gt is not None else None
        hi = f"{self.le:g}]" if self.le is not None else f"{self.lt:g})" if self.lt is not None else None
        if lo and hi:
            return f"in {lo}, {hi}"
        if lo:
            return f"{'>=' if lo[0] == '[' else '>'} {lo[1:]}"
        return f"{'<=' if hi[-1] == ']' else '<'} {hi[:-1]}" if hi else "any number"

    def number_schema(self) -> dict:
        keys = (("ge", "minimum"), ("gt", "exclusiveMinimum"), ("le", "maximum"), ("lt", "exclusiveMaximum"))
        return {word: getattr(self, attr) for attr, word in keys if getattr(self, attr) is not None}

    def string_schema(self) -> dict:
        if self.strings is not None:
            return {"enum": list(self.strings)}
        return {} if self.pattern is None else {"pattern": self.pattern}


POSITIVE, NON_NEGATIVE, UNIT = Allowed(gt=0), Allowed(ge=0), Allowed(ge=0, lt=1)
AT_LEAST_1 = Allowed(ge=1)
ALLOWED: dict[tuple[str, ...], Allowed] = {
    # optimizers (optim/base.py, optim/optimizers.py): decay rates in [0, 1), sizes > 0
    ("optimizer", "learning_rate"): POSITIVE,
    ("optimizer", "clip_value"): POSITIVE, ("optimizer", "clip_norm"): POSITIVE,
    ("optimizer", "global_clip_norm"): POSITIVE,
    ("optimizer", "momentum"): UNIT, ("optimizer", "rho"): UNIT,
    ("optimizer", "beta_1"): UNIT, ("optimizer", "beta_2"): UNIT,
    ("optimizer", "epsilon"): POSITIVE, ("optimizer", "initial_accumulator_value"): NON_NEGATIVE,
    # schedules (optim/schedules.py, optim/cycles.py)
    ("schedule", "initial_learning_rate"): POSITIVE, ("schedule", "decay_steps"): AT_LEAST_1,
    ("schedule", "total_steps"): AT_LEAST_1, ("schedule", "power"): POSITIVE,
    ("schedule", "boundaries"): NON_NEGATIVE, ("schedule", "values"): POSITIVE,
    ("schedule", "factor"): Allowed(gt=0, lt=1), ("schedule", "patience"): NON_NEGATIVE,
    ("schedule", "cooldown"): NON_NEGATIVE, ("schedule", "min_delta"): NON_NEGATIVE,
    ("schedule", "min_lr"): NON_NEGATIVE, ("schedule", "monitor"): Allowed(pattern="loss"),
    ("schedule", "max_lr"): Allowed(gt=0, strings=("auto",)),
    ("schedule", "pct_start"): Allowed(gt=0, le=0.5),
    ("schedule", "div"): POSITIVE, ("schedule", "final_div"): POSITIVE,
    ("schedule", "base_momentum"): UNIT, ("schedule", "max_momentum"): UNIT,
    ("schedule", "start"): POSITIVE, ("schedule", "end"): POSITIVE, ("schedule", "steps"): Allowed(ge=2),
    # layers (nn/layers.py)
    ("layer", "units"): AT_LEAST_1, ("layer", "rate"): UNIT,
    ("layer", "momentum"): Allowed(ge=0, le=1), ("layer", "epsilon"): POSITIVE,
    ("layer", "beta"): UNIT,  # bitwise_dense: the sparsity boundary on |tanh w|
    # activations, losses (nn/activations.py, nn/losses.py)
    ("activation", "lower"): NON_NEGATIVE, ("activation", "upper"): NON_NEGATIVE,
    ("loss", "delta"): POSITIVE, ("loss", "p"): AT_LEAST_1,
}


# parameters of which a part takes at most one (the others null or left out)
AT_MOST_ONE: dict[str, tuple[str, ...]] = {"optimizer": ("clip_value", "clip_norm", "global_clip_norm")}


def allowed(kind: str, name: str, param: str) -> Allowed | None:
    return ALLOWED.get((kind, name, param)) or ALLOWED.get((kind, param))


def problem(kind: str, name: str, param: str, value: Any) -> str | None:
    """Why the value of ``param`` is refused ("beta_1 must be in [0, 1); got 1.5"), or None."""
    rule = allowed(kind, name, param)
    why = None if rule is None or value is None else rule.problem(value)
    return None if why is None else f"{param} {why}"


def exclusive_problem(kind: str, params: dict) -> str | None:
    group = AT_MOST_ONE.get(kind, ())
    given = [p for p in group if params.get(p) is not None]
    return f"at most one of {', '.join(group)}; got {', '.join(given)}" if len(given) > 1 else None
