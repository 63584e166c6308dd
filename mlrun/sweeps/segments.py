"""Pruned sweeps: trials train rung by rung, and the driver decides at each rung.

Why this design (and not a shared rung table): a worker trains a trial to its next rung and returns
the trial's whole state (the checkpoint ``Trainer.state()``: weights, optimizer slots, RNG states,
history), the driver asks its ``Pruner`` and, for a survivor, submits the continuation from that
state. The rung table then lives in one process, so the decisions need no Manager, Dask Variable or
lock, work the same on loky, Dask and in-process, survive a lost worker (the state is at the driver)
and are written to sweep.json by the only writer. Resuming from ``Trainer.state()`` is bit-identical,
so a survivor ends exactly where an unpruned trial of the same length ends (tests/test_pruning.py).

Continuations go to the front of the queue (ASHA: "promote whenever possible, else start a new
trial"), and at most ``slots`` tasks are in flight, so with one slot the order of decisions is the
same whatever runs the trials.
"""

from __future__ import annotations

import socket
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mlrun.spec.loading import Config
from mlrun.sweeps.executors import WorkerResult, versions, worker_info
from mlrun.sweeps.pruning import Pruner


# -- the worker (top level: pickled by reference) -------------------------------------------------------
@dataclass
class SegmentResult(WorkerResult):
    """A WorkerResult that stopped at a rung carries ``state`` = (meta, arrays, resolved) to continue
    from; a pruned trial's final result carries the ``pruning`` decision."""

    state: tuple | None = None
    pruning: dict | None = None


class RungStop:
    """Trainer callback: stop once ``epoch`` epochs are done (unless it is the last one) and keep the
    state of that moment, before ``restore_best`` swaps the best weights in."""

    def __init__(self, epoch: int) -> None:
        self.epoch, self.state = int(epoch), None

    def on_epoch_end(self, trainer, logs: dict) -> None:
        if self.epoch <= trainer.epoch < trainer.epochs:
            self.state = trainer.state()
            trainer.request_stop("rung")


def run_segment(index: int, cfg: Config, csv_text: str | None, stop_at: int,
                resume: tuple | None = None) -> SegmentResult:
    """Train trial ``index`` from ``resume`` (None: from scratch) to epoch ``stop_at``; never raises."""
    from threadpoolctl import threadpool_limits

    from mlrun.experiment.outcome import run_training
    from mlrun.training.setup import load_data

    started, host = time.time(), socket.gethostname()
    stop = RungStop(stop_at)
    checkpoint, resolved = (None, None) if resume is None else ((resume[0], resume[1]), resume[2])
    try:
        with threadpool_limits(limits=cfg.training.threads or 1):
            dataset = load_data(cfg, csv_text=csv_text)
            outcome = run_training(cfg, dataset, [stop], resolved=resolved, checkpoint=checkpoint,
                                   evaluate_when=lambda trainer: trainer.stop_reason != "rung")
    except Exception as exc:  # noqa: BLE001 - any error is this trial's result
        return SegmentResult(index, None, f"{type(exc).__name__}: {exc}", traceback.format_exc(),
                             time.time() - started, host, versions(), worker_info())
    state = (*stop.state, outcome.resolved) if outcome.stop_reason == "rung" else None
    return SegmentResult(index, outcome, None, None, time.time() - started, host, versions(), worker_info(),
                         state=state)


# -- pools: submit a call, get the next finished result ------------------------------------------------
class InlinePool:
    """jobs = 1: each call runs in this process when its result is asked for (so Ctrl-C reaches it)."""

    def __init__(self) -> None:
        self.calls: deque = deque()

    def submit(self, fn, *args) -> None:
        self.calls.append((fn, args))

    @staticmethod
    def share(text):
        return text

    def next_done(self) -> WorkerResult:
        fn, args = self.calls.popleft()
        return fn(*args)

    def close(self) -> None:
        self.calls.clear()


