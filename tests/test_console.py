"""Terminal rendering at narrow widths (rich Console(width=...)) and the console summaries."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

import mlrun
from mlrun.cli.console import TrainProgress, fitted
from mlrun.cli.sweep_view import SweepProgress, sweep_summary

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
