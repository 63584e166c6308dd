"""The executors: a trial trains in a worker (a loky process or a Dask worker) and comes back in memory.

Tasks are ``(index, Config, csv_text)``; results are ``WorkerResult``s, yielded as they finish.
Workers import ``run_trial`` and ``versions`` by this module's path, so both stay at top level here.
"""

from __future__ import annotations

import logging
import secrets
import socket
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from mlrun.spec.loading import Config
from mlrun.sweeps.axes import SweepError


# -- the worker (top level: it is pickled by reference to loky and Dask workers) ---------------------
@dataclass
class WorkerResult:
    """What a worker sends back: the in-memory Outcome, or the error of a trial that raised."""

    index: int
    outcome: object | None
    error: str | None = None
    traceback: str | None = None
    seconds: float = 0.0
    host: str = ""
    versions: tuple = ()


def versions() -> tuple[str, str]:
    """(mlrun, numpy) versions: a cluster must match the driver's."""
    from mlrun import __version__

    return __version__, np.__version__


def run_trial(index: int, cfg: Config, csv_text: str | None = None) -> WorkerResult:
    """Train one trial in memory under a BLAS thread limit (training.threads, default 1); never raises
    for a failing trial (its error comes back instead), so one bad trial cannot stop the sweep."""
    from threadpoolctl import threadpool_limits

    from mlrun.experiment.outcome import run_training
    from mlrun.training.setup import load_data

    _ignore_ctrl_c_in_a_worker()
    started = time.time()
    host = socket.gethostname()
    try:
        with threadpool_limits(limits=cfg.training.threads or 1):
            dataset = load_data(cfg, csv_text=csv_text)
            outcome = run_training(cfg, dataset)
    except Exception as exc:  # noqa: BLE001 - any error is this trial's result
        return WorkerResult(index, None, f"{type(exc).__name__}: {exc}", traceback.format_exc(),
                            time.time() - started, host, versions())
    return WorkerResult(index, outcome, None, None, time.time() - started, host, versions())


def _ignore_ctrl_c_in_a_worker() -> None:
    """Ctrl-C reaches every process of the terminal's group: a worker process ignores it from its first
    trial on (no traceback of its own, busy or idle) and the driver, which received it too, records what
    finished and stops the workers. (A worker still starting up, importing joblib, is not ours yet.)"""
    import multiprocessing
    import signal
    import threading

    worker = multiprocessing.current_process().name != "MainProcess"
    if worker and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


# -- executors: (index, Config, csv_text) tasks in, WorkerResults out as they finish ---------------------
def default_jobs() -> int:
    from joblib import cpu_count

    return max(1, cpu_count())


def joblib_results(tasks: list[tuple], jobs: int) -> Iterator[WorkerResult]:
    """loky worker processes (``jobs`` = 1 runs in this process); results in completion order."""
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")
    return parallel(delayed(run_trial)(*task) for task in tasks)


def check_cluster(client) -> int:
    """Refuse a cluster whose mlrun or numpy differs from the driver's; returns the number of workers."""
    mine = versions()
    try:
        found = client.run(versions)
    except Exception as exc:  # noqa: BLE001 - an unpicklable/unimportable mlrun on the workers
        raise SweepError(f"the Dask workers cannot run mlrun ({type(exc).__name__}: {exc}); install "
                         f"mlrun=={mine[0]} and numpy=={mine[1]} on them") from None
    if not found:
        raise SweepError("the Dask cluster has no workers yet; start some (dask worker ADDRESS) and retry")
    for worker, theirs in sorted(found.items()):
        if tuple(theirs) != mine:
            raise SweepError(f"Dask worker {worker} has mlrun {theirs[0]} and numpy {theirs[1]}, the driver "
                             f"mlrun {mine[0]} and numpy {mine[1]}: install the same versions on the cluster")
    return len(found)


class DaskExecutor:
    """A Dask distributed client (``address``, or ``local`` for a LocalCluster of ``jobs`` processes)."""

    def __init__(self, address: str, jobs: int | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise SweepError("--dask needs the optional extra: pip install 'mlrun[dask]'") from None
        self.cluster = None
        try:
            if address == "local":
                self.cluster = LocalCluster(n_workers=jobs or default_jobs(), threads_per_worker=1,
                                            dashboard_address=None, silence_logs=logging.ERROR)
                self.client = Client(self.cluster)
            else:
                self.client = Client(address, timeout="20s")
        except OSError as exc:
            self.close()
            raise SweepError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        try:
            self.workers = check_cluster(self.client)
        except BaseException:
            self.close()
            raise

    def results(self, tasks: list[tuple]) -> Iterator[WorkerResult]:
        from distributed import as_completed

        token = secrets.token_hex(4)
        csv = {t[2] for t in tasks if t[2] is not None}
        shared = {text: self.client.scatter(text, broadcast=True) for text in csv}  # sent once per worker
        futures = {self.client.submit(run_trial, i, cfg, shared.get(text), key=f"mlrun-trial-{token}-{i}",
                                      pure=False): i for i, cfg, text in tasks}
        try:
            for future in as_completed(futures):
                try:
                    yield future.result()
                except Exception as exc:  # noqa: BLE001 - a lost worker fails its trial, not the sweep
                    yield WorkerResult(futures[future], None, f"{type(exc).__name__}: {exc}")
        finally:
            self.client.cancel(list(futures))

    def close(self) -> None:
        for thing in (getattr(self, "client", None), self.cluster):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # noqa: BLE001, S110 - closing is best effort
                    pass
