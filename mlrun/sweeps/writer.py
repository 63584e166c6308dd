"""The sweep's only writer: each WorkerResult becomes a run directory, each change a line of sweep.json's log.

A session (one ``sweep`` or ``--resume``) starts with a snapshot of sweep.json holding every trial,
the rung table and a new entry in ``sessions`` (command, executor, workers, start); then each
recorded trial, rung decision and cluster event is appended to the log (``journal``); the session
ends with a snapshot that closes its entry (end, what stopped it, lost workers, reruns).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from mlrun.runs import directory as runs
from mlrun.spec.loading import Config, flatten
from mlrun.sweeps.cluster import ClusterLost
from mlrun.sweeps.executors import WorkerResult, versions
from mlrun.sweeps.journal import Journal
from mlrun.sweeps.plan import Plan
from mlrun.sweeps.pruning import Pruner
from mlrun.sweeps.records import SweepResult, TrialRecord, _main_metrics


def now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class SweepWriter:
    """Turns each WorkerResult into a run directory and keeps sweep.json (snapshot + log) current."""

    def __init__(self, plan: Plan, result: SweepResult, manifest: dict, on_event: Callable | None,
                 pruner: Pruner | None = None) -> None:
        self.plan, self.result, self.manifest, self.pruner = plan, result, manifest, pruner
        self.on_event = on_event or (lambda event, result, trial=None: None)
        self.csv: dict[str, str] = {}
        self.journal = Journal(result.path, manifest)
        self.session = {"command": manifest.get("command"), "executor": manifest.get("executor"),
                        "workers": result.workers, "start": now(), "end": None}
        self.watch = None  # a Dask sweep's ClusterWatch, whose findings go into the session

    # -- sweep.json -----------------------------------------------------------------------------------
    def open_session(self) -> None:
        self.manifest["trials"] = {t.key: t.to_dict() for t in self.result.trials}
        if self.pruner is not None:
            self.manifest["pruning"] = self.pruner.to_dict()
            self.pruner.changes.clear()
        self.manifest.setdefault("sessions", []).append(self.session)
        self.journal.snapshot(updated=now(), counts=self.result.counts)

    def close_session(self) -> None:
        result = self.result
        stopped = ("interrupted" if result.interrupted else "fail-fast" if result.stopped
                   else result.lost if result.lost else None)
        self.session.update(end=now(), stopped=stopped, **(self.watch.to_dict() if self.watch else {}))
        self.journal.close(updated=now(), counts=result.counts)

    def log_trial(self, trial: TrialRecord) -> None:
        self.journal.write({"trial": trial.key, "record": trial.to_dict()})

    def log_pruning(self) -> None:
        changes = list(self.pruner.changes)
        self.pruner.changes.clear()
        if changes:
            self.journal.write(*changes)

    def note(self, message: str) -> None:
        """What the cluster did (a lost worker, an empty cluster): shown at once, kept in the session."""
        self.result.notes.append(message)
        if self.watch is not None:
            self.result.cluster = self.watch.to_dict()
            self.session.update(self.result.cluster)
            self.journal.write({"session": self.session})
        self.on_event("note", self.result, message)

    def pruned(self, make_pool: Callable, slots: int) -> Callable[[list], Iterator[WorkerResult]]:
        """The executor's results with pruning: trials go rung by rung and the log keeps each decision."""
        from mlrun.sweeps.seeded import group_keys
        from mlrun.sweeps.segments import pruned_results

        keys = [t.key for t in self.result.trials]
        groups = group_keys(self.plan.trials) if self.plan.seeds > 1 else None
        return lambda tasks: pruned_results(tasks, keys, make_pool(), slots, self.pruner, self.log_pruning,
                                            groups)

    # -- run directories --------------------------------------------------------------------------------
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
            res = WorkerResult(res.index, None, error, None, res.seconds, res.host, worker=res.worker)
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
                             "worker": res.worker or ({"host": res.host} if res.host else None),
                             **({"pruning": trial.pruning} if trial.pruning else {})},
                      write=False)  # run.json is written once, complete, by finish
        if res.outcome is None:
            run_dir.finish("failed", None, 0, error=res.error, traceback=res.traceback,
                           timings={"train_seconds": None, "total_seconds": res.seconds})
            trial.status, trial.error = "failed", res.error
            return
        # plots are off by default: drawing them (seconds per run) in the one driver would serialise a sweep
        plots = bool(self.manifest.get("plots"))
        run = record_outcome(run_dir, res.outcome, res.seconds, plots=plots)
        trial.status, trial.metrics = run.status, _main_metrics(run.metrics)

    # -- the loop ---------------------------------------------------------------------------------------
    def run(self, todo: list[int], results: Callable[[list], Iterator[WorkerResult]],
            fail_fast: bool) -> SweepResult:
        """Send the trials ``todo``, record results as they arrive; Ctrl-C, --fail-fast or a lost cluster
        stop cleanly."""
        result = self.result
        result.to_run = list(todo)
        tasks = [(i, self.plan.configs[i], self.csv_text(self.plan.configs[i])) for i in todo]
        self.open_session()
        self.on_event("start", result)
        stream = results(tasks) if tasks else iter(())
        try:
            for res in stream:
                with _deferred_sigint():
                    trial = self.record(res)
                    self.log_trial(trial)
                if trial.status == "interrupted":
                    raise KeyboardInterrupt
                self.on_event("trial", result, trial)
                if trial.status == "failed" and fail_fast:
                    result.stopped = True
                    break
        except KeyboardInterrupt:
            result.interrupted = True
        except ClusterLost as exc:
            result.lost = str(exc)
            self.on_event("note", result, f"{exc}: stopping; the unfinished trials stay pending")
        finally:
            _close(stream)
            self._stop_unfinished()
        self.on_event("end", result)
        return result

    def _stop_unfinished(self) -> None:
        """Trials (probably) running when the sweep stopped become ``interrupted``; the rest stay pending
        (all of them when the cluster was lost: nothing of theirs reached the driver)."""
        result = self.result
        left = [i for i in result.to_run if result.trials[i].status == "pending"]
        if result.interrupted or result.stopped:
            for i in left[: max(1, result.workers)]:
                result.trials[i].status = "interrupted"
                self.log_trial(result.trials[i])
        if self.watch is not None:
            result.cluster = self.watch.to_dict()
        self.close_session()


def _close(stream) -> None:
    close = getattr(stream, "close", None)
    if close is None:
        return
    try:
        close()  # joblib aborts its workers, Dask cancels the futures
    except (KeyboardInterrupt, ClusterLost):
        pass


class _deferred_sigint:
    """Hold a Ctrl-C until a run directory and its line of the log are fully written (then raise it)."""

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
