"""A sweep's records: each trial's state as sweep.json keeps it, and the sweep's result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlrun.metrics.names import higher_is_better
from mlrun.sweeps.axes import SweepError
from mlrun.sweeps.journal import MANIFEST, read_manifest

FINISHED = ("completed", "diverged", "pruned")  # results: --resume keeps them (a pruning is a decision)
STATUSES = ("pending", "completed", "diverged", "pruned", "failed", "interrupted")


# -- results ------------------------------------------------------------------------------------------
@dataclass
class TrialRecord:
    """A trial's state in sweep.json: status, its run directory (relative to the sweep), main metrics."""

    index: int
    key: str
    overrides: list[str]
    seed: int
    status: str = "pending"
    run: str | None = None
    metrics: dict = field(default_factory=dict)
    error: str | None = None
    seconds: float | None = None
    pruning: dict | None = None  # a pruned trial's decision: rule, rung, metric, value, cutoff

    def to_dict(self) -> dict:
        return {"index": self.index, "overrides": self.overrides, "seed": self.seed, "status": self.status,
                "run": self.run, "metrics": self.metrics, "error": self.error, "seconds": self.seconds,
                **({"pruning": self.pruning} if self.pruning else {})}

    def reset(self) -> None:
        self.status, self.run, self.metrics, self.error, self.seconds = "pending", None, {}, None, None
        self.pruning = None


@dataclass
class SweepResult:
    """What ``sweep``/``resume_sweep`` return: the sweep directory, every trial's record, the outcome."""

    path: Path | None
    name: str
    trials: list[TrialRecord]
    fingerprint: str
    to_run: list[int] = field(default_factory=list)
    workers: int = 0
    executor: str = ""
    interrupted: bool = False
    stopped: bool = False  # --fail-fast ended it
    lost: str | None = None  # why the cluster ended it (the scheduler, or no worker within --dask-wait)
    notes: list[str] = field(default_factory=list)  # what the cluster did: lost workers, reruns, waits
    cluster: dict = field(default_factory=dict)  # {"lost_workers": [...], "reruns": {trial index: n}}

    def count(self, status: str) -> int:
        return sum(t.status == status for t in self.trials)

    @property
    def n_failed(self) -> int:
        return self.count("failed")

    @property
    def counts(self) -> dict[str, int]:
        return {s: self.count(s) for s in STATUSES if self.count(s)}

    @property
    def running(self) -> int:
        """Trials being trained now (at most one per worker)."""
        left = sum(self.trials[i].status == "pending" for i in self.to_run)
        return min(self.workers, left)

    @property
    def exit_code(self) -> int:
        return 130 if self.interrupted else 1 if self.n_failed or self.lost else 0

    @property
    def metric(self) -> str | None:
        return main_metric({k for t in self.trials for k in t.metrics})

    def best(self) -> TrialRecord | None:
        key = self.metric
        done = [t for t in self.trials if is_candidate(t, key)]
        if not done:
            return None
        pick = max if higher_is_better(key) else min
        return pick(done, key=lambda t: t.metrics[key])


def main_metric(keys: set[str]) -> str | None:
    """The metric a sweep's best trial is judged on, from the metric names its trials have."""
    return next((k for k in ("test.accuracy", "test.rmse", "validation.accuracy", "validation.rmse")
                 if k in keys), None)


def is_candidate(trial: TrialRecord, key: str | None) -> bool:
    """A trial that can be the best on ``key`` (a pruned trial's metrics are an early epoch's: never)."""
    return trial.status != "pruned" and isinstance(trial.metrics.get(key), (int, float))


def _main_metrics(metrics: dict) -> dict:
    """The scalar validation and test metrics, flat ("test.accuracy"), for sweep.json and progress."""
    return {f"{split}.{k}": v for split in ("validation", "test")
            for k, v in (metrics.get(split) or {}).items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def load_manifest(path) -> dict:
    """sweep.json as of its last logged change (``journal.read_manifest``), checked."""
    file = Path(path) / MANIFEST
    if not file.is_file():
        raise SweepError(f"not a sweep directory (no {MANIFEST}): {path}")
    try:
        manifest = read_manifest(path)
        manifest["spec"], manifest["axes"], manifest["trials"], manifest["fingerprint"]  # noqa: B018
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SweepError(f"{file} is unreadable ({type(exc).__name__}: {exc})") from None
    return manifest
