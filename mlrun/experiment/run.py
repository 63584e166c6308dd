"""The public ``mlrun.train`` and ``mlrun.resume``: one training run from a spec, in a run directory.

The trainer stays quiet; everything written during training goes through the ``RunRecorder`` callback.
"""

from __future__ import annotations

import os
import socket
import sys
import time

from mlrun.diagnostics import table
from mlrun.experiment.outcome import run_training
from mlrun.experiment.preflight import baseline_specs
from mlrun.experiment.record import Run, record_outcome
from mlrun.experiment.recorder import CHECKPOINT, RunRecorder, epochs_done, load_checkpoint
from mlrun.runs import directory as runs
from mlrun.runs.discovery import display_status
from mlrun.runs.history import read_history
from mlrun.spec.errors import ConfigError
from mlrun.spec.loading import Config, flatten, load_config
from mlrun.training.setup import check_sizes, check_task_fit, load_data, logged_metrics
from mlrun.training.signals import Interrupted, Received, deferred_signals, interruptible


def train(cfg, runs_dir="runs", callbacks=(), *, name: str | None = None, smoke: bool = False,
          command: list[str] | None = None, csv_text: str | None = None, out=None, force: bool = False) -> Run:
    """Train the spec ``cfg`` (a Config, a dict or a path) and write a run directory under ``runs_dir``.

    ``out`` is exactly the run directory instead (absent or empty; ``force`` replaces a previous run in it),
    so a pipeline such as a DVC stage can declare it as its output.

    A SIGINT/SIGTERM anywhere after the run directory exists returns the run as ``interrupted``
    (resumable); before it exists, ``Interrupted`` propagates and nothing is left behind.
    """
    cfg = cfg if isinstance(cfg, Config) else load_config(cfg)
    baseline_specs(cfg)  # a bad baselines list is a ConfigError before a run directory exists
    started = time.time()
    if out is None:
        runs.check_runs_dir(runs_dir, name or cfg.name)  # before the work: a bad --runs-dir fails fast
    _warm_figures(smoke)
    received = Received()
    with interruptible(received):
        dataset = load_data(cfg, smoke=smoke, csv_text=csv_text)
        check_task_fit(cfg, dataset)  # spec errors the data reveals, before a run directory is claimed
        check_sizes(cfg, dataset)
        run_dir = None
        try:
            with deferred_signals():  # the directory, its config.yaml and run.json come together
                if out is not None:
                    run_dir = runs.RunDir.claim(out, force=force)
                else:
                    run_dir = runs.RunDir.create(runs_dir, name or cfg.name, kind="train")
                run_dir.write_yaml("config.yaml", cfg.to_dict())
                run_dir.start(kind="train", params=flatten(cfg.to_dict()), resolved={}, seed=cfg.seed,
                              smoke=smoke, command=command or sys.argv,
                              extra={"name": cfg.name, "status": "running", "config_sha256": config_hash(cfg)})
        except Interrupted as exc:
            if run_dir is None:
                raise
            return _interrupted(run_dir, exc, received, dataset.task)
        return _train_in(run_dir, cfg, dataset, callbacks, started, received, smoke=smoke)


def _warm_figures(smoke: bool) -> None:
    """Start the figure processes now, so they import matplotlib while this run loads data and trains."""
    if not smoke:  # a smoke run draws no figures
        from mlrun.experiment.figure_pool import POOL

        POOL.warm()


def config_hash(cfg: Config, part_defaults: bool = True) -> str:
    """SHA-256 of the spec as config.yaml records it: --resume refuses a config.yaml edited since.
    (``part_defaults=False``: as runs recorded it before config.yaml listed every part's parameters.)"""
    import hashlib
    import json

    spec = cfg.to_dict(part_defaults=part_defaults)
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def _as_json(obj):
    import json

    return json.loads(json.dumps(obj, sort_keys=True, default=str))


def resumable(path) -> tuple[runs.RunDir, dict, Config]:
    """The run directory, its run.json and its spec, if the run can be resumed (else ConfigError)."""
    run_dir, info = runs.RunDir.open(path)
    status = display_status(info)
    if info.get("kind") != "train":
        raise ConfigError(f"{path} is a {info.get('kind')} run; only training runs resume")
    if status in ("completed", "diverged", "running"):
        raise ConfigError(f"{path} is {status}; only interrupted, failed or stale runs resume")
    cfg = load_config(run_dir.file("config.yaml"))
    recorded = info.get("config_sha256")
    hashes = (config_hash(cfg), config_hash(cfg, part_defaults=False))
    if _as_json(flatten(cfg.to_dict())) != _as_json(info.get("params")) or (recorded and recorded not in hashes):
        raise ConfigError(f"{run_dir.file('config.yaml')} was changed after the run started (it no longer "
                          "matches run.json's params); resume continues a run as it was: restore it, or "
                          "train the changed spec as a new run")
    return run_dir, info, cfg