class LokyPool:
    """loky worker processes (joblib's), this sweep's own (joblib's reusable one is joblib's to manage);
    results in completion order."""

    def __init__(self, jobs: int) -> None:
        from joblib.externals.loky import ProcessPoolExecutor

        self.executor = ProcessPoolExecutor(max_workers=jobs)
        self.futures: dict = {}

    share = staticmethod(InlinePool.share)

    def submit(self, fn, *args) -> None:
        self.futures[self.executor.submit(fn, *args)] = args[0]

    def next_done(self) -> WorkerResult:
        from concurrent.futures import FIRST_COMPLETED, wait

        done, _ = wait(list(self.futures), return_when=FIRST_COMPLETED)
        future = next(iter(done))
        return _result(future, self.futures.pop(future))

    def close(self) -> None:
        for future in self.futures:
            future.cancel()
        self.futures.clear()
        self.executor.shutdown(wait=False, kill_workers=True)


def _result(future, index: int) -> WorkerResult:
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - a lost worker fails its trial, not the sweep
        return WorkerResult(index, None, f"{type(exc).__name__}: {exc}")


# -- the driver side --------------------------------------------------------------------------------
@dataclass
class _Pending:
    index: int
    cfg: Config
    csv_text: str | None
    resume: tuple | None = None
    seconds: float = 0.0


def pruned_results(tasks: list[tuple], keys: list[str], pool, slots: int, pruner: Pruner,
                   on_decision: Callable[[], None] | None = None,
                   groups: list[str] | None = None) -> Iterator[WorkerResult]:
    """Run ``tasks`` (index, Config, csv_text) rung by rung on ``pool``; yield each trial's final result
    (completed, diverged, failed, interrupted or pruned). ``on_decision`` runs after every rung.
    ``groups`` (each trial's configuration, with several seeds): judge configurations (``seeded``)."""
    from mlrun.sweeps.seeded import SeedGroups

    queue = deque(_Pending(i, cfg, text) for i, cfg, text in tasks)
    running: dict[int, _Pending] = {}
    seeded = None if groups is None else SeedGroups(groups, [t[0] for t in tasks], pruner)
    try:
        while queue or running:
            while queue and len(running) < max(1, slots):
                job = queue.popleft()
                running[job.index] = job
                stop_at = pruner.next_stop(job.resume[0]["epoch"] if job.resume else 0, job.cfg.training.epochs)
                pool.submit(run_segment, job.index, job.cfg, pool.share(job.csv_text), stop_at, job.resume)
            res = pool.next_done()
            job = running.pop(res.index)
            job.seconds += res.seconds
            res.seconds = job.seconds
            finals = (seeded.arrive(res, job, queue, _pruned) if seeded is not None
                      else [f for f in [_judge(res, job, keys[job.index], pruner, queue)] if f is not None])
            if on_decision is not None:
                on_decision()
            yield from finals
    finally:
        pool.close()


def _judge(res: WorkerResult, job: _Pending, key: str, pruner: Pruner, queue: deque) -> WorkerResult | None:
    """A rung arrival: prune it (its final result) or queue its continuation first (None)."""
    outcome, state = res.outcome, getattr(res, "state", None)
    if outcome is None or outcome.stop_reason != "rung" or state is None:
        if outcome is not None and outcome.status == "completed":
            pruner.finished(key, outcome.history)
        return res
    decision = pruner.decide(key, outcome.history, outcome.epochs)
    if not decision.stop:
        job.resume = state
        queue.appendleft(job)
        return None
    return _pruned(res, decision)


def _pruned(res: WorkerResult, decision) -> SegmentResult:
    """The final result of a trial stopped by ``decision`` at its rung."""
    outcome = res.outcome
    outcome.status, outcome.stop_reason = "pruned", "pruned"
    over = "" if decision.seeds is None else f" (mean of {decision.seeds} seeds)"
    outcome.advice.insert(0, f"pruned at epoch {decision.rung} by {decision.rule}: {decision.metric} "
                             f"{_number(decision.value)}{over} is behind the cutoff {_number(decision.cutoff)}")
    return SegmentResult(res.index, outcome, None, None, res.seconds, res.host, res.versions, res.worker,
                         pruning=decision.to_dict())


def _number(value) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def pool_results(tasks: list[tuple], pool) -> Iterator[WorkerResult]:
    """Unpruned: every task submitted at once (the pool queues them), results as they finish."""
    from mlrun.sweeps.executors import run_trial

    try:
        for index, cfg, text in tasks:
            pool.submit(run_trial, index, cfg, pool.share(text))
        for _ in tasks:
            yield pool.next_done()
    finally:
        pool.close()
