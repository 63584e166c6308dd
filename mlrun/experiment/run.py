"""The public ``mlrun.train`` and ``mlrun.resume``: one training run from a spec, in a run directory.

The trainer stays quiet; everything written during training goes through the ``RunRecorder`` callback.
"""

from __future__ import annotations

import os
import socket
import sys
import time

from mlrun.experiment.outcome import baseline_specs, run_training
from mlrun.experiment.record import Run, record_outcome
from mlrun.experiment.recorder import RunRecorder, epochs_done, load_checkpoint
from mlrun.metrics.names import main_metric
from mlrun.runs import directory as runs
from mlrun.runs.discovery import display_status
from mlrun.spec.errors import ConfigError
from mlrun.spec.loading import Config, flatten, load_config
from mlrun.training.setup import load_data


def train(cfg, runs_dir="runs", callbacks=(), *, name: str | None = None, smoke: bool = False,
          command: list[str] | None = None, csv_text: str | None = None, out=None, force: bool = False) -> Run:
    """Train the spec ``cfg`` (a Config, a dict or a path) and write a run directory under ``runs_dir``.

    ``out`` is exactly the run directory instead (absent or empty; ``force`` replaces a previous run in it),
    so a pipeline such as a DVC stage can declare it as its output.
    """
    cfg = cfg if isinstance(cfg, Config) else load_config(cfg)
    baseline_specs(cfg)  # a bad baselines list is a ConfigError before a run directory exists
    started = time.time()
    dataset = load_data(cfg, smoke=smoke, csv_text=csv_text)
    if out is not None:
        run_dir = runs.RunDir.claim(out, force=force)
    else:
        run_dir = runs.RunDir.create(runs_dir, name or cfg.name, kind="train")
    run_dir.write_yaml("config.yaml", cfg.to_dict())
    run_dir.start(kind="train", params=flatten(cfg.to_dict()), resolved={}, seed=cfg.seed, smoke=smoke,
                  command=command or sys.argv, extra={"name": cfg.name, "status": "running"})
    return _train_in(run_dir, cfg, dataset, callbacks, started, smoke=smoke)


def resumable(path) -> tuple[runs.RunDir, dict, Config]:
    """The run directory, its run.json and its spec, if the run can be resumed (else ConfigError)."""
    run_dir, info = runs.RunDir.open(path)
    status = display_status(info)
    if info.get("kind") != "train":
        raise ConfigError(f"{path} is a {info.get('kind')} run; only training runs resume")
    if status in ("completed", "diverged", "running"):
        raise ConfigError(f"{path} is {status}; only interrupted, failed or stale runs resume")
    if not run_dir.file("checkpoint.json").exists():
        raise ConfigError(f"{path} has no checkpoint (it stopped before its first epoch ended); train it again")
    return run_dir, info, load_config(run_dir.file("config.yaml"))


def resume(path, callbacks=()) -> Run:
    """Continue an interrupted run in its own directory, bit-identically."""
    run_dir, info, cfg = resumable(path)
    started = time.time()
    smoke = bool(info.get("smoke"))
    dataset = load_data(cfg, smoke=smoke)
    run_dir.update(status="running", pid=os.getpid(), host=socket.gethostname(), error=None, heartbeat=time.time())
    return _train_in(run_dir, cfg, dataset, callbacks, started, smoke=smoke, resume_from=info.get("resolved", {}),
                     previous_total=(info.get("timings") or {}).get("total_seconds", 0.0))


def _train_in(run_dir, cfg, dataset, callbacks, started, smoke=False, resume_from=None, previous_total=0.0) -> Run:
    metric_names = [main_metric(dataset.task)]
    recorder = RunRecorder(run_dir, metric_names)
    try:
        checkpoint = load_checkpoint(run_dir) if resume_from is not None else None
        outcome = run_training(cfg, dataset, [recorder, *callbacks], resolved=resume_from, smoke=smoke,
                               checkpoint=checkpoint)
        return record_outcome(run_dir, outcome, previous_total + (time.time() - started))
    except KeyboardInterrupt:
        run_dir.finish("interrupted", "interrupted", epochs_done(run_dir), error="aborted by a second signal")
        raise
    except BaseException as exc:
        run_dir.finish("failed", None, epochs_done(run_dir), error=f"{type(exc).__name__}: {exc}")
        raise
