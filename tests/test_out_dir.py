"""`mlrun train --out DIR`: exactly that directory, refused when it holds anything but a finished run."""

import json

import pytest
from click.testing import CliRunner

import mlrun
from mlrun.cli.app import cli

SMALL = {
    "name": "small",
    "seed": 3,
    "data": {"dataset": "iris"},
    "model": {"hidden_layers": 1, "neurons": 8, "activation": "tanh"},
    "optimizer": {"name": "adam", "learning_rate": 0.01},
    "training": {"epochs": 4, "batch_size": 16},
}


def run_cli(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_train_writes_into_exactly_the_out_directory(tmp_path):
    out = tmp_path / "stage" / "run"
    run = mlrun.train(SMALL, runs_dir=tmp_path / "unused", out=out)
    assert run.path == out and run.status == "completed"
    assert json.loads((out / "run.json").read_text())["status"] == "completed"
    assert (out / "metrics.json").is_file() and (out / "history.csv").is_file()
    assert not (tmp_path / "unused").exists()


def test_a_non_empty_out_directory_is_refused_without_force_and_replaced_with_it(tmp_path):
    first = mlrun.train(SMALL, out=tmp_path / "run")
    (first.path / "leftover.txt").write_text("from the first run")
    with pytest.raises(mlrun.ConfigError, match="not empty; give --force"):
        mlrun.train(SMALL, out=tmp_path / "run")
    second = mlrun.train({**SMALL, "seed": 9}, out=tmp_path / "run", force=True)
    assert second.status == "completed" and not (second.path / "leftover.txt").exists()
    assert json.loads((second.path / "run.json").read_text())["seed"] == 9


def test_force_never_empties_a_directory_mlrun_did_not_write(tmp_path):
    (tmp_path / "notes.txt").write_text("the user's own file")
    with pytest.raises(mlrun.ConfigError, match="holds no mlrun run"):
        mlrun.train(SMALL, out=tmp_path, force=True)
    assert (tmp_path / "notes.txt").read_text() == "the user's own file"


def test_an_interrupted_out_run_resumes_in_place(tmp_path):
    class StopAfter2:
        def on_epoch_end(self, trainer, logs):
            if trainer.epoch == 2:
                trainer.request_stop("interrupted")

    straight = mlrun.train(SMALL, out=tmp_path / "a")
    stopped = mlrun.train(SMALL, out=tmp_path / "b", callbacks=[StopAfter2()])
    assert stopped.status == "interrupted"
    resumed = mlrun.resume(tmp_path / "b")
    assert resumed.path == tmp_path / "b" and resumed.status == "completed"
    assert resumed.metrics == straight.metrics


def test_cli_out_refusals_are_one_line_with_exit_code_2(tmp_path):
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(json.dumps(SMALL))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    for args, message in [
        (["--out", tmp_path / "busy"], "is not empty; give --force"),
        (["--out", tmp_path / "o", "--runs-dir", tmp_path], "--runs-dir does not apply"),
        (["--force"], "--force only applies with --out"),
    ]:
        result = run_cli("train", tiny, "--quiet", *args)
        assert result.exit_code == 2, result.output
        assert result.output.strip().splitlines() == [f"error: {result.output.strip()[7:]}"]
        assert message in result.output
    assert run_cli("train", tiny, "--quiet", "--out", tmp_path / "o").exit_code == 0
    assert (tmp_path / "o" / "metrics.json").is_file()
