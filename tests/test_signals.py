"""SIGINT/SIGTERM wherever they land (start-up, training, results), as real subprocesses: the right exit
code (130/143), a consistent run.json, the resume hint, never a traceback or click's "Aborted!"."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mlrun.sweeps.records import load_manifest

ROOT = Path(__file__).resolve().parents[1]
MLRUN = [sys.executable, "-m", "mlrun"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
CODE = {signal.SIGINT: 130, signal.SIGTERM: 143}

DIGITS = """
name: sig
seed: 0
data: {dataset: digits}
model: {hidden_layers: 1, neurons: 32, activation: tanh}
optimizer: {name: adam, learning_rate: 0.01}
training: {epochs: 6, batch_size: 16}
"""
AUTO_LR = DIGITS + "schedule: {name: one_cycle, max_lr: auto}\n"
BIG_DATA = DIGITS.replace("{dataset: digits}", "{dataset: make_classification, n_samples: 400000, n_features: 40}")


def _start(tmp_path, text, *extra):
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    return subprocess.Popen([*MLRUN, "train", str(spec), "-q", "--runs-dir", str(tmp_path / "runs"), *extra],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait(proc, condition, timeout=120.0):
    end = time.time() + timeout
    while time.time() < end:
        found = condition()
        if found:
            return found
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("the condition never held")


def _run_dir(tmp_path, needs="run.json"):
    runs = tmp_path / "runs"
    found = [p for p in runs.iterdir() if (p / needs).exists()] if runs.is_dir() else []
    return found[0] if found else None


def _finish(proc, *signals, gap=0.0):
    try:
        for s in signals:
            proc.send_signal(s)
            time.sleep(gap)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert "Traceback" not in err and "Aborted" not in err, err
    return out, err


def _numpy_loaded(proc):
    # numpy loads with the data, long after mlrun's handlers are in place: the process is in start-up
    try:
        return "_multiarray_umath" in Path(f"/proc/{proc.pid}/maps").read_text()
    except OSError:
        return False


def _info(run):
    return json.loads((run / "run.json").read_text())


def _resume_and_match(tmp_path, run, spec_text):
    resumed = subprocess.run([*MLRUN, "train", "--resume", str(run), "-q"], env=ENV, capture_output=True,
                             text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    assert _info(run)["status"] == "completed"
    spec = tmp_path / "straight.yaml"
    spec.write_text(spec_text)
    straight = subprocess.run([*MLRUN, "train", str(spec), "-q", "--runs-dir", str(tmp_path / "straight")],
                              env=ENV, capture_output=True, text=True, timeout=180)
    assert straight.returncode == 0, straight.stderr
    (other,) = (tmp_path / "straight").iterdir()
    assert json.loads((run / "metrics.json").read_text()) == json.loads((other / "metrics.json").read_text())


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_data_loads_exits_by_the_signal_and_leaves_nothing(signum, tmp_path):
    proc = _start(tmp_path, BIG_DATA)
    _wait(proc, lambda: _numpy_loaded(proc))
    out, err = _finish(proc, signum)
    assert proc.returncode == CODE[signum], err
    run = _run_dir(tmp_path)
    if run is None:  # the usual case: before the directory was claimed
        assert f"interrupted by {signal.Signals(signum).name}" in err
    else:  # the data loaded first: then the run is recorded as interrupted
        assert _info(run)["status"] == "interrupted" and "--resume" in out


def test_a_signal_before_the_first_epoch_is_resumable_from_the_start(tmp_path):
    """max_lr: auto runs a range test after run.json is written and before epoch 1."""
    proc = _start(tmp_path, AUTO_LR)
    run = _wait(proc, lambda: _run_dir(tmp_path))
    out, err = _finish(proc, signal.SIGTERM)
    assert proc.returncode == 143, err
    info = _info(run)
    assert info["status"] == "interrupted" and info["signal"] == signal.SIGTERM and info["epochs"] == 0
    assert f"mlrun train --resume {run}" in out
    _resume_and_match(tmp_path, run, AUTO_LR)


def test_a_signal_after_training_keeps_the_run_resumable_to_the_same_metrics(tmp_path):
    """metrics.json is written, predictions, model and figures are not yet: Ctrl-C lands there."""
    proc = _start(tmp_path, DIGITS)
    run = _wait(proc, lambda: _run_dir(tmp_path, "metrics.json"))
    out, err = _finish(proc, signal.SIGINT)
    assert proc.returncode == 130, err
    info = _info(run)
    assert info["status"] == "interrupted" and info["epochs"] == 6 and info["error"] is None
    assert "--resume" in out
    _resume_and_match(tmp_path, run, DIGITS)


@pytest.mark.parametrize("first, second", [(signal.SIGINT, signal.SIGINT), (signal.SIGTERM, signal.SIGINT)])
def test_a_second_signal_exits_by_the_first_with_the_run_interrupted(first, second, tmp_path):
    proc = _start(tmp_path, DIGITS.replace("epochs: 6", "epochs: 40"))
    run = _wait(proc, lambda: _run_dir(tmp_path, "checkpoint.npz"))
    out, err = _finish(proc, first, second, gap=0.3)
    assert proc.returncode == CODE[first], err
    info = _info(run)
    assert info["status"] == "interrupted" and info["signal"] == first and 1 <= info["epochs"] < 40
    assert "--resume" in out


def test_a_restored_trainer_whose_stop_rule_fired_does_not_train_on():
    from mlrun.spec.loading import load_config
    from mlrun.training.setup import build_setup, load_data

    cfg = load_config({"name": "es", "seed": 0, "data": {"dataset": "iris"},
                       "model": {"hidden_layers": 1, "neurons": 4},
                       "optimizer": {"name": "sgd", "learning_rate": 1e-9},
                       "training": {"epochs": 30, "batch_size": 16,
                                    "early_stopping": {"monitor": "val_loss", "patience": 1}}})
    data = load_data(cfg)
    first = build_setup(cfg, data).trainer
    first.fit(data.X_train, data.y_train, data.X_val, data.y_val)
    assert first.stop_reason == "early_stopping" and first.epoch < 30
    meta, arrays = first.state()
    again = build_setup(cfg, data).trainer
    again.load_state(meta, arrays)
    again.fit(data.X_train, data.y_train, data.X_val, data.y_val)
    assert again.epoch == first.epoch and again.stop_reason == "early_stopping"
    assert np.array_equal(again.network.params, first.network.params)


def test_ctrl_c_on_a_parallel_sweep_reaches_every_process_and_prints_no_worker_traceback(tmp_path):
    """A terminal's Ctrl-C goes to the whole process group: the driver and each loky worker."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(DIGITS.replace("epochs: 6", "epochs: 2"))
    proc = subprocess.Popen([*MLRUN, "sweep", str(spec), "--grid", "training.epochs=2,40,41",
                             "--jobs", "2", "-q", "--runs-dir", str(tmp_path / "runs")], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    def one_done():  # sweep.json as the driver last logged it (its snapshot plus sweep.log.jsonl)
        manifest = next((tmp_path / "runs").glob("*/sweep.json"), None) if (tmp_path / "runs").is_dir() else None
        done = manifest and any(t["status"] == "completed" for t in load_manifest(manifest.parent)["trials"].values())
        return manifest if done else None

    # once a trial is back, both workers have started (one idle or on the next trial, one training)
    manifest = _wait(proc, one_done)
    try:
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    trials = load_manifest(manifest.parent)["trials"]
    assert {t["status"] for t in trials.values()} <= {"pending", "interrupted", "completed"}
    assert "sweep --resume" in out
