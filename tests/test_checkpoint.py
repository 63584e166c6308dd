"""The checkpoint: one file on a time budget, history.csv appended, and a kill at any instant loses
nothing a resume needs (in process, and a real SIGKILL of a real process)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import mlrun
from mlrun.experiment import recorder as rec
from mlrun.runs import files
from mlrun.runs.files import load_npz
from mlrun.runs.history import read_history

ROOT = Path(__file__).resolve().parents[1]
SPEC = {
    "name": "ckpt", "seed": 5, "data": {"dataset": "iris"},
    "model": {"hidden_layers": 2, "neurons": 8, "activation": "rrelu", "dropout": 0.1},
    "optimizer": {"name": "nadam", "learning_rate": 0.01}, "schedule": {"name": "one_cycle", "max_lr": 0.02},
    "training": {"epochs": 9, "batch_size": 16},
}


def _written_epochs(monkeypatch) -> list[int]:
    epochs = []
    real = rec.save_checkpoint

    def counting(run_dir, meta, arrays):
        epochs.append(meta["epoch"])
        real(run_dir, meta, arrays)

    monkeypatch.setattr(rec, "save_checkpoint", counting)
    return epochs


def test_the_checkpoint_is_one_file_without_the_history_written_first_epoch_and_last(tmp_path, monkeypatch):
    epochs = _written_epochs(monkeypatch)
    monkeypatch.setattr(rec, "CHECKPOINT_SECONDS", 3600.0)
    run = mlrun.train(SPEC, runs_dir=tmp_path)
    assert epochs == [1, 9]
    assert not (run.path / "checkpoint.json").exists()
    arrays = load_npz(run.path / "checkpoint.npz")
    meta = json.loads(str(arrays["meta"]))
    assert meta["epoch"] == 9 and meta["step"] == 9 * 7 and "history" not in meta
    assert json.loads((run.path / "run.json").read_text())["epochs"] == 9


def test_a_stop_rule_checkpoints_the_epoch_it_fires(tmp_path, monkeypatch):
    epochs = _written_epochs(monkeypatch)
    monkeypatch.setattr(rec, "CHECKPOINT_SECONDS", 3600.0)
    spec = {**SPEC, "training": {"epochs": 500, "batch_size": 16,
                                 "early_stopping": {"patience": 2, "monitor": "val_loss", "min_delta": 1.0}}}
    run = mlrun.train(spec, runs_dir=tmp_path)
    assert run.stop_reason == "early_stopping" and run.epochs == 3
    assert epochs == [1, 3]


def test_a_signal_mid_epoch_checkpoints_the_last_whole_epoch(tmp_path, monkeypatch):
    epochs = _written_epochs(monkeypatch)
    monkeypatch.setattr(rec, "CHECKPOINT_SECONDS", 3600.0)

    class SignalInEpoch5:  # what graceful_signals does on a first SIGINT
        def on_batch_end(self, trainer, logs):
            if trainer.epoch == 4 and logs["step"] == 4 * 7 + 3:
                trainer.request_stop("interrupted")

    run = mlrun.train(SPEC, runs_dir=tmp_path, callbacks=[SignalInEpoch5()])
    assert run.status == "interrupted" and run.epochs == 4
    assert epochs == [1, 4] and rec.epochs_done(mlrun.runs.directory.RunDir(run.path)) == 4


def test_with_no_budget_every_epoch_is_checkpointed(tmp_path, monkeypatch):
    epochs = _written_epochs(monkeypatch)
    monkeypatch.setattr(rec, "CHECKPOINT_SECONDS", 0.0)
    mlrun.train(SPEC, runs_dir=tmp_path)
    assert epochs == list(range(1, 10))


def test_history_csv_is_appended_in_place_a_row_per_epoch(tmp_path):
    seen = []

    class Probe:  # runs after the recorder
        def on_epoch_end(self, trainer, logs):
            path = next(tmp_path.iterdir()) / "history.csv"
            seen.append((os.stat(path).st_ino, [r["epoch"] for r in read_history(path)]))

    run = mlrun.train(SPEC, runs_dir=tmp_path, callbacks=[Probe()])
    assert [rows for _, rows in seen] == [list(range(1, k + 1)) for k in range(1, 10)]
    assert len({inode for inode, _ in seen}) == 1  # appended, not replaced
    assert read_history(run.path / "history.csv") == [{**r, "val_accuracy": r.get("val_accuracy")}
                                                      for r in run.history]


def test_a_kill_while_the_checkpoint_is_replaced_keeps_the_previous_one_whole(tmp_path, monkeypatch):
    straight = mlrun.train(SPEC, runs_dir=tmp_path / "a")
    monkeypatch.setattr(rec, "CHECKPOINT_SECONDS", 0.0)
    real_replace, killed = os.replace, []

    def killed_at_epoch_5(src, dst):
        at_5 = Path(dst).name == "checkpoint.npz" and len(read_history(Path(dst).parent / "history.csv")) == 5
        if at_5 or (killed and Path(dst).name == "checkpoint.npz"):
            killed.append(dst)  # the new checkpoint is whole but not renamed, and no later one gets there
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", killed_at_epoch_5)
    with pytest.raises(KeyboardInterrupt):
        mlrun.train(SPEC, runs_dir=tmp_path / "b")
    monkeypatch.setattr(files.os, "replace", real_replace)
    run = next((tmp_path / "b").iterdir())
    assert rec.epochs_done(mlrun.runs.directory.RunDir(run)) == 4
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    assert len(read_history(run / "history.csv")) == 5  # one row ahead of the checkpoint: dropped on resume
    resumed = mlrun.resume(run)
    assert resumed.epochs == 9 and resumed.metrics == straight.metrics
    assert _without_seconds(run) == _without_seconds(straight.path)
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in straight.history]


def _without_seconds(run_path):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in read_history(run_path / "history.csv")]


KILLABLE = """
import sys
from mlrun.experiment import recorder
recorder.CHECKPOINT_SECONDS = 0.0  # a checkpoint every epoch: the kill lands near a write
from mlrun.cli import main
sys.argv = ["mlrun", *sys.argv[1:]]
main()
"""


@pytest.mark.slow
def test_sigkill_of_a_real_process_mid_run_then_resume_matches_an_uninterrupted_run(tmp_path):
    spec = {**SPEC, "data": {"dataset": "digits"}, "training": {"epochs": 25, "batch_size": 8}}
    path = tmp_path / "spec.yaml"
    path.write_text(json.dumps(spec))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, "train", str(path), "-q", "--runs-dir",
                             str(tmp_path / "b")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        checkpoint, end = None, time.time() + 120
        while time.time() < end:
            found = list((tmp_path / "b").glob("*/checkpoint.npz")) if (tmp_path / "b").exists() else []
            if found and len(read_history(found[0].parent / "history.csv")) >= 3:
                checkpoint = found[0]
                break
            time.sleep(0.01)
        assert checkpoint is not None, proc.stderr.read() if proc.poll() is not None else "no checkpoint"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        proc.kill()
    run = checkpoint.parent
    done = rec.epochs_done(mlrun.runs.directory.RunDir(run))
    assert 2 <= done < 25
    resumed = mlrun.resume(run)
    straight = mlrun.train(spec, runs_dir=tmp_path / "a")
    assert resumed.status == "completed" and resumed.metrics == straight.metrics
    np.testing.assert_array_equal(load_npz(run / "model.npz")["network.params"],
                                  load_npz(straight.path / "model.npz")["network.params"])
    assert _without_seconds(run) == _without_seconds(straight.path)


def test_a_checkpoint_from_before_the_one_file_format_still_resumes(tmp_path, monkeypatch):
    straight = mlrun.train(SPEC, runs_dir=tmp_path / "a")

    def legacy_pair(run_dir, meta, arrays):  # the old format: arrays + epoch, then the JSON with the history
        run_dir.write_npz("checkpoint.npz", epoch=np.array(meta["epoch"]), **arrays)
        run_dir.write_json("checkpoint.json", meta)

    class StopAfter4:
        def on_epoch_end(self, trainer, logs):
            if trainer.epoch == 4:
                trainer.request_stop("interrupted")

    monkeypatch.setattr(rec, "save_checkpoint", legacy_pair)
    stopped = mlrun.train(SPEC, runs_dir=tmp_path / "b", callbacks=[StopAfter4()])
    monkeypatch.undo()
    assert "meta" not in load_npz(stopped.path / "checkpoint.npz")
    resumed = mlrun.resume(stopped.path)
    assert resumed.metrics == straight.metrics
