"""Sweeps on a real Dask cluster of separate processes (a scheduler and workers on 127.0.0.1, started
here and killed by pid): the worker recorded, a worker lost mid-trial, every worker lost, the
scheduler lost, resuming on a new cluster, and pruning decisions equal to the in-process ones."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest

from mlrun import sweep as sweep_api
from mlrun.runs.discovery import run_dir_paths
from mlrun.runs.files import read_json
from mlrun.sweeps.driver import resume_sweep

distributed = pytest.importorskip("distributed")

MOONS = {"name": "moons", "data": {"dataset": "make_moons", "params": {"n_samples": 160, "noise": 0.25}},
         "model": {"hidden_layers": 1, "neurons": 6}, "training": {"epochs": 9, "batch_size": 32},
         "optimizer": {"name": "sgd", "learning_rate": 0.1}}
REGRESSION = {"name": "reg",
              "data": {"dataset": "make_regression", "params": {"n_samples": 80, "n_features": 3}},
              "model": {"hidden_layers": 1, "neurons": 4}, "training": {"epochs": 1}}
# a few tenths of a second a trial: a kill right after a result lands in the next trial
SLOW = {"name": "slow", "data": {"dataset": "make_classification", "params": {"n_samples": 400}},
        "model": {"hidden_layers": 2, "neurons": 32}, "training": {"epochs": 20}}


class Cluster:
    """``dask scheduler`` and ``dask worker`` processes (no nanny: a killed worker stays dead).

    Worker processes import mlrun on their first trial (seconds on a loaded machine), so one cluster
    serves the module and ``ensure(n)`` adds or kills workers to leave ``n`` alive; the tests run in
    an order that reuses the survivors (each still works alone)."""

    def __init__(self, tmp_path) -> None:
        self.tmp, self.workers, self.started = tmp_path, [], 0
        file = tmp_path / "scheduler.json"
        self.scheduler = self._spawn("dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                     "--scheduler-file", str(file))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.address = json.loads(file.read_text())["address"]
                break
            except (OSError, ValueError, KeyError):
                time.sleep(0.05)

    def _spawn(self, tool: str, *args) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", f"distributed.cli.{tool}", *args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())

    @property
    def alive(self) -> list[subprocess.Popen]:
        return [w for w in self.workers if w.poll() is None]

    def ensure(self, n: int) -> Cluster:
        for extra in self.alive[n:]:
            self.kill(extra)
        for _ in range(n - len(self.alive)):
            self.workers.append(self._spawn("dask_worker", self.address, "--nthreads", "1", "--no-nanny",
                                            "--no-dashboard", "--name", f"w{self.started}"))
            self.started += 1
        with distributed.Client(self.address, timeout="30s") as client:
            client.wait_for_workers(n, timeout=60)
            # the imports of a first trial, on every worker at once (a lambda: pickled by value)
            client.run(lambda: [__import__(m) for m in ("mlrun.experiment.outcome", "mlrun.training.setup")])
        return self

    def kill(self, process: subprocess.Popen) -> None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()

    def close(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                self.kill(process)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    made = [Cluster(tmp_path_factory.mktemp("dask"))]

    def current() -> Cluster:
        if made[-1].scheduler.poll() is not None:  # a test killed the scheduler
            made.append(Cluster(tmp_path_factory.mktemp("dask")))
        return made[-1]

    yield current
    for c in made:
        c.close()


def statuses(result) -> list[str]:
    return [t.status for t in result.trials]


def worker_killer(dask, processes: dict, when):
    """(on_event, killed): on the first trial event for which ``when(result)`` holds, the worker that ran
    that trial is killed (SIGKILL) and (its name, its pid) recorded in ``killed``."""
    killed = []

    def on_event(event, result, trial=None):
        if event == "trial" and not killed and when(result):
            name = read_json(result.path / trial.run / "run.json")["worker"]["name"]
            killed.append((name, processes[name].pid))
            dask.kill(processes[name])

    return on_event, killed


@pytest.mark.timeout(180)
def test_a_killed_worker_is_reported_its_trials_rerun_once_and_each_run_names_its_worker(tmp_path, shared):
    dask = shared().ensure(2)
    processes = {f"w{dask.workers.index(w)}": w for w in dask.alive}
    # the worker of the first result dies in its next trial
    on_event, killed = worker_killer(dask, processes, lambda result: True)

    # trials of ~1.5 s: the dead worker's trial is still being rerun when the pool next asks the
    # scheduler who is there (CHECK_SECONDS), so the rerun is counted, not only the lost worker
    longer = {**SLOW, "training": {"epochs": 400}}
    res = sweep_api(longer, seeds=5, dask=dask.address, runs_dir=tmp_path / "runs", on_event=on_event)
    (dead, pid), = killed
    survivor = next(n for n in processes if n != dead)
    assert statuses(res) == ["completed"] * 5 and res.exit_code == 0
    assert len(run_dir_paths(res.path)) == 5  # a rerun trial has one directory, not two
    session = read_json(res.path / "sweep.json")["sessions"][-1]
    assert [w["name"] for w in session["lost_workers"]] == [dead]
    assert session["lost_workers"][0]["address"].startswith("tcp://127.0.0.1:")
    # the trial it was running and the one queued on it (Dask sends a worker ~1.1 tasks a thread)
    assert 1 <= len(session["reruns"]) <= 2 and set(session["reruns"].values()) == {1}
    assert any(f"lost Dask worker {dead}; Dask reruns" in n for n in res.notes)
    workers = {t.index: read_json(res.path / t.run / "run.json")["worker"] for t in res.trials}
    assert all(workers[int(i)]["name"] == survivor for i in session["reruns"])  # finished on the survivor
    assert {w["name"] for w in workers.values()} == {dead, survivor}
    assert all(w["address"].startswith("tcp://127.0.0.1:") and w["pid"] > 0 for w in workers.values())
    assert {w["pid"] for w in workers.values() if w["name"] == dead} == {pid}


@pytest.mark.timeout(180)
def test_a_worker_lost_after_the_last_result_is_still_recorded(tmp_path, shared):
    dask = shared().ensure(2)
    processes = {f"w{dask.workers.index(w)}": w for w in dask.alive}
    # every result is in: no periodic check comes after the kill
    on_event, killed = worker_killer(dask, processes,
                                     lambda result: sum(t.status == "completed" for t in result.trials) == 3)

    res = sweep_api(SLOW, seeds=3, dask=dask.address, runs_dir=tmp_path / "runs", on_event=on_event)
    session = read_json(res.path / "sweep.json")["sessions"][-1]
    assert statuses(res) == ["completed"] * 3 and res.exit_code == 0
    (dead, _), = killed
    assert [w["name"] for w in session["lost_workers"]] == [dead] and session["reruns"] == {}
    assert any(n == f"lost Dask worker {dead}" for n in res.notes)


@pytest.mark.timeout(180)
def test_a_failing_trial_on_the_cluster_is_recorded_and_the_others_complete(tmp_path, shared):
    dask = shared().ensure(1)
    res = sweep_api(REGRESSION, grid={"loss": ["mse", "cosine"]}, dask=dask.address, runs_dir=tmp_path)
    assert res.executor == f"dask {dask.address}" and res.workers == 1
    assert statuses(res) == ["completed", "failed"] and res.exit_code == 1
    assert "cosine loss needs two or more targets" in res.trials[1].error
    assert read_json(res.path / "sweep.json")["executor"] == {"kind": "dask", "address": dask.address, "workers": 1}
    assert math.isfinite(res.trials[0].metrics["test.rmse"])


@pytest.mark.timeout(180)
def test_pruned_on_worker_processes_the_decisions_are_the_in_process_ones(tmp_path, shared):
    grid = {"optimizer.learning_rate": [0.001, 0.01, 0.1, 0.3, 1.0, 3.0]}
    dask = shared().ensure(1)  # one worker: one trial in flight, as in process
    remote = sweep_api(MOONS, grid=grid, seeds=2, dask=dask.address, runs_dir=tmp_path / "dask", prune="asha")
    local = sweep_api(MOONS, grid=grid, seeds=2, jobs=1, runs_dir=tmp_path / "local", prune="asha")
    assert remote.executor.startswith("dask") and local.counts == remote.counts and local.counts["pruned"] >= 3
    mine, theirs = (read_json(r.path / "sweep.json") for r in (local, remote))
    assert mine["pruning"]["rungs"] == theirs["pruning"]["rungs"]
    assert list(mine["pruning"]["rungs"]["1"]) == list(theirs["pruning"]["rungs"]["1"])  # arrival order too
    assert [(t["status"], t.get("pruning"), t["metrics"]) for t in mine["trials"].values()] == \
        [(t["status"], t.get("pruning"), t["metrics"]) for t in theirs["trials"].values()]
    assert len(run_dir_paths(remote.path)) == 12
    # seed-aware: the table holds configurations, and both seeds of one share its fate
    assert all("seed=" not in key for key in theirs["pruning"]["rungs"]["1"])
    fates = {}
    for key, trial in theirs["trials"].items():
        fates.setdefault(key.rsplit("; seed=", 1)[0], set()).add((trial["status"], str(trial.get("pruning"))))
    assert len(fates) == 6 and all(len(f) == 1 for f in fates.values())


@pytest.mark.timeout(180)
def test_every_worker_lost_stops_with_pending_trials_and_resume_finishes_on_a_new_worker(tmp_path, shared):
    dask = shared().ensure(1)
    kill = lambda event, result, trial=None: dask.kill(dask.alive[0]) if event == "trial" else None  # noqa: E731
    started = time.monotonic()
    res = sweep_api(SLOW, seeds=4, dask=dask.address, runs_dir=tmp_path / "runs", on_event=kill, dask_wait=1)
    assert time.monotonic() - started < 60  # it used to wait forever
    assert res.lost == "no Dask worker for 1 s" and res.exit_code == 1
    assert statuses(res)[:1] == ["completed"] and set(statuses(res)[1:]) == {"pending"}
    assert any("every Dask worker is gone: waiting up to 1 s" in n for n in res.notes)
    on_disk = read_json(res.path / "sweep.json")
    assert on_disk["sessions"][-1]["stopped"] == "no Dask worker for 1 s"
    assert [t["status"] for t in on_disk["trials"].values()] == statuses(res)
    dask.ensure(1)
    again = resume_sweep(res.path, dask=dask.address)
    assert again.to_run == [1, 2, 3] and statuses(again) == ["completed"] * 4 and again.exit_code == 0
    assert len(run_dir_paths(res.path)) == 4 and not (res.path / ".superseded").exists()
    assert len(read_json(res.path / "sweep.json")["sessions"]) == 2


@pytest.mark.timeout(180)
def test_a_lost_scheduler_stops_the_sweep_and_resume_runs_the_rest_locally(tmp_path, shared):
    dask = shared().ensure(1)
    kill = lambda event, result, trial=None: dask.kill(dask.scheduler) if event == "trial" else None  # noqa: E731
    res = sweep_api(MOONS, seeds=4, dask=dask.address, runs_dir=tmp_path / "runs", on_event=kill)
    assert res.lost.startswith("lost the connection to the Dask scheduler") and res.exit_code == 1
    assert statuses(res)[0] == "completed" and set(statuses(res)[1:]) == {"pending"}  # no trial "failed"
    again = resume_sweep(res.path, jobs=1)
    assert statuses(again) == ["completed"] * 4 and len(run_dir_paths(res.path)) == 4
    local = sweep_api(MOONS, seeds=4, jobs=1, runs_dir=tmp_path / "local")
    assert [t.metrics for t in again.trials] == [t.metrics for t in local.trials]
