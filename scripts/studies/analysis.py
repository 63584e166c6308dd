"""The fair-comparison arithmetic every study shares, over a sweep's sweep.json and run directories.

Each arm keeps its own best learning rate, chosen on the mean validation score over the seeds (a
diverged seed counts as the worst score; the test split never chooses anything); arms are then
compared on test by seed (the arms share each seed's split), as paired differences with their spread.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

import yaml

LR = "optimizer.learning_rate"


@dataclass
class Trial:
    """One finished trial of a sweep: its overrides (key -> YAML text), seed, status, main metrics."""

    overrides: dict
    seed: int
    status: str
    metrics: dict
    run: Path

    def value(self, key: str, default=None):
        """An override parsed from its YAML text (a part given as {name: ...} stays a dict)."""
        return yaml.safe_load(self.overrides[key]) if key in self.overrides else default

    def score(self, metric: str, higher: bool = True) -> float:
        """The metric, or the worst value when the trial diverged or did not report it."""
        value = self.metrics.get(metric)
        if self.status != "completed" or value is None or not math.isfinite(value):
            return -math.inf if higher else math.inf
        return float(value)


def load_trials(sweep_dir) -> list[Trial]:
    """The completed and diverged trials of a sweep (failed ones have no metrics to compare)."""
    sweep_dir = Path(sweep_dir)
    manifest = json.loads((sweep_dir / "sweep.json").read_text(encoding="utf-8"))
    trials = []
    for t in manifest["trials"].values():
        if t["status"] in ("completed", "diverged"):
            overrides = dict(o.split("=", 1) for o in t["overrides"])
            trials.append(Trial(overrides, t["seed"], t["status"], t["metrics"] or {}, sweep_dir / t["run"]))
    return trials


def part_label(value) -> str:
    """A part as the tables show it: "selu", "leaky_relu(alpha=0.2)", a list as "128-64-32"."""
    if isinstance(value, dict):
        params = ", ".join(f"{k}={v}" for k, v in value.items() if k != "name")
        return f"{value.get('name', '?')}({params})" if params else str(value.get("name", "?"))
    if isinstance(value, list):
        return "-".join(part_label(v) for v in value)
    return str(value)


@dataclass
class Choice:
    """An arm at its best learning rate: the rate and the trials at it, by seed."""

    lr: float | None
    by_seed: dict
    validation: float


def best_rate(trials: list[Trial], metric: str, higher: bool = True) -> Choice:
    """The rate with the best mean validation ``metric`` over the seeds (ties: the lower rate)."""
    by_lr: dict = {}
    for t in trials:
        by_lr.setdefault(t.value(LR), []).append(t)

    def mean_score(lr):
        scores = [t.score(metric, higher) for t in by_lr[lr]]
        return statistics.fmean(scores) if all(map(math.isfinite, scores)) else (-math.inf if higher else math.inf)

    rates = sorted(by_lr, key=lambda r: (r is None, r or 0.0))
    lr = (max if higher else min)(rates, key=mean_score)
    return Choice(lr, {t.seed: t for t in by_lr[lr]}, mean_score(lr))


def arms(trials: list[Trial], arm_of, metric: str, higher: bool = True) -> dict:
    """{arm: Choice} with ``arm_of(trial)`` naming each trial's arm (None: not in the comparison)."""
    groups: dict = {}
    for t in trials:
        name = arm_of(t)
        if name is not None:
            groups.setdefault(name, []).append(t)
    return {name: best_rate(group, metric, higher) for name, group in groups.items()}


def test_values(choice: Choice, metric: str, higher: bool = True) -> dict:
    """{seed: the test metric} of an arm at its chosen rate (a diverged seed: the worst value)."""
    worst = 0.0 if higher else math.nan
    return {s: (t.metrics.get(metric) if t.status == "completed" else worst) for s, t in choice.by_seed.items()}


@dataclass
class Paired:
    """``a - b`` by seed over the seeds both arms have: mean, sample std, wins, a paired t-test's p."""

    diffs: list
    mean: float
    std: float
    wins: int
    p: float

    def text(self, digits: int = 4) -> str:
        return (f"{self.mean:+.{digits}f} ± {self.std:.{digits}f} (higher on {self.wins} of "
                f"{len(self.diffs)} seeds, p = {self.p:.2g})")


