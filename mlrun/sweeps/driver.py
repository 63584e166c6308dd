"""Sweeps: one spec over a grid (or random draws) and several seeds, run in parallel.

    spec x axes x seeds -> trials -> executor (joblib/loky locally, or Dask) -> results -> driver

A worker trains in memory and returns the ``Outcome`` (metrics, history, model arrays); only the
driver writes, as results arrive: one ordinary run directory per trial under
``runs/<name>-<timestamp>/`` and the ``sweep.json`` manifest beside them. No shared filesystem is
needed (CSV data travels with the trial) and no two processes write the same file.

This module is the driver and the public API (``sweep``, ``resume_sweep``); the axes are in ``axes``, the
plan (trials, validation) in ``plan``, the executors in ``executors``, sweep.json's records in ``records``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from mlrun.runs import directory as runs
from mlrun.runs.files import read_json, write_json
from mlrun.spec.loading import Config, flatten
from mlrun.spec.names import sanitize_name
from mlrun.sweeps.executors import DaskExecutor, WorkerResult, default_jobs, joblib_results, versions
from mlrun.sweeps.plan import Axis, Plan, SweepError, make_plan, plan_from, submission_order
from mlrun.sweeps.pruning import Pruner, make_pruner
from mlrun.sweeps.records import FINISHED, MANIFEST, SweepResult, TrialRecord, _main_metrics, load_manifest


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


class _Driver:
    """The only writer: turns each WorkerResult into a run directory and keeps sweep.json current."""

    def __init__(self, plan: Plan, result: SweepResult, manifest: dict, on_event: Callable | None,
                 pruner: Pruner | None = None) -> None:
        self.plan, self.result, self.manifest, self.pruner = plan, result, manifest, pruner
        self.on_event = on_event or (lambda event, result, trial=None: None)
        self.csv: dict[str, str] = {}

    def pruned(self, make_pool: Callable, slots: int) -> Callable[[list], Iterator[WorkerResult]]:
        """The executor's results with pruning: trials go rung by rung and sweep.json keeps each decision."""
        from mlrun.sweeps.segments import pruned_results

        keys = [t.key for t in self.result.trials]
        return lambda tasks: pruned_results(tasks, keys, make_pool(), slots, self.pruner, self.write_manifest)

    def write_manifest(self) -> None:
        if self.pruner is not None:
            self.manifest["pruning"] = self.pruner.to_dict()
        self.manifest.update(updated=_now(), counts=self.result.counts,
                             trials={t.key: t.to_dict() for t in self.result.trials})
        write_json(self.result.path / MANIFEST, self.manifest)

    def csv_text(self, cfg: Config) -> str | None:
        if cfg.data.dataset != "csv":
            return None
        from mlrun.data.user_csv import read_text

        if cfg.data.path not in self.csv:
            self.csv[cfg.data.path] = read_text(cfg.data.path)
        return self.csv[cfg.data.path]

    def record(self, res: WorkerResult) -> TrialRecord:
        trial = self.result.trials[res.index]
        cfg = self.plan.configs[res.index]
        if res.outcome is not None and res.outcome.status == "interrupted":
            trial.status = "interrupted"
            return trial
        if res.versions and tuple(res.versions) != versions():
            error = (f"worker {res.host} runs mlrun/numpy {'/'.join(res.versions)}; "
                     f"the driver {'/'.join(versions())}")
            res = WorkerResult(res.index, None, error, None, res.seconds, res.host)
        width = len(str(len(self.result.trials) - 1))
        run_dir = runs.RunDir.create(self.result.path, f"{cfg.name}-{res.index:0{width}d}", kind="train")
        trial.run, trial.seconds = run_dir.name, round(res.seconds, 3)
        trial.pruning = getattr(res, "pruning", None)
        try:
            self._write_run(run_dir, trial, cfg, res)
        except Exception as exc:  # noqa: BLE001 - a result we cannot record fails its trial, not the sweep
            trial.status, trial.error = "failed", f"recording the result: {type(exc).__name__}: {exc}"
            run_dir.finish("failed", None, 0, error=trial.error)
        return trial

    def _write_run(self, run_dir: runs.RunDir, trial: TrialRecord, cfg: Config, res: WorkerResult) -> None:
        from mlrun.experiment.record import record_outcome

        spec = cfg.to_dict()
        run_dir.write_yaml("config.yaml", spec)
        run_dir.start(kind="train", params=flatten(spec), resolved={}, seed=cfg.seed, smoke=False,
                      command=self.manifest.get("command"),
                      extra={"name": cfg.name, "sweep": {"dir": self.result.path.name, "trial": trial.key},
                             "worker": res.host})
        if res.outcome is None:
            run_dir.finish("failed", None, 0, error=res.error, traceback=res.traceback,
                           timings={"train_seconds": None, "total_seconds": res.seconds})
            trial.status, trial.error = "failed", res.error
            return
        # plots are off by default: drawing them (seconds per run) in the one driver would serialise a sweep
        plots = bool(self.manifest.get("plots"))
        run = record_outcome(run_dir, res.outcome, res.seconds, plots=plots)
        if trial.pruning:
            run_dir.update(pruning=trial.pruning)
        trial.status, trial.metrics = run.status, _main_metrics(run.metrics)

    def run(self, todo: list[int], results: Callable[[list], Iterator[WorkerResult]],
            fail_fast: bool) -> SweepResult:
        """Send the trials ``todo``, record results as they arrive; Ctrl-C or --fail-fast stop cleanly."""
        result = self.result
        result.to_run = list(todo)
        tasks = [(i, self.plan.configs[i], self.csv_text(self.plan.configs[i])) for i in todo]
        self.write_manifest()
        self.on_event("start", result)
        stream = results(tasks) if tasks else iter(())
        try:
            for res in stream:
                with _deferred_sigint():
                    trial = self.record(res)
                    self.write_manifest()
                if trial.status == "interrupted":
                    raise KeyboardInterrupt
                self.on_event("trial", result, trial)
                if trial.status == "failed" and fail_fast:
                    result.stopped = True
                    break
        except KeyboardInterrupt:
            result.interrupted = True
        finally:
            _close(stream)
            self._stop_unfinished()
        self.on_event("end", result)
        return result

    def _stop_unfinished(self) -> None:
        """Trials (probably) running when the sweep stopped become ``interrupted``; the rest stay pending."""
        result = self.result
        left = [i for i in result.to_run if result.trials[i].status == "pending"]
        if result.interrupted or result.stopped:
            for i in left[: max(1, result.workers)]:
                result.trials[i].status = "interrupted"
        self.write_manifest()


