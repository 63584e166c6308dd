"""`mlrun diagnose`, the findings printed after `mlrun train`, and `mlrun compare --findings`."""

import json

from click.testing import CliRunner

import mlrun
from mlrun.cli.app import cli

SATURATING = {"name": "sat", "seed": 0, "data": {"dataset": "digits"},
              "model": {"hidden_layers": 5, "neurons": 128, "activation": "sigmoid", "initializer": "random_normal"},
              "optimizer": {"name": "sgd", "learning_rate": 0.1},
              "training": {"epochs": 1, "batch_size": 64, "diagnostics": {"every": 1}}}
HEALTHY = {"name": "ok", "seed": 0, "data": {"dataset": "iris"},
           "model": {"hidden_layers": 1, "neurons": 8, "activation": "tanh"},
           "optimizer": {"name": "adam", "learning_rate": 0.002}, "training": {"epochs": 2, "batch_size": 16}}


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, terminal_width=80)


def test_diagnose_shows_the_table_and_findings(tmp_path):
    run = mlrun.train(SATURATING, runs_dir=tmp_path)
    result = invoke("diagnose", run.path)
    assert result.exit_code == 0
    assert "hidden layers at epoch 1" in result.output and "layer 5" in result.output
    assert "saturated share" in result.output and "sigmoid" in result.output
    assert "finding: saturation" in result.output and "--set model.initializer=glorot_uniform" in result.output
    lines = result.output.splitlines()
    table = lines[:next(i for i, line in enumerate(lines) if line.startswith("finding:"))]
    assert len(table) > 10 and max(len(line) for line in table) <= 80  # the table fits 80 columns


def test_diagnose_on_a_run_made_before_diagnostics_says_so_in_one_line(tmp_path):
    run = mlrun.train(HEALTHY, runs_dir=tmp_path)
    (run.path / "diagnostics.csv").unlink()
    info = json.loads((run.path / "run.json").read_text())
    del info["diagnostics"]
    info["advice"] = ["an old-style tip"]
    (run.path / "run.json").write_text(json.dumps(info))
    result = invoke("diagnose", run.path)
    assert result.exit_code == 0
    expected = f"{run.path} has no diagnostics (it was trained before mlrun measured layers)"
    assert result.output.splitlines() == [expected]


def test_diagnose_of_no_run_directory_is_one_line_and_exit_2(tmp_path):
    result = CliRunner().invoke(cli, ["diagnose", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: no such run directory: {tmp_path / 'nope'}"]


def test_train_prints_the_findings_with_their_remedies(tmp_path):
    spec = tmp_path / "sat.yaml"
    spec.write_text(json.dumps(SATURATING))
    result = invoke("train", spec, "--runs-dir", tmp_path / "runs", "-q")
    assert result.exit_code == 0
    assert "finding: saturation: " in result.output and "try --set model.batch_norm=true" in result.output


def test_compare_shows_the_number_of_findings(tmp_path):
    mlrun.train(SATURATING, runs_dir=tmp_path)
    mlrun.train(HEALTHY, runs_dir=tmp_path)
    result = invoke("compare", tmp_path, "--findings", "--format", "csv")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    header = lines[0].split(",")
    assert "findings" in header
    counts = sorted(int(line.split(",")[header.index("findings")]) for line in lines[1:])
    assert counts[0] == 0 and counts[1] >= 1
    assert "findings" not in invoke("compare", tmp_path, "--format", "csv").output.splitlines()[0].split(",")
