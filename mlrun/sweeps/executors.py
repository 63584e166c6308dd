"""The worker side: a trial trains in a worker (a loky process or a Dask worker) and comes back in memory.

Tasks are ``(index, Config, csv_text)``; results are ``WorkerResult``s, yielded as they finish.
Workers import ``run_trial`` and ``versions`` by this module's path, so both stay at top level here.
The Dask client, its pool and the watch on the cluster are in ``cluster``.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from mlrun.spec.loading import Config


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
    worker: dict | None = None  # who ran it: host and pid, and a Dask worker's address and name


def worker_info() -> dict:
    """The process running a trial: host, pid and, on a Dask worker, its address and name."""
    info = {"host": socket.gethostname(), "pid": os.getpid()}
    if "distributed" in sys.modules:  # never imported for it: a loky worker has no Dask to ask
        try:
            worker = sys.modules["distributed"].get_worker()
            info.update(address=worker.address, name=str(worker.name))
        except (AttributeError, ValueError):  # not inside a Dask worker
            pass
    return info


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
                            time.time() - started, host, versions(), worker_info())
    return WorkerResult(index, outcome, None, None, time.time() - started, host, versions(), worker_info())


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


# -- local executors: (index, Config, csv_text) tasks in, WorkerResults out as they finish ---------------
def default_jobs() -> int:
    from joblib import cpu_count

    return max(1, cpu_count())


def joblib_results(tasks: list[tuple], jobs: int) -> Iterator[WorkerResult]:
    """loky worker processes (``jobs`` = 1 runs in this process); results in completion order."""
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")
    return parallel(delayed(run_trial)(*task) for task in tasks)
