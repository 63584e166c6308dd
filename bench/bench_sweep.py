"""Sweep speed-up: 8 trials of a few seconds each, ``--jobs 2`` against ``--jobs 1`` (target >= 1.8x).

    python bench/bench_sweep.py [--trials 8] [--epochs 100] [--jobs 2]
    python bench/bench_sweep.py --scale 100,1000 [--dask]   # the driver's cost per trial, tiny trials
    python bench/bench_sweep.py --peer 200 [--repeat 3]     # that cost now against the path as before

Both runs go through the same path as ``mlrun sweep`` (the driver writes every run directory). Each
worker is held to one BLAS thread, so the ratio measures process parallelism, not BLAS threading.
The two arms alternate ``--repeat`` times and the median ratio is reported, with how much longer a
trial took in a parallel worker than alone: on a shared machine that factor is the other processes'.
A tiny warm-up sweep first starts the loky workers and imports (loky keeps its workers between
sweeps of one process); its time is printed too: it is what a one-off ``mlrun sweep`` pays once.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time

from mlrun.sweeps.driver import sweep

SPEC = {
    "name": "bench-sweep",
    "data": {"dataset": "digits"},
    "model": {"hidden_layers": 3, "neurons": 128},
    "optimizer": {"name": "nadam", "learning_rate": 0.001},
    "training": {"epochs": 12, "batch_size": 32},
}


def warm_up(jobs: int, runs_dir: str) -> None:
    spec = {**SPEC, "training": {**SPEC["training"], "epochs": 1}}
    started = time.perf_counter()
    sweep(spec, seeds=jobs, jobs=jobs, runs_dir=runs_dir, command=["bench_sweep"])
    print(f"warm-up --jobs {jobs}: {time.perf_counter() - started:5.2f} s (process start, imports)")


def timed(jobs: int, trials: int, epochs: int, runs_dir: str) -> tuple[float, float]:
    """(wall seconds, mean seconds a trial took in its worker) of one sweep."""
    spec = {**SPEC, "training": {**SPEC["training"], "epochs": epochs}}
    load = os.getloadavg()[0]
    started = time.perf_counter()
    result = sweep(spec, seeds=trials, jobs=jobs, runs_dir=runs_dir, command=["bench_sweep"])
    seconds = time.perf_counter() - started
    if result.counts.get("completed") != trials:
        sys.exit(f"bench: expected {trials} completed trials, got {result.counts}")
    per_trial = sum(t.seconds for t in result.trials) / trials
    # the share of the wall the workers spent in trials: what the sweep itself loses to start-up,
    # dispatch and recording, whatever CPU the machine gives it
    busy = per_trial * trials / (min(jobs, trials) * seconds)
    print(f"--jobs {jobs}: {seconds:6.2f} s wall for {trials} trials ({per_trial:.2f} s each in its worker, "
          f"workers busy {busy:.1%} of the wall; load average {load:.1f} before)")
    return seconds, per_trial


TINY = {"name": "bench-tiny", "model": {"hidden_layers": 1, "neurons": 3}, "training": {"epochs": 1},
        "data": {"dataset": "make_regression", "params": {"n_samples": 60, "n_features": 3}}}


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def scale(sizes: list[int], jobs: int, dask: bool, runs_dir: str) -> None:
    """The driver's own CPU seconds per trial (recording, sweep.json, bookkeeping: the workers train) at
    each size; flat per-trial figures mean nothing grows with the number of trials done."""
    from mlrun.sweeps import journal, writer

    spent = {"record": 0.0, "journal": 0.0}

    def timed_call(name, fn):
        def wrapper(*args, **kwargs):
            started = time.thread_time()  # this thread's: an in-process Dask scheduler runs in others
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.thread_time() - started
        return wrapper

    writer.SweepWriter.record = timed_call("record", writer.SweepWriter.record)
    journal.Journal.write = timed_call("journal", journal.Journal.write)
    executor, cluster = {"jobs": jobs}, None
    if dask:  # one cluster for every size (``--dask local`` would start and import new workers per sweep);
        from distributed import LocalCluster  # its scheduler runs in this process: in the driver's CPU

        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, dashboard_address=None)
        executor = {"dask": cluster.scheduler_address}
    sweep(TINY, seeds=jobs, runs_dir=runs_dir, command=["bench_sweep"], **executor)  # start and import
    for n in sizes:
        spent.update(record=0.0, journal=0.0)
        before, cpu, wall, mine = rss_mb(), time.process_time(), time.perf_counter(), time.thread_time()
        result = sweep(TINY, seeds=n, runs_dir=runs_dir, command=["bench_sweep"], **executor)
        cpu, wall, mine = time.process_time() - cpu, time.perf_counter() - wall, time.thread_time() - mine
        if result.counts.get("completed") != n:
            sys.exit(f"bench: expected {n} completed trials, got {result.counts}")
        print(f"{n:5d} trials on {result.executor}: {wall:6.1f} s wall, driver CPU {1000 * cpu / n:5.2f} ms/trial "
              f"(run directories {1000 * spent['record'] / n:5.2f}, sweep.json log {1000 * spent['journal'] / n:5.3f}, "
              f"the rest of the driver's thread {1000 * (mine - spent['record'] - spent['journal']) / n:5.2f}, "
              f"other threads {1000 * (cpu - mine) / n:5.2f}); "
              f"driver RSS {before:.0f} -> {rss_mb():.0f} MB; "
              f"sweep.json {os.path.getsize(result.path / 'sweep.json') / 1e3:.0f} kB")
    if cluster is not None:
        cluster.close()


class as_before:
    """The recording path as it was before the per-trial fixes (the same-run peer of ``--peer``): PyYAML's
    pure-Python emitter, package metadata and threadpoolctl's library scan on every run, run.json
    written when the trial's directory is started and again when it is finished."""

    def __enter__(self):
        import yaml
        from threadpoolctl import ThreadpoolController

        from mlrun.runs import directory, files

        self.saved = files._DUMPER, directory.versions, directory._controller, directory.RunDir.start
        start = directory.RunDir.start

        def uncached_versions():
            directory._versions.cache_clear()
            return dict(directory._versions())

        files._DUMPER, directory.versions = yaml.SafeDumper, uncached_versions
        directory._controller = lambda n_modules: ThreadpoolController()
        directory.RunDir.start = lambda self, *args, write=True, **kw: start(self, *args, write=True, **kw)
        return self

    def __exit__(self, *exc):
        from mlrun.runs import directory, files

        files._DUMPER, directory.versions, directory._controller, directory.RunDir.start = self.saved


