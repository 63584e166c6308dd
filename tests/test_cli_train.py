"""`mlrun train` and `mlrun predict` through click's CliRunner and real subprocesses."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mlrun.cli.app import cli

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p for p in (ROOT / "configs").rglob("*.yaml"))
MLRUN = [sys.executable, "-m", "mlrun"]

TINY = """
name: tiny
seed: 1
data: {dataset: iris}
model: {hidden_layers: 1, neurons: 8, activation: tanh}
optimizer: {name: adam, learning_rate: 0.01}
training: {epochs: 5, batch_size: 16}
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def run_cli(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def only_run(runs_dir: Path) -> Path:
    (run,) = [p for p in runs_dir.iterdir() if p.is_dir()]
    return run


@pytest.mark.parametrize("spec", SHIPPED, ids=[str(p.relative_to(ROOT)) for p in SHIPPED])
def test_every_shipped_spec_smoke_runs(spec, tmp_path):
    result = run_cli("train", spec, "--smoke", "--quiet", "--runs-dir", tmp_path)
    assert result.exit_code in (0, 1), result.output  # a smoke run may diverge; it must not crash
    info = json.loads((only_run(tmp_path) / "run.json").read_text())
    assert info["smoke"] is True and info["status"] in ("completed", "diverged")
    assert info["epochs"] <= 2
    run = only_run(tmp_path)
    assert (run / "metrics.json").exists() and (run / "model.npz").exists()
    assert not (run / "plots" / "learning_curve.png").exists()  # a smoke run draws no figures


def test_piped_output_keeps_a_long_run_directory_on_one_line(tiny, tmp_path):
    runs_dir = tmp_path.joinpath(*["a-rather-long-directory-name"] * 4)  # the line is far over 80 columns
    result = run_cli("train", tiny, "--runs-dir", runs_dir, "--set", "training.epochs=1")
    assert result.exit_code == 0, result.output
    assert f"run directory: {only_run(runs_dir)}\n" in result.output


def test_train_prints_metrics_and_the_run_directory(tiny, tmp_path):
    result = run_cli("train", tiny, "--runs-dir", tmp_path / "runs", "--set", "training.epochs=3")
    assert result.exit_code == 0, result.output
    run = only_run(tmp_path / "runs")
    assert run.name.startswith("tiny-") and str(run) in result.output.replace("\n", "")
    assert "accuracy" in result.output and "completed" in result.output
    assert json.loads((run / "run.json").read_text())["epochs"] == 3


def test_name_and_seed_options(tiny, tmp_path):
    assert run_cli("train", tiny, "-q", "--runs-dir", tmp_path, "--name", "mine", "--seed", "9").exit_code == 0
    run = only_run(tmp_path)
    assert run.name.startswith("mine-")
    assert yaml.safe_load((run / "config.yaml").read_text())["seed"] == 9


@pytest.mark.parametrize("args, needle", [
    (["train", "missing.yaml"], "not found"),
    (["train", "{tiny}", "--set", "model.activaton=relu"], "did you mean"),
    (["train", "{tiny}", "--set", "optimizer.name=adamm"], "valid names"),
    (["train", "{tiny}", "--set", "training.epochs=ten"], "training.epochs"),
    (["train", "{tiny}", "--set", "data={dataset: csv, path: nowhere.csv, target: y}"], "not found"),
    (["train"], "SPEC"),
    (["train", "--resume", "{tmp}/nothing"], "run directory"),
    (["predict", "{tmp}/nothing", "{tiny}"], "model.npz"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle, tiny, tmp_path):
    args = [a.replace("{tiny}", str(tiny)).replace("{tmp}", str(tmp_path)) for a in args]
    result = CliRunner().invoke(cli, [*args, "--runs-dir", str(tmp_path)] if args[0] == "train" else args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert needle in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_bad_csv_rows_exit_2(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n1,2,x\n3,4\n")
    spec = tmp_path / "s.yaml"
    spec.write_text("data: {dataset: csv, path: d.csv, target: y}\n")
    result = CliRunner().invoke(cli, ["train", str(spec), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 2 and "line 3" in result.output and "Traceback" not in result.output


def test_diverged_run_exits_1_and_keeps_its_history(tiny, tmp_path):
    result = run_cli("train", tiny, "-q", "--runs-dir", tmp_path, "--set", "optimizer={name: sgd, learning_rate: 1000}",
                     "--set", "model.neurons=64", "--set", "training.epochs=30")
    assert result.exit_code == 1, result.output
    run = only_run(tmp_path)
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "diverged" and "diverged" in result.output
    assert len((run / "history.csv").read_text().splitlines()) == info["epochs"] + 1


def test_predict_equals_the_runs_own_test_predictions(tmp_path):
    spec = ROOT / "configs" / "examples" / "csv_classification.yaml"
    assert run_cli("train", spec, "-q", "--runs-dir", tmp_path / "runs", "--set", "training.epochs=5").exit_code == 0
    run = only_run(tmp_path / "runs")
    out = tmp_path / "pred.csv"
    data = ROOT / "configs" / "examples" / "penguins_small.csv"
    result = run_cli("predict", run, data, "-o", out)
    assert result.exit_code == 0, result.output
    predicted = list(csv.DictReader(out.open()))
    source = list(csv.DictReader(data.open()))
    assert len(predicted) == len(source)
    # every test row of the run, found in the source by its features, gets the same label and scores
    from mlrun import load_model

    model = load_model(run)
    own = list(csv.DictReader((run / "predictions.csv").open()))
    assert {r["y_pred"] for r in predicted} <= {str(c) for c in model.classes}
    features = model.pre.feature_names
    by_features = {tuple(float(r[f]) for f in features): p for r, p in zip(source, predicted)}
    from mlrun.spec.loading import load_config
    from mlrun.training.setup import load_data

    data_set = load_data(load_config(spec))
    X_raw = data_set.X_test * data_set.scaler["scale"] + data_set.scaler["center"]
    for x, row in zip(X_raw, own):
        match = min(by_features, key=lambda k: sum((a - b) ** 2 for a, b in zip(k, x)))
        assert by_features[match]["y_pred"] == row["y_pred"]


# -- real processes -------------------------------------------------------------------------------
SLOW = """
name: slow
seed: 2
data: {dataset: digits}
model: {hidden_layers: 2, neurons: 64, activation: elu}
optimizer: {name: nadam}
training: {epochs: 12, batch_size: 8}
"""


def _wait_for(path: Path, timeout=60.0):
    end = time.time() + timeout
    while time.time() < end:
        if path.exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} did not appear")


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_after_the_batch_then_resume_matches_an_uninterrupted_run(signum, code, tmp_path):
    spec = tmp_path / "slow.yaml"
    spec.write_text(SLOW)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([*MLRUN, "train", str(spec), "-q", "--runs-dir", str(tmp_path / "b")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(tmp_path / "b")
        run = None
        end = time.time() + 60
        while run is None and time.time() < end:
            runs = [p for p in (tmp_path / "b").iterdir() if (p / "checkpoint.npz").exists()]
            run = runs[0] if runs else None
            time.sleep(0.05)
        assert run is not None
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "interrupted" and info["stop_reason"] == "interrupted"
    assert 1 <= info["epochs"] < 12
    assert "--resume" in out

    resumed = subprocess.run([*MLRUN, "train", "--resume", str(run), "-q"], env=env, capture_output=True,
                             text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    straight = subprocess.run([*MLRUN, "train", str(spec), "-q", "--runs-dir", str(tmp_path / "a")], env=env,
                              capture_output=True, text=True, timeout=120)
    assert straight.returncode == 0, straight.stderr
    a = json.loads((only_run(tmp_path / "a") / "metrics.json").read_text())
    b = json.loads((run / "metrics.json").read_text())
    assert a == b
    assert json.loads((run / "run.json").read_text())["status"] == "completed"
    again = subprocess.run([*MLRUN, "train", "--resume", str(run)], env=env, capture_output=True, text=True)
    assert again.returncode == 2 and "completed" in again.stderr


def test_eight_concurrent_runs_give_eight_intact_directories(tiny, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([*MLRUN, "train", str(tiny), "-q", "--runs-dir", str(tmp_path / "runs"),
                               "--set", "training.epochs=2"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) for _ in range(8)]
    for p in procs:
        p.wait(timeout=180)
        assert p.returncode == 0, p.stderr.read()
    runs = [p for p in (tmp_path / "runs").iterdir()]
    assert len(runs) == 8 and len({r.name for r in runs}) == 8
    metrics = [json.loads((r / "metrics.json").read_text()) for r in runs]
    assert all(m == metrics[0] for m in metrics)  # same spec and seed: identical metrics
    for r in runs:
        assert json.loads((r / "run.json").read_text())["status"] == "completed"
        assert not [f for f in r.iterdir() if f.name.startswith(".")]
