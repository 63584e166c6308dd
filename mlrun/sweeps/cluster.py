"""Sweeps on a Dask cluster: the client, a pool of futures, and a watch on what the cluster does.

Dask reschedules a lost worker's tasks without a word and, once every worker or the scheduler is
gone, waits forever. So the pool checks the cluster about once a second while it waits: a lost
worker and the trials Dask reruns because of it are recorded (``ClusterWatch.lost``, ``reruns``),
an empty cluster is announced at once and given ``wait`` seconds for a worker to join, and a lost
scheduler (or that wait running out) raises ``ClusterLost``: the driver stops, and the unfinished
trials stay pending for ``--resume``. Each future is released as soon as its result is taken, so a
recorded result is never recomputed when the worker holding it dies.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from mlrun.sweeps.axes import SweepError
from mlrun.sweeps.executors import WorkerResult, default_jobs, versions

CHECK_SECONDS = 1.0  # how often the cluster is asked who is there while results are awaited
GATHER_SECONDS = 10.0  # a finished trial's result not gathered by then: its worker may have died holding it
DEFAULT_WAIT = 60.0  # --dask-wait: how long an empty cluster is given before the sweep stops


class ClusterLost(Exception):
    """The scheduler is gone, or no worker joined within the wait: the sweep stops, resumable."""


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

    def close(self) -> None:
        for thing in (getattr(self, "client", None), self.cluster):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # noqa: BLE001, S110 - closing is best effort
                    pass


def _suspicious(keys: list[str]):
    """On the scheduler: how often each task was on a worker that died (Dask's own rerun count)."""
    return lambda dask_scheduler: {k: dask_scheduler.tasks[k].suspicious for k in keys
                                   if k in dask_scheduler.tasks}


class ClusterWatch:
    """Who is on the cluster, checked at most every CHECK_SECONDS: lost workers, reruns, an empty cluster."""

    def __init__(self, client, wait: float = DEFAULT_WAIT, on_note: Callable[[str], None] | None = None) -> None:
        self.client, self.wait = client, float(wait)
        self.on_note = on_note or (lambda message: None)
        self.lost: list[dict] = []  # {"address", "name", "at", "trials": [trial indices Dask reruns]}
        self.reruns: dict[int, int] = {}  # trial index -> times Dask restarted it on another worker
        self.workers = self._workers()
        self.checked, self.empty_since = time.monotonic(), None

    def _workers(self) -> dict[str, str]:
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        return {address: str(w.get("name", address)) for address, w in info.items()}

    def check(self, in_flight: dict[str, int], force: bool = False) -> None:
        """``in_flight``: future key -> trial index. Raises ClusterLost when the sweep cannot go on."""
        if not force and time.monotonic() - self.checked < CHECK_SECONDS:
            return
        self.checked = time.monotonic()
        if self.client.status != "running":
            raise ClusterLost("lost the connection to the Dask scheduler")
        try:
            now = self._workers()
        except OSError as exc:  # distributed's CommClosedError is an OSError
            raise ClusterLost(f"lost the connection to the Dask scheduler ({type(exc).__name__})") from None
        gone = [a for a in self.workers if a not in now]
        if gone:
            self._record_lost(gone, in_flight)
        self.workers = now
        self._check_empty(bool(in_flight))

    def _record_lost(self, gone: list[str], in_flight: dict[str, int]) -> None:
        try:
            counts = self.client.run_on_scheduler(_suspicious(list(in_flight)))
        except Exception:  # noqa: BLE001 - the count is a report; the sweep goes on without it
            counts = {}
        rerun = []
        for key, n in counts.items():
            if n > self.reruns.get(in_flight[key], 0):
                rerun.append(in_flight[key])
                self.reruns[in_flight[key]] = n
        rerun.sort()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        for address in gone:
            self.lost.append({"address": address, "name": self.workers[address], "at": stamp,
                              "trials": rerun if address == gone[0] else []})
        names = ", ".join(self.workers[a] for a in gone)
        again = f"; Dask reruns {len(rerun)} trial{'s' if len(rerun) != 1 else ''} elsewhere" if rerun else ""
        self.on_note(f"lost Dask worker{'s' if len(gone) > 1 else ''} {names}{again}")

    def _check_empty(self, busy: bool) -> None:
        if self.workers or not busy:
            if self.empty_since is not None:
                self.on_note(f"{len(self.workers)} Dask worker{'s' if len(self.workers) != 1 else ''} back")
            self.empty_since = None
            return
        if self.empty_since is None:
            self.empty_since = time.monotonic()
            self.on_note(f"every Dask worker is gone: waiting up to {self.wait:g} s for one (--dask-wait)")
        elif time.monotonic() - self.empty_since >= self.wait:
            raise ClusterLost(f"no Dask worker for {self.wait:g} s")

    def to_dict(self) -> dict:
        return {"lost_workers": self.lost, "reruns": {str(i): n for i, n in sorted(self.reruns.items())}}


class DaskPool:
    """Calls on a Dask ``client``, watched by ``watch``; each future is released once its result is taken."""

    def __init__(self, client, watch: ClusterWatch) -> None:
        from distributed import as_completed

        self.client, self.watch, self.futures = client, watch, {}
        self.done = as_completed()
        self.shared: dict[str, object] = {}

    def share(self, text):
        """A CSV's text is sent to every worker once (scattered), not pickled with each trial."""
        if text is None:
            return None
        if text not in self.shared:
            self.shared[text] = self.client.scatter(text, broadcast=True, hash=False)
        return self.shared[text]

    def submit(self, fn, *args) -> None:
        future = self.client.submit(fn, *args, pure=False)
        self.futures[future.key] = args[0]
        self.done.add(future)

    def next_done(self) -> WorkerResult:
        while not self.done.has_ready():
            with self.done.thread_condition:  # as_completed's own wake-up, as its __next__ waits
                self.done.thread_condition.wait(timeout=CHECK_SECONDS)
            self.watch.check(self.futures)
        self.watch.check(self.futures)
        future = next(self.done)
        index = self.futures[future.key]
        try:
            return self._result(future)
        except ClusterLost:
            raise
        except Exception as exc:  # noqa: BLE001 - a trial Dask gave up on (KilledWorker) fails, not the sweep
            self.watch.check(self.futures, force=True)  # a lost scheduler cancels every future: not a failure
            return WorkerResult(index, None, f"{type(exc).__name__}: {exc}")
        finally:
            self.futures.pop(future.key, None)
            future.release()

    def _result(self, future):
        """The future's result, watching the cluster meanwhile: a worker that dies holding a finished
        result makes Dask run the trial again, and with no worker left ``result()`` would wait forever."""
        timeout = GATHER_SECONDS  # a result normally arrives at once: the watch is only for a stuck one
        while True:
            try:
                return future.result(timeout=timeout)
            except TimeoutError:
                self.watch.check(self.futures)
                timeout = CHECK_SECONDS

    def close(self) -> None:
        if not self.futures:  # every result taken: one more look, so a worker lost since the last check
            try:              # (trials shorter than CHECK_SECONDS finish in between) is still recorded
                self.watch.check({}, force=True)
            except ClusterLost:
                pass
        if self.done.futures:
            try:
                self.client.cancel(list(self.done.futures))
            except Exception:  # noqa: BLE001, S110 - the scheduler may be gone already
                pass
        self.futures.clear()
