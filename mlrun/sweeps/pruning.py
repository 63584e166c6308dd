"""Pruning rules: which trials stop early at a rung (ASHA, the median rule). Pure bookkeeping, no I/O.

The driver owns one ``Pruner``; trials train rung by rung (``sweeps.segments``) and each arrival at a
rung asks ``decide``. Everything it knows is plain JSON (``to_dict``/``from_dict``) so sweep.json keeps
the decisions and ``--resume`` judges a rerun against the same table.

Rungs are at ``grace_period * reduction_factor**k`` epochs below ``max_epochs`` (Ray Tune's
``AsyncHyperBandScheduler``/``ASHAScheduler`` with one bracket: ``MAX_RUNGS = int(log(max_t /
grace_period) / log(reduction_factor) + 1)`` rungs, defaults grace_period=1, reduction_factor=4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from mlrun.metrics.names import higher_is_better
from mlrun.sweeps.axes import SweepError

RULES = ("asha", "median")
DEFAULT_METRIC = "val_loss"
METRICS = ("val_loss", "train_loss", "val_accuracy", "val_rmse")  # what the trainer logs every epoch


def rung_epochs(grace_period: int, reduction_factor: float, max_epochs: int) -> list[int]:
    """Ray Tune's milestones ``grace_period * reduction_factor**k`` (k = 0 .. MAX_RUNGS-1), as whole
    epochs, ascending; those >= max_epochs are dropped (a trial there has finished anyway)."""
    n = int(math.log(max_epochs / grace_period) / math.log(reduction_factor) + 1)
    milestones = sorted({int(round(grace_period * reduction_factor ** k)) for k in range(n)})
    return [m for m in milestones if m < max_epochs]


@dataclass
class Decision:
    """What a rung said: keep training (``stop`` False) or prune, with the numbers that decided it."""

    stop: bool
    rung: int
    metric: str
    value: float | None
    cutoff: float | None
    rule: str
    seeds: int | None = None  # seed-aware: how many seeds the value is the mean of

    def to_dict(self) -> dict:
        value = self.value if self.value is not None and math.isfinite(self.value) else None
        record = {"rule": self.rule, "rung": self.rung, "metric": self.metric, "value": value,
                  "cutoff": self.cutoff}
        return record if self.seeds is None else {**record, "seeds": self.seeds}


@dataclass
class Pruner:
    """The rung table and the rule (``asha`` or ``median``) on ``metric`` (a history column).

    ``rungs``: epoch -> {trial key: metric value at that epoch}, in arrival order; ``completed``:
    trial key -> {epoch: value} at every rung epoch for trials that trained to the end (the median rule
    compares against those only, as Optuna does).
    """

    rule: str = "asha"
    metric: str = DEFAULT_METRIC
    max_epochs: int = 100
    grace_period: int = 1
    reduction_factor: float = 4
    n_startup_trials: int = 5  # median rule: Optuna's MedianPruner default
    rungs: dict[int, dict[str, float]] = field(default_factory=dict)
    completed: dict[str, dict[int, float]] = field(default_factory=dict)
    # what the table gained since the driver last looked: sweep.json's log appends these, not the table
    changes: list[dict] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise SweepError(f"--prune must be one of {', '.join(RULES)}; got {self.rule!r}")
        if self.metric not in METRICS or higher_is_better(self.metric) is None:
            raise SweepError(f"--prune-metric must be a column the trainer logs every epoch "
                             f"({', '.join(METRICS)}); got {self.metric!r}")
        if int(self.grace_period) < 1 or int(self.grace_period) > int(self.max_epochs):
            raise SweepError(f"--grace-period must be in [1, {self.max_epochs}] (the spec's epochs); "
                             f"got {self.grace_period}")
        if not self.reduction_factor > 1:
            raise SweepError(f"--reduction-factor must be > 1; got {self.reduction_factor}")
        for epoch in self.milestones:
            self.rungs.setdefault(epoch, {})

    @property
    def milestones(self) -> list[int]:
        return rung_epochs(int(self.grace_period), float(self.reduction_factor), int(self.max_epochs))

    @property
    def higher_is_better(self) -> bool:
        return bool(higher_is_better(self.metric))

    def next_stop(self, epochs_done: int, epochs: int) -> int:
        """The epoch a trial trains to next: its next rung, else its own last epoch."""
        return next((m for m in self.milestones if epochs_done < m < epochs), epochs)

    def _score(self, value: float | None) -> float:
        """Higher is better, NaN for a missing value (Ray Tune negates the metric for mode="min")."""
        if value is None or not math.isfinite(value):
            return math.nan
        return value if self.higher_is_better else -value

    def _unscore(self, score: float | None) -> float | None:
        if score is None or math.isnan(score):
            return None
        return float(score if self.higher_is_better else -score)

    # -- the rules ------------------------------------------------------------------------------
    def decide(self, key: str, history: list[dict], rung: int) -> Decision:
        """``key`` reached epoch ``rung`` with ``history`` (per-epoch logs): continue or prune?"""
        value = _value_at(history, rung, self.metric)
        if self.rule == "asha":
            return self._asha(key, rung, value)
        return self._median(history, rung, value)

    def _asha(self, key: str, rung: int, value: float | None) -> Decision:
        """Ray Tune's ``_Bracket.on_result``: the cutoff is the (1 - 1/rf) percentile (``np.nanpercentile``,
        linear) of the values recorded at this rung *before* this trial; stop if strictly below it.
        A trial already recorded at this rung (a rerun after --resume) continues, as Ray skips it."""
        recorded = self.rungs.setdefault(rung, {})
        if key in recorded:
            return Decision(False, rung, self.metric, value, None, "asha")
        scores = [self._score(v) for v in recorded.values()]
        cutoff = None
        if scores and not all(math.isnan(s) for s in scores):
            cutoff = float(np.nanpercentile(scores, (1 - 1 / float(self.reduction_factor)) * 100))
        score = self._score(value)
        # a NaN value compares False with the cutoff in Ray; a non-finite loss here means it diverged
        stop = cutoff is not None and (math.isnan(score) or score < cutoff)
        recorded[key] = value if value is not None and math.isfinite(value) else None  # JSON has no NaN
        self.changes.append({"rung": rung, "key": key, "value": recorded[key]})
        return Decision(stop, rung, self.metric, value, self._unscore(cutoff), "asha")

    def _median(self, history: list[dict], rung: int, value: float | None) -> Decision:
        """Optuna's ``MedianPruner`` (``PercentilePruner`` at 50): no pruning until ``n_startup_trials``
        trials completed; prune if the trial's best value up to this epoch is worse than the median of
        the completed trials' values at this epoch (NaN-ignoring); all-NaN values are pruned."""
        done = [v[rung] for v in self.completed.values() if v.get(rung) is not None]
        if len(self.completed) < self.n_startup_trials or not done:
            return Decision(False, rung, self.metric, value, None, "median")
        scores = [self._score(_value_at(history, e, self.metric)) for e in range(1, rung + 1)]
        best = max((s for s in scores if not math.isnan(s)), default=math.nan)
        median = float(np.nanmedian([self._score(v) for v in done]))
        stop = math.isnan(best) or best < median
        return Decision(stop, rung, self.metric, value, self._unscore(median), "median")

    def decide_group(self, group: str, histories: list[list[dict]], rung: int) -> Decision:
        """Seed-aware: configuration ``group`` judged at ``rung`` on the mean, epoch by epoch, of the
        ``histories`` of its seeds that reached it; the table records the configuration, not a seed."""
        decision = self.decide(group, mean_history(histories, self.metric, rung), rung)
        decision.seeds = len(histories)
        return decision

    def finished(self, key: str, history: list[dict]) -> None:
        """A trial trained to its end: its values at the rungs feed the median rule."""
        values = {m: _value_at(history, m, self.metric) for m in self.milestones if m <= len(history)}
        self.completed[key] = {m: v if v is not None and math.isfinite(v) else None for m, v in values.items()}
        self.changes.append({"completed": key, "values": {str(m): v for m, v in self.completed[key].items()}})

    # -- sweep.json ------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"rule": self.rule, "metric": self.metric, "max_epochs": int(self.max_epochs),
                "grace_period": int(self.grace_period), "reduction_factor": self.reduction_factor,
                "n_startup_trials": self.n_startup_trials,
                "rungs": {str(k): dict(v) for k, v in self.rungs.items()},
                "completed": {k: {str(e): x for e, x in v.items()} for k, v in self.completed.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> Pruner:
        rungs = {int(k): dict(v) for k, v in (data.get("rungs") or {}).items()}
        completed = {k: {int(e): x for e, x in v.items()} for k, v in (data.get("completed") or {}).items()}
        return cls(data["rule"], data["metric"], int(data["max_epochs"]), int(data["grace_period"]),
                   data["reduction_factor"], int(data.get("n_startup_trials", 5)), rungs, completed)


def make_pruner(configs: list, prune: str | dict | None) -> Pruner | None:
    """A sweep's Pruner (None: no pruning); max epochs are the longest trial's (the spec's, unless an
    axis sets the epochs). ``prune``: a rule name or a dict of Pruner fields (None values: defaults)."""
    if prune is None:
        return None
    fields = {"rule": prune} if isinstance(prune, str) else {k: v for k, v in prune.items() if v is not None}
    return Pruner(max_epochs=max(c.training.epochs for c in configs), **fields)


def mean_history(histories: list[list[dict]], metric: str, epochs: int) -> list[dict]:
    """``metric``'s mean over ``histories`` at each epoch up to ``epochs`` (NaN if a seed lacks it or
    it is not finite: a configuration with a diverged seed at a rung is judged as diverged)."""
    rows = []
    for epoch in range(1, epochs + 1):
        values = [_value_at(h, epoch, metric) for h in histories]
        finite = all(v is not None and math.isfinite(v) for v in values) and values
        rows.append({metric: float(np.mean(values)) if finite else math.nan})
    return rows


def _value_at(history: list[dict], epoch: int, metric: str) -> float | None:
    """The metric logged at ``epoch`` (1-based), None if missing or not a number."""
    if epoch < 1 or epoch > len(history):
        return None
    value = history[epoch - 1].get(metric)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
