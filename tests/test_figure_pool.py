"""Figure processes: the same PNG bytes as drawing in place, a dead process's figures drawn in place,
a failing figure's warning, jobs that cross the pipe without pickle."""

from __future__ import annotations

import io
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mlrun.experiment import figure_pool
from mlrun.experiment.figure_jobs import RUN_FIGURES, FigureJob
from mlrun.spec.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SPEC = {"name": "figs", "seed": 3, "data": {"dataset": "iris"}, "model": {"hidden_layers": 2, "neurons": 8},
        "training": {"epochs": 4}}


@pytest.fixture
def pool(monkeypatch):
    monkeypatch.setenv(figure_pool.ENV, "2")
    pool = figure_pool.FigurePool()
    pool.warm()
    assert pool.wait_until_ready() == 2
    yield pool
    pool.close()


def _pngs(run_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((run_dir / "plots").glob("*.png"))}


def _train(tmp_path, monkeypatch, workers: str, where: str):
    import mlrun

    monkeypatch.setenv(figure_pool.ENV, workers)
    return mlrun.train(SPEC, out=tmp_path / where / "run")  # one run name: the titles match


def test_figures_drawn_in_processes_are_byte_identical_to_figures_drawn_in_place(tmp_path, monkeypatch):
    here = _train(tmp_path, monkeypatch, "0", "here")
    pool = figure_pool.FigurePool()
    monkeypatch.setattr(figure_pool, "POOL", pool)
    monkeypatch.setenv(figure_pool.ENV, "2")
    pool.warm()
    assert pool.wait_until_ready() == 2
    sent = []
    send = figure_pool._send
    monkeypatch.setattr(figure_pool, "_send", lambda worker, frame: sent.append(worker.pid) or send(worker, frame))
    there = _train(tmp_path, monkeypatch, "2", "there")
    pool.close()
    assert len(sent) >= 2 and not here.warnings and not there.warnings  # the processes drew some of them
    assert sorted(_pngs(here.path)) == ["activations.png", "confusion_matrix.png", "diagnostics.png",
                                        "gradients.png", "learning_curve.png", "pr.png", "roc.png"]
    assert _pngs(there.path) == _pngs(here.path)


def test_the_figures_of_a_dead_process_are_drawn_in_place(tmp_path, pool):
    jobs = [FigureJob("learning_curve", RUN_FIGURES, ([{"epoch": e, "train_loss": 1 / e} for e in range(1, 6)],
                                                      tmp_path / f"lc{i}.png", "t")) for i in range(4)]
    for worker in pool._workers:
        worker.kill()
        worker.wait()
    assert pool.draw(jobs) == []
    assert [p.name for p in sorted(tmp_path.glob("lc*.png"))] == ["lc0.png", "lc1.png", "lc2.png", "lc3.png"]


def test_a_process_killed_while_drawing_leaves_its_figure_to_this_process(tmp_path, pool):
    history = [{"epoch": e, "train_loss": math.exp(-e)} for e in range(1, 200)]
    jobs = [FigureJob("learning_curve", RUN_FIGURES, (history, tmp_path / f"lc{i}.png", "t")) for i in range(6)]
    victim = pool._workers[0]
    original = figure_pool._send

    def send_then_kill(worker, frame):
        sent = original(worker, frame)
        if worker is victim and victim.poll() is None:
            victim.send_signal(signal.SIGKILL)  # mid-job: its answer never comes
        return sent

    figure_pool._send = send_then_kill
    try:
        assert pool.draw(jobs) == []
    finally:
        figure_pool._send = original
    assert len(list(tmp_path.glob("lc*.png"))) == 6 and victim not in pool._workers


def test_a_failing_figure_in_a_process_is_the_same_warning_as_in_place(tmp_path, pool):
    bad = FigureJob("learning_curve", RUN_FIGURES, ([{"epoch": 1, "train_loss": "high"}], tmp_path / "x.png", "t"))
    good = FigureJob("learning_curve", RUN_FIGURES, ([{"epoch": 1, "train_loss": 0.5}], tmp_path / "y.png", "t"))
    expected = bad.draw()
    assert expected.startswith("plots: ValueError")
    assert pool.draw([bad, good, bad]) == [expected, expected]
    assert (tmp_path / "y.png").is_file() and not (tmp_path / "x.png").exists()


def test_a_figure_process_ignores_ctrl_c_and_exits_when_its_input_closes(tmp_path, pool):
    worker = pool._workers[0]
    deadline = time.time() + 30
    while not _ignores_sigint(worker.pid) and time.time() < deadline:  # past its first line
        time.sleep(0.02)
    worker.send_signal(signal.SIGINT)  # a terminal's Ctrl-C reaches the whole process group
    job = FigureJob("learning_curve", RUN_FIGURES, ([{"epoch": 1, "train_loss": 0.5}], tmp_path / "a.png", "t"))
    assert pool.draw([job]) == [] and worker.poll() is None
    pool.close()
    assert worker.wait(timeout=10) == 0


