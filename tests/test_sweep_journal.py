"""sweep.json as a snapshot plus an append-only log: replayed by readers, never rewritten per trial, and a
driver killed at any point leaves a sweep --resume finishes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from mlrun import sweep as sweep_api
from mlrun.runs.discovery import run_dir_paths
from mlrun.runs.files import read_json
from mlrun.sweeps import journal
from mlrun.sweeps.driver import resume_sweep
from mlrun.sweeps.records import load_manifest

TINY = {"name": "tiny", "data": {"dataset": "make_regression", "params": {"n_samples": 60, "n_features": 3}},
        "model": {"hidden_layers": 1, "neurons": 3}, "training": {"epochs": 2}}


def test_the_log_replays_onto_the_snapshot_and_a_torn_last_line_is_ignored(tmp_path):
    book = journal.Journal(tmp_path, {"trials": {}, "pruning": {"rungs": {}}}, snapshot_seconds=1e9)
    book.snapshot()
    book.write({"trial": "a", "record": {"status": "completed"}}, {"rung": 1, "key": "a", "value": 0.5})
    book.write({"trial": "b", "record": {"status": "failed"}})
    on_disk = read_json(tmp_path / "sweep.json")
    assert on_disk["trials"] == {} and on_disk["log_seq"] == 0  # only the log has them
    read = journal.read_manifest(tmp_path)
    assert read["trials"] == {"a": {"status": "completed"}, "b": {"status": "failed"}}
    assert read["pruning"]["rungs"] == {"1": {"a": 0.5}} and read["log_seq"] == 3
    with open(tmp_path / journal.LOG, "a") as fh:
        fh.write('{"seq": 4, "trial": "c", "rec')  # the driver died mid-line
    assert journal.read_manifest(tmp_path)["trials"] == read["trials"]
    # a crash after a snapshot but before the log was emptied: lines already in the snapshot are skipped
    log = (tmp_path / journal.LOG).read_text()
    book.snapshot()
    (tmp_path / journal.LOG).write_text(log)
    book.manifest["trials"]["a"] = {"status": "pruned"}
    book.snapshot()
    (tmp_path / journal.LOG).write_text(log)
    assert journal.read_manifest(tmp_path)["trials"]["a"] == {"status": "pruned"}


def test_sweep_json_is_written_whole_twice_per_session_not_per_trial(tmp_path, monkeypatch):
    writes = []
    real = journal.write_json
    monkeypatch.setattr(journal, "write_json", lambda path, obj: (writes.append(path.name), real(path, obj))[1])
    res = sweep_api(TINY, seeds=4, jobs=1, runs_dir=tmp_path, prune={"rule": "asha"})
    assert writes == ["sweep.json", "sweep.json"]  # the session's start and end (SNAPSHOT_SECONDS apart at most)
    assert not (res.path / journal.LOG).exists()  # a finished sweep is sweep.json alone
    on_disk = read_json(res.path / "sweep.json")
    assert [t["status"] for t in on_disk["trials"].values()] == ["completed"] * 4
    assert on_disk["counts"] == {"completed": 4} and on_disk["log_seq"] >= 4


DRIVER = """
import sys
from mlrun import sweep
sweep({spec}, seeds=16, jobs=1, runs_dir=sys.argv[1], command=["killed"])
"""


@pytest.mark.timeout(120)
def test_a_driver_killed_mid_sweep_leaves_a_sweep_resume_finishes(tmp_path):
    runs = tmp_path / "runs"
    driver = subprocess.Popen([sys.executable, "-c", DRIVER.format(spec=repr(TINY)), str(runs)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and driver.poll() is None:
        logs = list(runs.glob("*/sweep.log.jsonl"))
        if logs and logs[0].read_text().count("\n") >= 4:
            break
        time.sleep(0.02)
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    (path,) = runs.iterdir()
    state = load_manifest(path)
    done = [k for k, t in state["trials"].items() if t["status"] == "completed"]
    assert 4 <= len(done) < 16 and read_json(path / "sweep.json")["log_seq"] < len(done)  # the log had them
    for key in done:  # each logged trial's run directory is complete
        assert read_json(path / state["trials"][key]["run"] / "run.json")["status"] == "completed"
    finished = [p for p in path.iterdir() if p.is_dir() and (p / "metrics.json").exists()]
    assert len(finished) - len(done) <= 1  # nothing recorded was lost but the one being logged
    again = resume_sweep(path, jobs=1)
    assert sorted(again.to_run) == sorted(i for i, t in enumerate(state["trials"].values())
                                          if t["status"] != "completed")
    assert again.counts == {"completed": 16}
    kept = {k: state["trials"][k]["run"] for k in done}
    assert {k: t["run"] for k, t in read_json(path / "sweep.json")["trials"].items() if k in kept} == kept
    # 16 directories, one per trial: the one being written when the driver died was set aside
    assert len(run_dir_paths(path)) == 16
    assert json.loads((path / "sweep.json").read_text())["sessions"][0]["end"] is None  # it never ended


def test_the_snapshot_waits_for_the_log_to_grow_as_large_as_itself(tmp_path):
    book = journal.Journal(tmp_path, {"trials": {f"t{i}": {"status": "pending"} for i in range(50)}},
                           snapshot_seconds=0)
    book.snapshot()
    size = (tmp_path / "sweep.json").stat().st_size
    writes = 0
    while read_json(tmp_path / "sweep.json")["log_seq"] == 0:
        book.write({"trial": f"t{writes}", "record": {"status": "completed"}})
        writes += 1
    logged = [len(json.dumps({"seq": i + 1, "trial": f"t{i}", "record": {"status": "completed"}})) + 1
              for i in range(writes)]
    assert sum(logged[:-1]) < size <= sum(logged)  # not one rewrite per change: once the log caught up
