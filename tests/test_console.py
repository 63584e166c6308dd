"""Terminal rendering at narrow widths (rich Console(width=...)) and the console summaries."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

import mlrun
from mlrun.cli.console import TrainProgress, fitted, render_run, run_summary
from mlrun.cli.sweep_view import SweepProgress, sweep_summary
from mlrun.experiment.record import Run

ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")
CLOCK = r"\d:\d\d:\d\d"
IRIS = {"name": "a-rather-long-run-name", "seed": 0, "data": {"dataset": "iris"},
        "model": {"hidden_layers": 1, "neurons": 4}, "training": {"epochs": 12}}


def terminal(width: int) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(width=width, force_terminal=True, file=buf, color_system=None, highlight=False), buf


def lines(buf: io.StringIO) -> list[str]:
    return [line for line in re.split(r"[\r\n]", ANSI.sub("", buf.getvalue())) if line.strip()]


@pytest.mark.parametrize("width", [80, 60])
def test_the_training_bar_keeps_counter_times_and_loss(tmp_path, width):
    console, buf = terminal(width)
    run = mlrun.train(IRIS, runs_dir=tmp_path, callbacks=[TrainProgress(console, 12, "accuracy", IRIS["name"])])
    last = lines(buf)[-1]
    assert len(last) <= width
    assert re.search(rf"epoch 12/12 {CLOCK} eta {CLOCK}  loss {run.history[-1]['train_loss']:.4g}", last), last
    assert "…" in last.split("━")[0]  # the long name gave way, not the numbers


def test_fitted_drops_whole_parts_from_the_right():
    assert fitted("3/9", ["loss 1.5", "val 2.5", "lr 0.1"], 20) == "3/9  loss 1.5"
    assert fitted("3/9", ["loss 1.5", "val 2.5"], 2) == "3/9"


@pytest.mark.parametrize("width", [80, 60])
def test_the_sweep_bar_and_table_keep_the_count_and_the_swept_axis(tmp_path, width):
    console, buf = terminal(width)
    grid = {"optimizer.learning_rate": [0.001, 0.003, 0.01]}
    result = mlrun.sweep({**IRIS, "name": "quickstart"}, grid=grid, jobs=1, runs_dir=tmp_path,
                         on_event=SweepProgress(console))
    bar = [line for line in lines(buf) if line.startswith("trials")][-1]
    assert re.match(rf"trials ━+ 3/3 {CLOCK}  running 0  failed 0", bar) and len(bar) <= width, bar
    buf.seek(0)
    buf.truncate()
    sweep_summary(console, result)
    table = "\n".join(lines(buf))
    assert "learning_rate" in table and "accuracy" in table
    for trial in result.trials:  # every row: its swept value and its whole main metric
        lr, accuracy = trial.overrides[0].partition("=")[2], f"{trial.metrics['test.accuracy']:.4g}"
        assert re.search(rf"│\s*{re.escape(lr)}\s*│\s*{re.escape(accuracy)}\s*│", table), table
    assert all(len(line) <= width for line in lines(buf) if "│" in line)


EARLY = {"name": "es", "seed": 0, "data": {"dataset": "iris"}, "model": {"hidden_layers": 1, "neurons": 16},
         "optimizer": {"name": "adam", "learning_rate": 0.05},
         "training": {"epochs": 40, "batch_size": 8,
                      "early_stopping": {"patience": 3, "monitor": "val_loss", "restore_best": True}}}


def test_early_stopping_summary_names_the_restored_epoch_and_piped_progress_prints_the_last(tmp_path):
    buf = io.StringIO()
    console = Console(width=80, file=buf, force_terminal=False)
    run = mlrun.train(EARLY, runs_dir=tmp_path, callbacks=[TrainProgress(console, 40, "accuracy", "es")])
    assert run.stop_reason == "early_stopping" and run.epochs == 13 and run.restored_epoch == 10
    assert run_summary(run) == ("completed (early_stopping) after 13 epochs; the weights are those of epoch 10,"
                                " the best (early_stopping.restore_best): the metrics below are theirs")
    printed = [int(m.group(1)) for m in re.finditer(r"^epoch (\d+)/40", buf.getvalue(), re.M)]
    assert printed == [1, 4, 8, 12, 13]  # every 4th, and the last epoch trained


def test_diverged_and_interrupted_summaries(tmp_path):
    spec = {"name": "dv", "seed": 0, "data": {"dataset": "iris"}, "model": {"hidden_layers": 1, "neurons": 8},
            "optimizer": {"name": "sgd", "learning_rate": 1000.0}, "training": {"epochs": 5}}
    run = mlrun.train(spec, runs_dir=tmp_path)
    assert run_summary(run) == "diverged in epoch 1 (0 epochs completed)"
    assert run.advice[0].startswith("the loss diverged in epoch 1 ")
    stopped = Run(tmp_path, "interrupted", "interrupted", {}, [], epochs=3)
    assert run_summary(stopped) == "interrupted after 3 epochs"
    one = Run(tmp_path, "completed", "max_epochs", {}, [], epochs=1)
    assert run_summary(one) == "completed (max_epochs) after 1 epoch"


@pytest.mark.parametrize(("args", "message"), [
    ([], "error: give a SPEC to train (a YAML file), or --resume RUN_DIR to continue one"),
    (["x.yaml", "--resume", "runs/x"], "error: give a SPEC or --resume RUN_DIR, not both"),
])  # fmt: skip
def test_train_says_which_of_spec_and_resume_is_wrong(args, message):
    from click.testing import CliRunner

    from mlrun.cli.app import cli

    result = CliRunner().invoke(cli, ["train", *args])
    assert result.exit_code == 2 and result.output.strip() == message


def test_registry_prints_docstrings_as_text_not_markup():
    from click.testing import CliRunner

    from mlrun.cli.app import cli

    text = " ".join(CliRunner().invoke(cli, ["registry"], terminal_width=400).output.split())
    for snippet in ("dy/dx = [x > 0]", "z[label]", "values[i]"):
        assert snippet in text


@pytest.mark.parametrize("command", [["registry"]])
def test_a_closed_pipe_is_not_an_error(command):
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "mlrun", *command], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does
    assert proc.wait(timeout=60) == 0 and proc.stderr.read() == b""


def _cli(*args):
    from click.testing import CliRunner

    from mlrun.cli.app import cli

    return CliRunner().invoke(cli, [*map(str, args)], terminal_width=80)


def test_help_summaries_are_whole_at_80_columns():
    listing = _cli("--help").output.split("Commands:")[1]
    rows = [line for line in listing.splitlines() if line.strip()]
    from mlrun.cli.app import cli

    assert len(rows) == len(cli.commands) and not [row for row in rows if row.endswith("...")]


def test_name_option_obeys_the_spec_rule_and_sweep_takes_set(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("name: s\ndata: {dataset: iris}\nmodel: {hidden_layers: 1, neurons: 4}\ntraining: {epochs: 1}\n")
    named = _cli("train", spec, "--name", "my run", "--runs-dir", tmp_path / "runs")
    assert named.exit_code == 2 and "only letters, digits" in named.output and "'my run'" in named.output
    assert not (tmp_path / "runs").exists()
    dry = _cli("sweep", spec, "--set", "training.epochs=3", "--grid", "model.neurons=2,3", "--dry-run")
    assert dry.exit_code == 0 and "2 trials" in dry.output
    plan_text = _cli("sweep", spec, "--set", "training.epochs=x", "--grid", "model.neurons=2", "--dry-run")
    assert plan_text.exit_code == 2 and "training.epochs" in plan_text.output


def test_regression_summary_says_the_loss_is_on_standardised_targets(tmp_path):
    spec = {"name": "reg", "data": {"dataset": "diabetes"}, "model": {"hidden_layers": 0}, "training": {"epochs": 1}}
    console, buf = terminal(200)
    render_run(console, mlrun.train(spec, runs_dir=tmp_path))
    assert "on standardised targets" in buf.getvalue() and "targets' own units" in buf.getvalue()


def test_readme_quotes_grid_values_with_spaces_and_documents_completion():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "--grid model.neurons=[64, 32]" not in readme  # the shell splits it at the space
    assert "_MLRUN_COMPLETE=bash_source mlrun" in readme
    assert "0.11 s" not in readme and "takes 0.6 s" not in readme  # one measured range-test speed


def test_run_summary_prints_user_text_as_text(tmp_path):
    console, buf = terminal(200)
    odd = tmp_path / "runs[bold]"
    render_run(console, Run(odd, "completed", "max_epochs", {}, [], epochs=1, advice=["z[label] is [x > 0]"],
                            warnings=["plots: values[i]"]))
    text = buf.getvalue()
    assert "advice: z[label] is [x > 0]" in text and "warning: plots: values[i]" in text
    assert f"run directory: {odd}" in text