def _close(stream) -> None:
    close = getattr(stream, "close", None)
    if close is None:
        return
    try:
        close()  # joblib aborts its workers, Dask cancels the futures
    except KeyboardInterrupt:
        pass


class _deferred_sigint:
    """Hold a Ctrl-C until a run directory and sweep.json are fully written (then raise it)."""

    def __enter__(self):
        import signal
        import threading

        self.hit, self.previous = [], None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, lambda *_: self.hit.append(True))
        return self

    def __exit__(self, *exc) -> None:
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        if self.hit and exc[0] is None:
            raise KeyboardInterrupt


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -- the public API -----------------------------------------------------------------------------------
def _records(plan: Plan) -> list[TrialRecord]:
    return [TrialRecord(i, t.key, list(t.overrides), t.seed) for i, t in enumerate(plan.trials)]


def _execute(plan: Plan, result: SweepResult, manifest: dict, todo: list[int], jobs, dask, fail_fast,
             on_event, pruner: Pruner | None = None) -> SweepResult:
    """Run ``todo`` with joblib (``jobs`` processes) or on Dask, through the one driver."""
    driver = _Driver(plan, result, manifest, on_event, pruner)
    if pruner is not None:
        todo = submission_order(todo, len(plan.trials), plan.seed)
    if dask:
        executor = DaskExecutor(dask, jobs)
        result.workers, result.executor = executor.workers, f"dask {dask}"
        manifest["executor"] = {"kind": "dask", "address": dask, "workers": executor.workers}
        results = executor.results
        if pruner is not None:
            from mlrun.sweeps.segments import DaskPool

            results = driver.pruned(lambda: DaskPool(executor.client), executor.workers)
        try:
            return driver.run(todo, results, fail_fast)
        finally:
            executor.close()
    n = min(int(jobs or default_jobs()), max(1, len(todo)))
    result.workers, result.executor = n, f"joblib {n} process{'es' if n > 1 else ''}"
    manifest["executor"] = {"kind": "joblib", "jobs": n}
    if pruner is None:
        return driver.run(todo, lambda tasks: joblib_results(tasks, n), fail_fast)
    from mlrun.sweeps.segments import InlinePool, LokyPool

    return driver.run(todo, driver.pruned(lambda: InlinePool() if n == 1 else LokyPool(n), n), fail_fast)


def sweep(cfg, grid=None, seeds: int | None = None, jobs: int | None = None, dask: str | None = None,
          runs_dir="runs",
          *, random: int | None = None, fail_fast: bool = False, dry_run: bool = False, plots: bool = False,
          on_event: Callable | None = None, command: list[str] | None = None,
          prune: str | dict | None = None) -> SweepResult:
    """Run the spec ``cfg`` over ``grid`` ({key: [values]}, plus the spec's ``sweep:`` section) x ``seeds``.

    Each trial becomes a run directory under ``runs_dir/<name>-<timestamp>/``, next to sweep.json.
    ``jobs`` local processes (default: the number of cores), or ``dask`` = a scheduler address or
    "local". ``random=N`` draws N points instead of the grid; ``plots`` draws each run's figures.
    ``on_event(event, result, trial=None)`` is called with "start", "trial" (one finished) and "end".
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
        "format": 1, "name": plan.name, "created": _now(), "updated": None, "fingerprint": plan.fingerprint,
        "method": plan.method, "n_trials": plan.n_trials, "seeds": plan.seeds, "spec": plan.spec,
        "axes": [a.to_dict() for a in plan.axes], "command": command or sys.argv, "versions": runs.versions(),
        "plots": bool(plots),
    }
    try:
        everything = list(range(len(plan.trials)))
        return _execute(plan, result, manifest, everything, jobs, dask, fail_fast, on_event, pruner)
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


def resume_sweep(path, jobs: int | None = None, dask: str | None = None, *, fail_fast: bool = False,
                 on_event: Callable | None = None, command: list[str] | None = None) -> SweepResult:
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
    # "command" and "executor" describe the latest invocation; the earlier ones are kept in order
    manifest.setdefault("history", []).append(
        {"command": manifest.get("command"), "executor": manifest.get("executor"), "until": _now()})
    manifest["command"] = command or sys.argv
    manifest.setdefault("resumed", []).append(_now())
    pruner = Pruner.from_dict(manifest["pruning"]) if manifest.get("pruning") else None
    return _execute(plan, result, manifest, todo, jobs, dask, fail_fast, on_event, pruner)