def peer(n: int, jobs: int, repeat: int, runs_dir: str) -> None:
    """Driver CPU per trial now against ``as_before``, alternating in one process (a same-run ratio: the
    machine's load changes CPU seconds per instruction, so absolute figures vary by 2x on a shared box)."""
    sweep(TINY, seeds=jobs, jobs=jobs, runs_dir=runs_dir, command=["bench_sweep"])  # start and import
    figures = {"now": [], "before": []}
    for _ in range(repeat):
        for arm in ("before", "now"):
            with as_before() if arm == "before" else contextlib.nullcontext():
                cpu = time.process_time()
                sweep(TINY, seeds=n, jobs=jobs, runs_dir=runs_dir, command=["bench_sweep"])
                figures[arm].append(1000 * (time.process_time() - cpu) / n)
    now, before = statistics.median(figures["now"]), statistics.median(figures["before"])
    print(f"{n} trials x {repeat}, driver CPU ms/trial: before {' '.join(f'{x:.2f}' for x in figures['before'])}"
          f", now {' '.join(f'{x:.2f}' for x in figures['now'])}; medians {before:.2f} -> {now:.2f} "
          f"(ratio {now / before:.2f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="pairs of runs, --jobs 1 then --jobs N")
    parser.add_argument("--scale", metavar="N,N", help="tiny-trial sweeps of these sizes: the driver's cost per trial")
    parser.add_argument("--dask", action="store_true", help="--scale on a local Dask cluster of --jobs processes")
    parser.add_argument("--peer", type=int, metavar="N", help="N tiny trials: driver CPU now against as before")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} (other work skews the ratio)")
    if args.peer:
        with tempfile.TemporaryDirectory() as tmp:
            peer(args.peer, args.jobs, args.repeat, tmp)
        return 0
    if args.scale:
        with tempfile.TemporaryDirectory() as tmp:
            scale([int(n) for n in args.scale.split(",")], args.jobs, args.dask, tmp)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        warm_up(1, tmp)
        warm_up(args.jobs, tmp)
        ratios, contention = [], []
        for _ in range(args.repeat):  # the arms alternate, so a change in the machine's load hits both
            serial, serial_trial = timed(1, args.trials, args.epochs, tmp)
            parallel, parallel_trial = timed(args.jobs, args.trials, args.epochs, tmp)
            ratios.append(serial / parallel)
            contention.append(parallel_trial / serial_trial)
    print(f"speed-up --jobs {args.jobs} vs --jobs 1: {' '.join(f'{r:.2f}x' for r in ratios)}; median "
          f"{statistics.median(ratios):.2f}x (target >= 1.8x on 2 cores)")
    print(f"a trial took {statistics.median(contention):.2f}x as long in a worker of --jobs {args.jobs} as in "
          f"--jobs 1 (median; 1.00 on an idle machine: more is other processes' CPU; with the kernel's "
          f"autogroup scheduling a busy machine gives a session the same share however many processes it runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
