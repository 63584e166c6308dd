"""Learning-rate range test (``mlrun lr-find``), its run directory, and ``max_lr: auto`` for 1cycle.

A fresh network trains under the exponential ramp η_t = start·(end/start)^(t/(steps-1)) (Smith 2017,
"Cyclical learning rates", sec. 3.3; the ``lr_range`` schedule) through the ordinary ``Trainer``; every
step's loss is smoothed by a bias-corrected EMA and the test stops once the smoothed loss exceeds 4x its
minimum or turns non-finite (fastai's ``LRFinder``). ``suggestions`` turns the curve into learning rates.
"""

from __future__ import annotations

import math
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mlrun.lr_finder.suggestions import EMA, MIN_STEPS, RULES, suggestions
from mlrun.spec.errors import ConfigError
from mlrun.spec.loading import Config, flatten, load_config
from mlrun.spec.yaml_text import dump_yaml
from mlrun.training.setup import RangeTest, build_setup, load_data
from mlrun.training.signals import Interrupted, Received, deferred_signals, graceful_signals, interruptible
from mlrun.training.trainer import Trainer

AUTO_RULE = "valley"  # the rule fastai pairs with one-cycle training
EXPLODE_FACTOR = 4.0
CURVE_KEY = "lr_find_curve"  # private key of ``auto_max_lr``'s result; popped by ``keep_curve``
CSV_HEADER = ["step", "learning_rate", "loss", "smoothed_loss"]


@dataclass
class LRFindResult:
    """A range test: the curve, every rule's suggestion and the chosen one (``suggestion``)."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestions: dict
    rule: str
    start: float
    end: float
    steps: int
    status: str
    stop_reason: str
    epochs: int = 0
    seconds: float = 0.0
    path: Path | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def suggestion(self) -> float | None:
        return self.suggestions.get(self.rule)


class _Recorder:
    """Trainer callback: η, loss and smoothed loss per step; stops on explosion or after ``steps``."""

    def __init__(self, steps: int) -> None:
        self.steps, self.ema, self.best = steps, EMA(), math.inf
        self.lrs: list[float] = []
        self.losses: list[float] = []
        self.smoothed: list[float] = []

    def on_batch_end(self, trainer: Trainer, logs: dict) -> None:
        value = self.ema.update(logs["loss"])
        self.lrs.append(trainer.optimizer.learning_rate)  # the η this step's update used: ramp(step)
        self.losses.append(logs["loss"])
        self.smoothed.append(value)
        self.best = min(self.best, value)
        if not math.isfinite(value) or value > EXPLODE_FACTOR * self.best:
            trainer.request_stop("loss_exploded")
        elif len(self.losses) >= self.steps:
            trainer.request_stop("steps_done")


def check_range(start, end, steps, rule: str = "minimum") -> None:
    """The range test's arguments, with one-line errors that echo what was given."""
    if not (isinstance(start, (int, float)) and math.isfinite(start) and start > 0):
        raise ConfigError(f"--start must be a positive number; got {start}")
    if not (isinstance(end, (int, float)) and math.isfinite(end) and end > 0):
        raise ConfigError(f"--end must be a positive number; got {end}")
    if start >= end:
        raise ConfigError(f"--start must be below --end; got start {start:g} >= end {end:g}")
    if not isinstance(steps, int) or steps < MIN_STEPS:
        raise ConfigError(f"--steps must be an integer >= {MIN_STEPS}; got {steps}")
    if rule not in RULES:
        raise ConfigError(f"--rule must be one of {', '.join(RULES)}; got {rule!r}")