def resume(path, callbacks=()) -> Run:
    """Continue an interrupted run in its own directory, bit-identically (from its last checkpoint, or
    from the start if it stopped before its first epoch ended)."""
    run_dir, info, cfg = resumable(path)
    started = time.time()
    smoke = bool(info.get("smoke"))
    _warm_figures(smoke)
    received = Received()
    with interruptible(received):
        dataset = load_data(cfg, smoke=smoke)
        checkpoint = _checkpoint(run_dir)
        notes = _restart_note(run_dir) if checkpoint is None else []
        try:
            with deferred_signals():
                run_dir.update(status="running", pid=os.getpid(), host=socket.gethostname(), error=None,
                               heartbeat=time.time(), signal=None)
        except Interrupted as exc:
            return _interrupted(run_dir, exc, received, dataset.task)
        return _train_in(run_dir, cfg, dataset, callbacks, started, received, smoke=smoke,
                         resume_from=info.get("resolved") or {}, checkpoint=checkpoint,
                         previous_total=(info.get("timings") or {}).get("total_seconds") or 0.0, notes=notes)


def _restart_note(run_dir) -> list[str]:
    """A run resumed without a checkpoint starts again from epoch 0; say so when it had trained before
    (its checkpoint deleted, or a kill between the first epoch's history row and its checkpoint)."""
    history = run_dir.file("history.csv")
    epochs = len(read_history(history)) if history.exists() else 0
    if not epochs:
        return []
    return [f"resume: no {CHECKPOINT} on disk though history.csv records {epochs} epoch"
            f"{'s' if epochs != 1 else ''}: training started again from epoch 0 (the same seed, so the same numbers)"]


def os_error_text(exc: OSError) -> str:
    """'No space left on device: runs/x/model.npz' (strerror and file name; no errno)."""
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def _checkpoint(run_dir):
    """The last checkpoint, None before the first epoch ended, or a one-line ConfigError (the run's
    status is left as it was: nothing has been written yet)."""
    import zipfile

    for stale in run_dir.path.glob(".*.tmp"):  # a kill between an atomic write's temp file and its rename
        stale.unlink(missing_ok=True)
    if not run_dir.file(CHECKPOINT).exists():
        return None
    try:
        return load_checkpoint(run_dir)
    except ConfigError:
        raise
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{run_dir.path}: the checkpoint is damaged ({type(exc).__name__}: {why}); "
                          "cannot resume, train the spec again") from None


def _train_in(run_dir, cfg, dataset, callbacks, started, received, smoke=False, resume_from=None,
              checkpoint=None, previous_total=0.0, notes=()) -> Run:
    recorder = RunRecorder(run_dir, logged_metrics(cfg, dataset.task))
    try:
        earlier = _earlier_diagnostics(run_dir, checkpoint)
        outcome = run_training(cfg, dataset, [recorder, *callbacks], resolved=resume_from, smoke=smoke,
                               checkpoint=checkpoint, received=received, diagnostics_rows=earlier)
        # a smoke run checks that the spec works; its figures of 2 epochs would cost more than the run
        # (matplotlib and four figures: 2-4 s) and a failing figure is only ever a warning
        return record_outcome(run_dir, outcome, previous_total + (time.time() - started), received=received,
                              plots=not smoke, notes=notes)
    except Interrupted as exc:
        _keep_last_epoch(recorder)
        return _interrupted(run_dir, exc, received, dataset.task)
    except KeyboardInterrupt:  # raised in the caller's own code (a notebook, a callback): not a failure
        _keep_last_epoch(recorder)
        received.closing = True
        run_dir.finish("interrupted", "interrupted", epochs_done(run_dir), error="KeyboardInterrupt")
        raise
    except BaseException as exc:
        _keep_last_epoch(recorder)
        received.closing = True
        try:
            run_dir.finish("failed", None, epochs_done(run_dir), error=f"{type(exc).__name__}: {exc}")
        except OSError:  # the disk that failed the run may not take run.json either: report the first error
            if not isinstance(exc, OSError):
                raise
        if isinstance(exc, OSError):  # disk full, permissions: the run failed, the code did not
            raise runs.RunFailed(f"the run failed: {os_error_text(exc)} (run directory: {run_dir.path})") from exc
        raise


def _keep_last_epoch(recorder: RunRecorder) -> None:
    """A run that ends in an exception still leaves its last whole epoch resumable (the checkpoint
    budget may have held it back); if that write fails too, the previous checkpoint stays whole."""
    try:
        recorder.flush()
    except BaseException:  # noqa: BLE001 - the exception being handled is the one to report
        pass


def _interrupted(run_dir, exc: Interrupted, received: Received, task: str) -> Run:
    """A signal outside the training loop (start-up, metrics, files, figures) or a second signal: the run
    is ``interrupted`` at its last checkpoint, resumable like one stopped after a batch."""
    received.closing = True
    epochs = epochs_done(run_dir)
    note = "a second signal ended it at once" if len(received) > 1 else "stopped outside the training loop"
    run_dir.finish("interrupted", "interrupted", epochs, error=None, signal=exc.signum, note=note)
    history = read_history(run_dir.file("history.csv")) if run_dir.file("history.csv").exists() else []
    return Run(run_dir.path, "interrupted", "interrupted", {}, history, epochs, signal=exc.signum, task=task,
               warnings=[f"interrupted by signal {exc.signum}: {note}"])


def _earlier_diagnostics(run_dir, checkpoint) -> list[dict] | None:
    """A resumed run's measurements up to its checkpoint's epoch (diagnostics.csv is written when a run
    stops), so its diagnostics continue rather than restart."""
    path = run_dir.file(table.FILE)
    if checkpoint is None or not path.exists():
        return None
    epoch = checkpoint[0]["epoch"]
    return [row for row in table.read_rows(path) if row["epoch"] <= epoch]
