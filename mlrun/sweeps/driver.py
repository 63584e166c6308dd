"""Sweeps: one spec over a grid (or random draws) and several seeds, run in parallel.

    spec x axes x seeds -> trials -> executor (joblib/loky locally, or Dask) -> results -> driver

A worker trains in memory and returns the ``Outcome`` (metrics, history, model arrays); only the
driver writes, as results arrive: one ordinary run directory per trial under
``runs/<name>-<timestamp>/`` and the ``sweep.json`` manifest beside them. No shared filesystem is
needed (CSV data travels with the trial) and no two processes write the same file.

This module is the public API (``sweep``, ``resume_sweep``) and picks the executor; the axes are in
``axes``, the plan (trials, validation) in ``plan``, the workers' side in ``executors`` (loky) and
``cluster`` (Dask), rung-by-rung trials in ``segments``, the writer in ``writer``, sweep.json's
snapshot and log in ``journal``, its records in ``records``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from mlrun.runs import directory as runs
from mlrun.runs.files import read_json
from mlrun.spec.names import sanitize_name
from mlrun.sweeps.cluster import DEFAULT_WAIT, ClusterWatch, DaskExecutor, DaskPool
from mlrun.sweeps.executors import default_jobs, joblib_results
from mlrun.sweeps.journal import MANIFEST
from mlrun.sweeps.plan import Axis, Plan, SweepError, make_plan, plan_from, submission_order
from mlrun.sweeps.pruning import Pruner, make_pruner
from mlrun.sweeps.records import FINISHED, SweepResult, TrialRecord, load_manifest
from mlrun.sweeps.writer import SweepWriter, now


def _claim_dir(runs_dir, name: str) -> Path:
    """runs/<name>-<YYYYmmdd-HHMMSS>/ claimed with os.mkdir (a collision adds 4 hex digits)."""
    root = Path(runs_dir)
    runs.check_runs_dir(root, name)
    base = f"{sanitize_name(name)}-{time.strftime('%Y%m%d-%H%M%S')}"
    for suffix in ["", *(f"-{secrets.token_hex(2)}" for _ in range(1000))]:
        try:
            os.mkdir(root / (base + suffix))
            return root / (base + suffix)
        except FileExistsError:
            continue
    raise FileExistsError(f"could not claim a sweep directory under {root}")


# -- the public API -----------------------------------------------------------------------------------
def _records(plan: Plan) -> list[TrialRecord]:
    return [TrialRecord(i, t.key, list(t.overrides), t.seed) for i, t in enumerate(plan.trials)]


def _execute(plan: Plan, result: SweepResult, manifest: dict, todo: list[int], jobs, dask, fail_fast,
             on_event, pruner: Pruner | None = None, dask_wait: float = DEFAULT_WAIT) -> SweepResult:
    """Run ``todo`` with joblib (``jobs`` processes) or on Dask, through the one writer."""
    if pruner is not None:
        todo = submission_order(todo, len(plan.trials), plan.seed, plan.seeds)
    if dask:
        return _on_dask(plan, result, manifest, todo, jobs, dask, fail_fast, on_event, pruner, dask_wait)
    n = min(int(jobs or default_jobs()), max(1, len(todo)))
    result.workers, result.executor = n, f"joblib {n} process{'es' if n > 1 else ''}"
    manifest["executor"] = {"kind": "joblib", "jobs": n}
    writer = SweepWriter(plan, result, manifest, on_event, pruner)
    if pruner is None:
        return writer.run(todo, lambda tasks: joblib_results(tasks, n), fail_fast)
    from mlrun.sweeps.segments import InlinePool, LokyPool

    return writer.run(todo, writer.pruned(lambda: InlinePool() if n == 1 else LokyPool(n), n), fail_fast)


def _on_dask(plan, result, manifest, todo, jobs, dask, fail_fast, on_event, pruner, dask_wait) -> SweepResult:
    from mlrun.sweeps.segments import pool_results

    executor = DaskExecutor(dask, jobs)
    try:
        result.workers, result.executor = executor.workers, f"dask {dask}"
        manifest["executor"] = {"kind": "dask", "address": dask, "workers": executor.workers}
        writer = SweepWriter(plan, result, manifest, on_event, pruner)
        writer.watch = ClusterWatch(executor.client, dask_wait, writer.note)
        pool = lambda: DaskPool(executor.client, writer.watch)  # noqa: E731 - one pool per run
        results = (writer.pruned(pool, executor.workers) if pruner is not None
                   else lambda tasks: pool_results(tasks, pool()))
        return writer.run(todo, results, fail_fast)
    finally:
        executor.close()


def sweep(cfg, grid=None, seeds: int | None = None, jobs: int | None = None, dask: str | None = None,
          runs_dir="runs",
          *, random: int | None = None, fail_fast: bool = False, dry_run: bool = False, plots: bool = False,
          on_event: Callable | None = None, command: list[str] | None = None,
          prune: str | dict | None = None, dask_wait: float = DEFAULT_WAIT) -> SweepResult:
    """Run the spec ``cfg`` over ``grid`` ({key: [values]}, plus the spec's ``sweep:`` section) x ``seeds``.

    Each trial becomes a run directory under ``runs_dir/<name>-<timestamp>/``, next to sweep.json.
    ``jobs`` local processes (default: the number of cores), or ``dask`` = a scheduler address or
    "local". ``random=N`` draws N points instead of the grid; ``plots`` draws each run's figures.
    ``on_event(event, result, trial=None)`` is called with "start", "trial" (one finished), "note" (what
    the cluster did; the message in place of the trial) and "end". On Dask, ``dask_wait`` seconds are
    given to an empty cluster before the sweep stops, resumable.
    ``dry_run`` expands and validates only. ``prune``: "asha" or "median", or a dict of ``Pruner``'s
    fields ({"rule": "asha", "metric": "val_loss", "grace_period": 1, "reduction_factor": 4}).
    """
    plan = make_plan(cfg, grid, seeds, random)
    pruner = make_pruner(plan.configs, prune)
    result = SweepResult(None, plan.name, _records(plan), plan.fingerprint)
    if dry_run:
        return result
    if jobs is not None and int(jobs) < 1:
        raise SweepError(f"jobs must be >= 1; got {jobs}")
    result.path = _claim_dir(runs_dir, plan.name)
    manifest = {
        "format": 1, "name": plan.name, "created": now(), "updated": None, "fingerprint": plan.fingerprint,
        "method": plan.method, "n_trials": plan.n_trials, "seeds": plan.seeds, "spec": plan.spec,
        "axes": [a.to_dict() for a in plan.axes], "command": command or sys.argv, "versions": runs.versions(),
        "plots": bool(plots),
    }
    try:
        everything = list(range(len(plan.trials)))
        return _execute(plan, result, manifest, everything, jobs, dask, fail_fast, on_event, pruner, dask_wait)
    except SweepError:  # e.g. an unreachable or mismatched Dask cluster: leave no empty sweep folder
        with contextlib.suppress(OSError):
            result.path.rmdir()
        raise


def _kept(path: Path, trial: TrialRecord) -> bool:
    """A completed or diverged trial whose run directory still says so."""
    if trial.status not in FINISHED or not trial.run:
        return False
    try:
        return read_json(path / trial.run / "run.json").get("status") == trial.status
    except (OSError, ValueError):
        return False


def _supersede(path: Path, trial: TrialRecord) -> None:
    """Move a rerun trial's old directory to .superseded/ (kept, but out of compare's sight)."""
    if trial.run and (path / trial.run).is_dir():
        (path / ".superseded").mkdir(exist_ok=True)
        shutil.move(str(path / trial.run), str(path / ".superseded" / trial.run))


def _supersede_orphans(path: Path, known: set[str]) -> None:
    """A run directory no trial names (the one being written when a driver was killed) goes to
    .superseded/ too, so compare never counts a trial twice."""
    for child in path.iterdir():
        if child.is_dir() and not child.name.startswith(".") and child.name not in known:
            _supersede(path, TrialRecord(-1, "", [], 0, run=child.name))


def resume_sweep(path, jobs: int | None = None, dask: str | None = None, *, fail_fast: bool = False,
                 on_event: Callable | None = None, command: list[str] | None = None,
                 dask_wait: float = DEFAULT_WAIT) -> SweepResult:
    """Re-expand a sweep from its sweep.json; keep completed and diverged trials, rerun the others."""
    path = Path(path)
    manifest = load_manifest(path)
    axes = [Axis.from_dict(a) for a in manifest["axes"]]
    plan = plan_from(manifest["spec"], axes, manifest.get("method", "grid"), manifest.get("n_trials"),
                     int(manifest.get("seeds", 1)))
    if plan.fingerprint != manifest["fingerprint"]:
        raise SweepError(f"{path / MANIFEST}: its spec or axes were edited (the fingerprint differs); "
                         "start a new sweep instead")
    result = SweepResult(path, plan.name, _records(plan), plan.fingerprint)
    stored = manifest["trials"]
    for trial in result.trials:
        old = stored.get(trial.key) or {}
        trial.status, trial.run = old.get("status", "pending"), old.get("run")
        trial.metrics, trial.error = old.get("metrics") or {}, old.get("error")
        trial.seconds, trial.pruning = old.get("seconds"), old.get("pruning")
    todo = [t.index for t in result.trials if not _kept(path, t)]
    for i in todo:
        _supersede(path, result.trials[i])
        result.trials[i].reset()
    _supersede_orphans(path, {t.run for t in result.trials if t.run})
    # "command" and "executor" describe the latest session; "sessions" keeps every one of them
    manifest["command"] = command or sys.argv
    pruner = Pruner.from_dict(manifest["pruning"]) if manifest.get("pruning") else None
    return _execute(plan, result, manifest, todo, jobs, dask, fail_fast, on_event, pruner, dask_wait)