def range_test(cfg: Config, dataset, start: float = 1e-5, end: float = 10.0, steps: int = 500,
               rule: str = "minimum", callbacks=(), received: list | None = None) -> LRFindResult:
    """Run the range test on ``dataset``'s training part (no validation passes, no files); the signals
    that stopped it go into ``received``."""
    check_range(start, end, steps, rule)
    recorder = _Recorder(steps)
    setup = build_setup(cfg, dataset, [recorder, *callbacks], range_test=RangeTest(start, end, steps))
    trainer = setup.trainer
    with graceful_signals(trainer, [] if received is None else received):
        trainer.fit(dataset.X_train, setup.y_train)
    # the trainer's own divergence check (non-finite, or 1e4 x the first loss) is an explosion here
    reason = "loss_exploded" if trainer.stop_reason == "diverged" else trainer.stop_reason
    reason = "steps_done" if reason == "max_epochs" else reason
    lrs, losses, smoothed = (np.array(v, dtype=np.float64) for v in
                             (recorder.lrs, recorder.losses, recorder.smoothed))
    status = "interrupted" if reason == "interrupted" else "completed"
    res = LRFindResult(lrs, losses, smoothed, suggestions(lrs, smoothed, steps), rule, float(start),
                       float(end), int(steps), status, reason, trainer.epoch, trainer.train_seconds)
    if reason == "loss_exploded" and len(losses) < max(MIN_STEPS, steps // 10):
        res.warnings.append(f"the loss exploded after {len(losses)} of {steps} steps: too short a curve to "
                            f"trust; lower --start (now {start:g})")
    return res


# -- run directory ------------------------------------------------------------------------------
def write_curve(run_dir, lrs, losses, smoothed, found: dict, chosen: str, title: str) -> list[str]:
    """lr_find.csv and plots/lr_find.png in ``run_dir``; a failing figure becomes a warning."""
    from mlrun.runs import plots

    rows = [[t, float(a), float(b), float(c)] for t, (a, b, c) in enumerate(zip(lrs, losses, smoothed))]
    run_dir.write_csv("lr_find.csv", CSV_HEADER, rows)
    try:
        plots.lr_find(lrs, losses, smoothed, found, chosen, run_dir.plots_dir / "lr_find.png", title)
    except Exception as exc:  # noqa: BLE001
        return [f"plots: {type(exc).__name__}: {exc}"]
    return []


def _summary(res: LRFindResult) -> dict:
    return {"rule": res.rule, "suggestion": res.suggestion, "suggestions": res.suggestions,
            "start": res.start, "end": res.end, "steps": res.steps, "steps_run": len(res.losses),
            "stop_reason": res.stop_reason}


def lr_find(cfg, start: float = 1e-5, end: float = 10.0, steps: int = 500, runs_dir="runs",
            rule: str = "minimum", *, callbacks=(), name: str | None = None,
            command: list[str] | None = None) -> LRFindResult:
    """Range test of the spec ``cfg`` (Config, dict or path) written to a run directory of kind lr_find."""
    import sys

    from mlrun.runs import directory as runs

    cfg = cfg if isinstance(cfg, Config) else load_config(cfg)
    check_range(start, end, steps, rule)
    runs.check_runs_dir(runs_dir, f"{name or cfg.name}-lr-find")
    started = time.time()
    received = Received()
    with interruptible(received):
        dataset = load_data(cfg)
        run_dir = None
        try:
            with deferred_signals():  # the directory, its config.yaml and run.json come together
                run_dir = runs.RunDir.create(runs_dir, f"{name or cfg.name}-lr-find", kind="lr_find")
                run_dir.write_yaml("config.yaml", cfg.to_dict())
                run_dir.start(kind="lr_find", params=flatten(cfg.to_dict()), resolved={}, seed=cfg.seed,
                              smoke=False, command=command or sys.argv, extra={"name": cfg.name})
            res = range_test(cfg, dataset, start, end, steps, rule, callbacks, received=received)
            res.path = run_dir.path
            res.warnings += write_curve(run_dir, res.lrs, res.losses, res.smoothed, res.suggestions, rule,
                                       f"{run_dir.name}: lr-find")
            summary = _summary(res)
            with deferred_signals():
                run_dir.finish(res.status, res.stop_reason, res.epochs, warnings=res.warnings,
                               timings={"train_seconds": res.seconds, "total_seconds": time.time() - started},
                               resolved={k: summary[k] for k in ("start", "end", "steps", "steps_run")},
                               steps=len(res.losses), signal=received[0] if received else None,
                               **{k: summary[k] for k in ("rule", "suggestion", "suggestions")})
                received.closing = True  # the run is recorded: a later signal changes nothing
        except BaseException as exc:
            received.closing = True
            if run_dir is not None and isinstance(exc, Interrupted):
                run_dir.finish("interrupted", "interrupted", 0, signal=exc.signum)
            elif run_dir is not None:
                run_dir.finish("failed", None, 0, error=f"{type(exc).__name__}: {exc}")
            raise
    return res


# -- 1cycle with max_lr: auto -------------------------------------------------------------------
def auto_max_lr(cfg: Config, dataset, start: float = 1e-5, end: float = 10.0, steps: int = 500,
                received: list | None = None) -> dict:
    """What ``max_lr: auto`` adds to run.json's ``resolved``: the valley suggestion of a range test on
    the training data, the test's summary, and (under CURVE_KEY, for ``keep_curve``) its curve."""
    received = [] if received is None else received
    res = range_test(cfg, dataset, start, end, steps, rule=AUTO_RULE, received=received)
    if res.status == "interrupted":
        raise Interrupted(received[0] if received else signal.SIGINT)
    if res.suggestion is None:
        raise ConfigError("schedule.max_lr: auto: the range test found no finite loss; "
                          "set max_lr to a number")
    curve = {"lrs": res.lrs, "losses": res.losses, "smoothed": res.smoothed,
             "suggestions": res.suggestions, "rule": AUTO_RULE}
    return {"max_lr": res.suggestion, "lr_find": _summary(res), CURVE_KEY: curve}


def keep_curve(run_dir, resolved: dict) -> list[str]:
    """Pop ``auto_max_lr``'s curve from ``resolved`` into lr_find.csv + plots/lr_find.png and record
    ``resolved`` in run.json at once (so ``--resume`` reuses max_lr). No-op without a curve."""
    curve = resolved.pop(CURVE_KEY, None)
    if curve is None:
        return []
    warnings = write_curve(run_dir, curve["lrs"], curve["losses"], curve["smoothed"], curve["suggestions"],
                           curve["rule"], f"{run_dir.name}: lr-find for max_lr: auto")
    run_dir.update(resolved=resolved)
    return warnings


# -- using a suggestion -------------------------------------------------------------------------
def target_key(cfg: Config) -> str:
    """The spec key a suggestion fills: schedule.max_lr for one_cycle, else the initial learning rate."""
    schedule = cfg.schedule
    if schedule["name"] == "one_cycle":
        return "schedule.max_lr"
    if schedule.get("initial_learning_rate") is not None:
        return "schedule.initial_learning_rate"
    return "optimizer.learning_rate"


def rounded(lr: float) -> float:
    """Three significant digits: what the printed command and a written spec carry."""
    return float(f"{lr:.3g}")


def override_for(cfg: Config, lr: float) -> str:
    """``key=value`` for ``--set``."""
    return f"{target_key(cfg)}={rounded(lr):g}"


def spec_text(cfg: Config, lr: float) -> str:
    """The spec as YAML with the suggestion filled in (for ``--write-spec``)."""
    spec = cfg.to_dict()
    section, key = target_key(cfg).split(".")
    spec[section][key] = rounded(lr)
    return dump_yaml(spec)