def paired(a: dict, b: dict) -> Paired:
    """Paired differences ``a[seed] - b[seed]``; p from a two-sided paired t-test (1.0 when all equal)."""
    seeds = sorted(set(a) & set(b))
    diffs = [a[s] - b[s] for s in seeds if a[s] is not None and b[s] is not None
             and math.isfinite(a[s]) and math.isfinite(b[s])]
    if not diffs:
        return Paired([], math.nan, math.nan, 0, math.nan)
    mean = statistics.fmean(diffs)
    std = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
    if std == 0.0:
        p = 1.0 if mean == 0.0 else 0.0
    else:
        from scipy.stats import t as student

        p = float(2 * student.sf(abs(mean) / (std / math.sqrt(len(diffs))), len(diffs) - 1))
    return Paired(diffs, mean, std, sum(d > 0 for d in diffs), p)


ALPHA = 0.05  # a paired difference counts when a two-sided paired t-test gives p below this


def verdict(diff: Paired, alpha: float = ALPHA) -> str:
    """The claim "a beats b" for one paired comparison: holds, does not hold here, cannot be told apart."""
    if not diff.diffs or math.isnan(diff.p) or diff.p >= alpha:
        return "cannot be told apart"
    return "holds" if diff.mean > 0 else "does not hold here"


def overall(verdicts: dict) -> str:
    """One verdict from per-condition verdicts ({condition: verdict}): holds only when ..., etc."""
    values = set(verdicts.values())
    if values == {"holds"}:
        return "holds"
    held = [c for c, v in verdicts.items() if v == "holds"]
    if held:
        return f"holds only on {', '.join(held)}"
    if "does not hold here" in values:
        return "does not hold here"
    return "cannot be told apart"


def mean_std(values, digits: int = 4) -> str:
    values = [v for v in values if v is not None and math.isfinite(v)]
    if not values:
        return "-"
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.{digits}f} ± {std:.{digits}f}"


def read_diagnostics(run_dir) -> dict:
    """diagnostics.csv as {(epoch, layer, quantity): value} (empty when the run has none)."""
    path = Path(run_dir) / "diagnostics.csv"
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as f:
        return {(int(r["epoch"]), int(r["layer"]), r["quantity"]): float(r["value"]) for r in csv.DictReader(f)}


def read_history(run_dir) -> list[dict]:
    """history.csv as a list of rows of floats (an empty cell is None)."""
    with (Path(run_dir) / "history.csv").open(newline="", encoding="utf-8") as f:
        return [{k: (float(v) if v not in ("", None) else None) for k, v in r.items()} for r in csv.DictReader(f)]


def read_json(run_dir, name: str) -> dict:
    return json.loads((Path(run_dir) / name).read_text(encoding="utf-8"))


def pyplot():
    """matplotlib's pyplot on the Agg backend (the studies only write PNGs)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, legend_from=None, ncol: int = 3, fontsize: int = 8, legend_room: float = 0.0) -> None:
    """A study's figure at 110 dpi, then closed. With ``legend_from`` (an axes), its legend goes below
    the panels, in the bottom ``legend_room`` of the figure's height."""
    if legend_from is not None:
        handles, labels = legend_from.get_legend_handles_labels()
        fig.legend(handles, labels, fontsize=fontsize, loc="lower center", ncol=ncol, frameon=False)
    fig.tight_layout(rect=(0, legend_room, 1, 1))
    fig.savefig(path, dpi=110)
    pyplot().close(fig)


def ranking_table(ranked: list[str], claim: list[str], chosen: dict, tests: dict, what: str,
                  extra: str, extra_of) -> tuple[list[str], float]:
    """The markdown rows ranking ``ranked`` (best first) beside the note's order ``claim``, one column
    ``extra`` of ``extra_of(arm)``, and the Spearman rank correlation of the two orders."""
    from scipy.stats import spearmanr

    lines = [f"| measured rank | note's rank | {what} | best lr | test accuracy | {extra} |",
             "|---:|---:|---|---:|---|---|"]
    for i, a in enumerate(ranked, 1):
        note = claim.index(a) + 1 if a in claim else "-"
        lines.append(f"| {i} | {note} | {a} | {chosen[a].lr:g} | {mean_std(tests[a].values())} | {extra_of(a)} |")
    claimed = [a for a in ranked if a in claim]
    return lines, spearmanr(range(len(claimed)), [claim.index(a) for a in claimed]).statistic