def _ignores_sigint(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    mask = int(next(line for line in status.splitlines() if line.startswith("SigIgn:")).split()[1], 16)
    return bool(mask & (1 << (signal.SIGINT - 1)))


def test_a_job_crosses_the_pipe_as_json_and_npz_with_its_types_kept():
    samples = {"init": {1: {"activation": np.linspace(-1, 1, 7), "gradient": np.zeros(3, np.float32), "epoch": 0}}}
    labels = np.array(["a", "b", 3], dtype=object)
    args = (samples, [{"value": math.nan}, None], labels, np.int64(4), Path("/x/y.png"), "title")
    frame, size = figure_pool.encode(FigureJob("activations", "diagnostics plots", args))
    job = figure_pool.decode(io.BytesIO(frame))
    got = job.args
    assert size == 7 * 8 + 3 * 4 and job.figure == "activations" and job.group == "diagnostics plots"
    assert list(got[0]["init"]) == [1] and got[0]["init"][1]["epoch"] == 0
    assert np.array_equal(got[0]["init"][1]["activation"], samples["init"][1]["activation"])
    assert got[0]["init"][1]["gradient"].dtype == np.float32
    assert math.isnan(got[1][0]["value"]) and got[1][1] is None
    assert got[2].dtype == object and got[2].tolist() == ["a", "b", 3]
    assert got[3] == 4 and got[4] == Path("/x/y.png") and got[5] == "title"
    assert figure_pool.decode(io.BytesIO(frame[:-3])) is None  # a cut frame is the end, not a job


def test_a_figure_process_calls_only_the_drawing_functions_it_knows():
    frame, _ = figure_pool.encode(FigureJob("learning_curve", RUN_FIGURES, ("x",)))
    forged = frame.replace(b'"learning_curve"', b'"os.system"'.ljust(16))
    size = len(b'"os.system"'.ljust(16)) - len(b'"learning_curve"')
    header_length = int.from_bytes(frame[:8], "little") + size
    with pytest.raises(ValueError, match="unknown figure"):
        figure_pool.decode(io.BytesIO(header_length.to_bytes(8, "little") + forged[8:]))


@pytest.mark.parametrize("text", ["two", "-1", "9", "1.5"])
def test_a_bad_worker_count_is_one_line(monkeypatch, text):
    monkeypatch.setenv(figure_pool.ENV, text)
    with pytest.raises(ConfigError, match=r"MLRUN_FIGURE_WORKERS=.*a whole number from 0 to 8"):
        figure_pool.worker_count()


def test_the_cli_draws_with_figure_processes_by_default_and_none_is_left_behind(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != figure_pool.ENV}
    env["PYTHONPATH"] = str(ROOT)
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps(SPEC))
    done = subprocess.run([sys.executable, "-m", "mlrun", "train", str(spec), "--out", str(tmp_path / "run"), "-q"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["status"] == "completed" and not record.get("warnings")
    assert len(_pngs(tmp_path / "run")) == 7
    leftover = subprocess.run(["pgrep", "-f", "mlrun.experiment.figure_worker"], capture_output=True, text=True)
    deadline = time.time() + 10
    while leftover.stdout.strip() and time.time() < deadline:  # they exit as their input closes
        time.sleep(0.1)
        leftover = subprocess.run(["pgrep", "-f", "mlrun.experiment.figure_worker"], capture_output=True, text=True)
    assert not leftover.stdout.strip()


def test_this_process_draws_too_while_every_figure_process_is_busy(tmp_path, monkeypatch):
    monkeypatch.setenv(figure_pool.ENV, "1")
    pool = figure_pool.FigurePool()
    pool.warm()
    assert pool.wait_until_ready() == 1
    history = [{"epoch": e, "train_loss": math.exp(-e)} for e in range(1, 100)]
    jobs = [FigureJob("learning_curve", RUN_FIGURES, (history, tmp_path / f"lc{i}.png", "t")) for i in range(8)]
    here = []
    draw_here = FigureJob.draw

    def counted(job):
        here.append(job.args[-2].name)
        return draw_here(job)

    monkeypatch.setattr(FigureJob, "draw", counted)  # this process's draws only: the worker has its own
    try:
        assert pool.draw(jobs) == []
    finally:
        pool.close()
    assert len(list(tmp_path.glob("lc*.png"))) == 8
    assert 0 < len(here) < 8 and "lc7.png" in here and "lc0.png" not in here  # from the other end


def test_an_interrupted_cli_run_exits_130_and_leaves_no_figure_process(tmp_path):
    # an interrupt ends the process without the interpreter's teardown (mlrun/cli/__init__.py), but
    # after the exit hooks: the figure process is still ended
    env = {k: v for k, v in os.environ.items() if k not in (figure_pool.ENV, "PYTHONUNBUFFERED")}
    env["PYTHONPATH"] = str(ROOT)  # and stdout block-buffered, as into any pipe: the exit flushes it
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps({**SPEC, "data": {"dataset": "digits"}, "training": {"epochs": 400}}))
    proc = subprocess.Popen([sys.executable, "-m", "mlrun", "train", str(spec), "--out", str(tmp_path / "run"), "-q"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (tmp_path / "run" / "checkpoint.npz").exists() and time.time() < deadline:
        time.sleep(0.05)
    workers = subprocess.run(["pgrep", "-P", str(proc.pid), "-f", "figure_worker"], capture_output=True, text=True)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Fatal" not in err and "Traceback" not in err, err
    assert f"resume with: mlrun train --resume {tmp_path / 'run'}" in " ".join(out.split())  # flushed before the exit
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "interrupted"
    pids = workers.stdout.split()
    assert pids, "the run had a figure process"
    assert all(not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
               for pid in pids)
