"""mlrun compare: rows, filters, sorting, seed groups, formats, broken directories, stale runs, CLI."""

from __future__ import annotations

import csv
import importlib
import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mlrun.cli.app import cli
from mlrun.comparison import formats as row_formats
from mlrun.comparison import keys as row_keys
from mlrun.comparison import rows as run_rows
from mlrun.comparison import select as cmp

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_compare.py"
BASE = {"name": "digits", "seed": 0, "data.dataset": "digits", "model.activation": "relu",
        "optimizer": "adam", "optimizer.learning_rate": 0.001, "training.epochs": 20}


def classification(acc: float, log_loss: float = 0.3) -> dict:
    split = {"accuracy": acc, "precision": acc - 0.01, "recall": acc - 0.02, "f1": acc - 0.01,
             "f1_macro": acc - 0.015, "roc_auc": min(1.0, acc + 0.03), "pr_auc": acc, "log_loss": log_loss,
             "confusion_matrix": [[10, 1], [2, 12]]}
    return {"train": dict(split, accuracy=min(1.0, acc + 0.02)), "validation": dict(split), "test": split}


def make_run(root: Path, dirname: str, params=None, metrics=None, status="completed", **fields) -> Path:
    """A run directory as runs.py writes it (run.json + metrics.json), for tests and nothing else."""
    path = root / dirname
    path.mkdir(parents=True)
    params = {**BASE, **(params or {})}
    run = {"name": dirname, "kind": "train", "status": status, "stop_reason": "max_epochs", "epochs": 20,
           "seed": params.get("seed", 0), "smoke": False, "pid": 1, "host": "elsewhere",
           "started": "2025-01-01T00:00:00+00:00", "finished": None, "heartbeat": time.time(),
           "params": params, "resolved": {}, "timings": {"train_seconds": 9.0, "total_seconds": 10.0},
           "command": ["mlrun", "train"], "versions": {}, "error": None, **fields}
    (path / "run.json").write_text(json.dumps(run, indent=2))
    if metrics is not None:
        (path / "metrics.json").write_text(json.dumps(metrics))
    return path


def seconds(total: float) -> dict:
    return {"train_seconds": total - 1.0, "total_seconds": total}


@pytest.fixture
def runs(tmp_path) -> Path:
    """Four classification runs: relu/elu × lr, with distinct accuracies."""
    root = tmp_path / "runs"
    make_run(root, "a", {"model.activation": "relu"}, classification(0.90, 0.40), timings=seconds(30.0))
    make_run(root, "b", {"model.activation": "elu"}, classification(0.95, 0.20), timings=seconds(10.0))
    make_run(root, "c", {"model.activation": "leaky_relu", "model.activation.alpha": 0.2},
             classification(0.93, 0.25), timings=seconds(20.0))
    make_run(root, "d", {"model.activation": "elu", "optimizer.learning_rate": 0.01},
             classification(0.80, 0.70), status="diverged", timings=seconds(5.0))
    return root


def names(rows) -> list[str]:
    return [row["run"] for row in rows]


# ---------------------------------------------------------------- rows and columns


def test_row_is_flat_with_params_and_scalar_metrics(runs):
    row = next(r for r in cmp.compare([runs]) if r["run"] == "c")
    assert row["status"] == "completed" and row["duration"] == 20.0 and row["epochs"] == 20
    assert row["path"] == str(runs / "c")
    assert row["model.activation"] == "leaky_relu" and row["model.activation.alpha"] == 0.2
    assert row["test.accuracy"] == 0.93 and row["validation.log_loss"] == 0.25
    assert row["train.accuracy"] == pytest.approx(0.95)
    assert not any("confusion_matrix" in key for key in row)


def test_columns_show_only_differing_params_and_main_metrics(runs):
    rows = cmp.compare([runs])
    params = ["model.activation", "model.activation.alpha", "optimizer.learning_rate"]
    metrics = ["test.accuracy", "test.f1_macro", "test.roc_auc", "test.log_loss"]
    assert rows.columns == ["run", "status", "duration", "epochs", *params, *metrics]
    every = cmp.compare([runs], all_params=True).columns
    assert {"data.dataset", "optimizer", "training.epochs", "seed", "name"} <= set(every)


def test_differing_keys_hides_name_and_shows_seed_only_when_it_differs():
    rows = [{"run": "x", "status": "completed", "name": "p", "seed": 0, "lr": 0.1, "test.accuracy": 0.5},
            {"run": "y", "status": "completed", "name": "q", "seed": 0, "lr": 0.2, "test.accuracy": 0.6}]
    assert row_keys.differing_keys(rows) == ["lr"]
    rows[1]["seed"] = 1
    assert row_keys.differing_keys(rows) == ["seed", "lr"]
    rows[1]["extra"] = [64, 32]  # present in one row only: that is a difference too
    assert row_keys.differing_keys(rows) == ["seed", "lr", "extra"]
    assert row_keys.differing_keys(rows[:1]) == []


def test_metrics_option_chooses_columns_and_bare_names_mean_test(runs):
    rows = cmp.compare([runs], metrics="f1,validation.accuracy")
    assert rows.columns[-2:] == ["test.f1", "validation.accuracy"]
    assert names(rows) == ["b", "c", "a", "d"]  # sorted by the first chosen metric, test.f1 descending
    with pytest.raises(ValueError, match="did you mean.*test.accuracy"):
        cmp.compare([runs], metrics="test.acuracy")


# ---------------------------------------------------------------- sorting, filters, top


def test_default_sort_is_test_accuracy_descending(runs):
    assert names(cmp.compare([runs])) == ["b", "c", "a", "d"]


def test_losses_sort_ascending_and_direction_can_be_forced(runs):
    assert names(cmp.compare([runs], sort="test.log_loss")) == ["b", "c", "a", "d"]
    assert names(cmp.compare([runs], sort="log_loss", descending=True)) == ["d", "a", "c", "b"]
    assert names(cmp.compare([runs], sort="duration")) == ["d", "b", "c", "a"]
    assert names(cmp.compare([runs], sort="test.accuracy", descending=False)) == ["d", "a", "c", "b"]


def test_regression_default_sort_is_test_rmse_ascending(tmp_path):
    for name, rmse in (("r1", 3.0), ("r2", 1.5), ("r3", 2.0)):
        metrics = {"test": {"rmse": rmse, "r2": 1 / rmse, "mse": rmse**2}}
        make_run(tmp_path, name, {"seed": int(rmse * 2)}, metrics)
    rows = cmp.compare([tmp_path])
    assert names(rows) == ["r2", "r3", "r1"]
    assert rows.columns[-2:] == ["test.rmse", "test.r2"]


def test_missing_values_sort_last_in_both_directions(runs, tmp_path):
    make_run(runs, "e", {"model.activation": "selu"}, {"test": {"accuracy": None}})
    make_run(runs, "f", {"model.activation": "tanh"}, status="running", pid=os.getpid(),
             host=socket.gethostname())  # no metrics.json yet
    assert names(cmp.compare([runs]))[-2:] == ["e", "f"]
    assert names(cmp.compare([runs], descending=False))[-2:] == ["e", "f"]


def test_sort_by_a_text_parameter_is_ascending(runs):
    assert names(cmp.compare([runs], sort="model.activation")) == ["b", "d", "c", "a"]


def test_unknown_sort_key_names_near_matches(runs):
    with pytest.raises(ValueError, match="sort key 'optimizer.learning_rat'.*optimizer.learning_rate"):
        cmp.compare([runs], sort="optimizer.learning_rat")


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("model.activation=elu", ["b", "d"]),
        ("model.activation!=elu", ["c", "a"]),
        ("test.accuracy>=0.93", ["b", "c"]),
        ("test.accuracy>0.93", ["b"]),
        ("test.accuracy<=0.9", ["a", "d"]),
        ("test.accuracy<0.9", ["d"]),
        ("optimizer.learning_rate=1e-2", ["d"]),  # numbers compare numerically
        ("optimizer.learning_rate==0.001", ["b", "c", "a"]),
        ("model.activation~LEAKY", ["c"]),  # case-insensitive substring
        ("model.activation~elu", ["b", "c", "a", "d"]),
        ("status=diverged", ["d"]),
        ("model.activation.alpha=null", ["b", "a", "d"]),  # absent is null
        ("accuracy>0.92", ["b", "c"]),  # a bare metric name means test.<name>
    ],
)
def test_each_filter_operator(runs, expr, expected):
    assert names(cmp.compare([runs], filters=[expr])) == expected


def test_filters_are_anded_and_booleans_read_as_yaml(tmp_path):
    make_run(tmp_path, "p", {"model.batch_norm": True, "seed": 1}, classification(0.9))
    make_run(tmp_path, "q", {"model.batch_norm": False, "seed": 2}, classification(0.8))
    make_run(tmp_path, "r", {"model.batch_norm": True, "seed": 3}, classification(0.7))
    assert names(cmp.compare([tmp_path], filters=["model.batch_norm=true"])) == ["p", "r"]
    assert names(cmp.compare([tmp_path], filters=["model.batch_norm=no"])) == ["q"]
    assert names(cmp.compare([tmp_path], filters=["model.batch_norm=yes", "seed>=2"])) == ["r"]


def test_bad_filters_raise_value_error(runs):
    with pytest.raises(ValueError, match="did you mean.*model.activation"):
        cmp.compare([runs], filters=["model.activaton=elu"])
    with pytest.raises(ValueError, match="needs a number"):
        cmp.compare([runs], filters=["test.accuracy>high"])
    with pytest.raises(ValueError, match="bad filter"):
        cmp.compare([runs], filters=["just-a-word"])


def test_top_keeps_the_best_rows(runs):
    assert names(cmp.compare([runs], top=2)) == ["b", "c"]
    assert names(cmp.compare([runs], top=1, sort="test.log_loss", descending=True)) == ["d"]


# ---------------------------------------------------------------- seed groups


def test_group_mean_and_sample_std_match_numpy(tmp_path):
    accs = {"relu": [0.91, 0.93, 0.96], "elu": [0.95, 0.97]}
    for act, values in accs.items():
        for seed, acc in enumerate(values):
            make_run(tmp_path, f"{act}-{seed}", {"model.activation": act, "seed": seed}, classification(acc),
                     timings={"total_seconds": 10.0 + seed})
    make_run(tmp_path, "tanh-0", {"model.activation": "tanh"}, classification(0.5))
    rows = cmp.compare([tmp_path], group=True)
    assert names(rows) == ["digits"] * 3
    assert [row["model.activation"] for row in rows] == ["elu", "relu", "tanh"]  # ranked by the mean
    for row in rows[:2]:
        x = np.array(accs[row["model.activation"]])
        assert row["n"] == len(x) and row["seeds"] == list(range(len(x)))
        assert row["test.accuracy.mean"] == pytest.approx(x.mean(), rel=1e-12)
        assert row["test.accuracy"] == row["test.accuracy.mean"]  # the bare key, for --sort and old code
        assert row["test.accuracy.std"] == pytest.approx(x.std(ddof=1), rel=1e-12)
        assert row["duration"] == pytest.approx(np.mean(10.0 + np.arange(len(x))))
    assert rows[2]["n"] == 1 and rows[2]["test.accuracy"] == 0.5 and rows[2]["test.accuracy.std"] is None
    assert rows.columns[:5] == ["run", "n", "status", "duration", "epochs"]
    assert "test.accuracy.std" in rows.columns and "seed" not in rows.columns
    assert "test.accuracy.mean" in rows.columns and "test.accuracy" not in rows.columns


def test_group_columns_are_named_mean_and_std_in_every_format(tmp_path):
    for seed, acc in enumerate([0.90, 0.94]):
        make_run(tmp_path, f"r-{seed}", {"seed": seed}, classification(acc))
    text = invoke(tmp_path, "--group", "--format", "csv").output
    (row,) = csv.DictReader(io.StringIO(text))
    assert float(row["test.accuracy.mean"]) == pytest.approx(0.92) and "test.accuracy" not in row
    (item,) = json.loads(invoke(tmp_path, "--group", "--format", "json").output)
    assert item["test.accuracy.mean"] == pytest.approx(0.92) and "test.accuracy" not in item
    header = invoke(tmp_path, "--group", "--format", "markdown").output.splitlines()[0]
    assert "test.accuracy.mean" in header and "test.accuracy.std" not in header  # folded: "0.92 ± 0.028"
    table = invoke(tmp_path, "--group").output
    assert "0.92 ± 0.02828" in table
    make_run(tmp_path, "other", {"seed": 0, "model.activation": "tanh"}, classification(0.99))
    for key in ("test.accuracy.mean", "accuracy"):  # both name the group's mean for --sort
        order = json.loads(invoke(tmp_path, "--group", "--format", "json", "--sort", key).output)
        assert [item["test.accuracy.mean"] for item in order] == pytest.approx([0.99, 0.92])


def test_group_counts_statuses_and_skips_null_metrics(tmp_path):
    make_run(tmp_path, "s0", {"seed": 0}, {"test": {"accuracy": 0.8}})
    make_run(tmp_path, "s1", {"seed": 1}, {"test": {"accuracy": None}}, status="diverged")
    make_run(tmp_path, "s2", {"seed": 2}, {"test": {"accuracy": 0.9}})
    (row,) = cmp.compare([tmp_path], group=True)
    assert row["status"] == "2 completed, 1 diverged" and row["n"] == 3
    assert row["test.accuracy"] == pytest.approx(0.85)
    assert row["test.accuracy.std"] == pytest.approx(np.std([0.8, 0.9], ddof=1))


# ---------------------------------------------------------------- formats


def test_csv_parses_back_to_the_same_rows(runs):
    rows = cmp.compare([runs])
    cols = row_formats.machine_columns(rows, rows.columns)
    back = list(csv.DictReader(io.StringIO(row_formats.to_csv(rows, cols))))
    assert len(back) == len(rows) and list(back[0]) == cols
    for row, parsed in zip(rows, back):
        for key in cols:
            value = row.get(key)
            if isinstance(value, float):
                assert float(parsed[key]) == value  # full precision
            else:
                assert parsed[key] == ("" if value is None else str(value))


def test_json_parses_back_to_the_same_rows(runs):
    rows = cmp.compare([runs], group=True)
    cols = row_formats.machine_columns(rows, rows.columns)
    assert json.loads(row_formats.to_json(rows, cols)) == [{c: row.get(c) for c in cols} for row in rows]


def test_markdown_is_a_github_table_with_the_best_values_bold(runs):
    rows = cmp.compare([runs])
    lines = row_formats.to_markdown(rows, rows.columns, precision=3).splitlines()
    assert len(lines) == 2 + len(rows)
    assert lines[0].startswith("| run | status | duration |")
    assert lines[1].count("|") == len(rows.columns) + 1 and "---:" in lines[1]
    assert all(line.count("|") == len(rows.columns) + 1 for line in lines)
    assert "| **0.95** |" in lines[2] and "| **0.2** |" in lines[2]  # best accuracy and log loss: run b
    assert "| 0.93 |" in lines[3] and "| 20.0s |" in lines[3]


def test_markdown_folds_std_into_mean():
    rows = [{"run": "g", "n": 2, "test.accuracy": 0.912345, "test.accuracy.std": 0.0123456}]
    text = row_formats.to_markdown(rows, ["run", "n", "test.accuracy", "test.accuracy.std"], precision=2)
    assert text.splitlines()[0] == "| run | n | test.accuracy |"
    assert "**0.91 ± 0.012**" in text


def test_format_value_precision_and_durations():
    assert row_formats.format_value(0.123456, 3) == "0.123"
    assert row_formats.format_value(1234.5678, 2) == "1.2e+03"
    assert row_formats.format_value(None) == "" and row_formats.format_value(True) == "true"
    assert row_formats.format_value([64, 32]) == "[64, 32]"
    assert [row_formats.format_duration(s) for s in (12.34, 125, 7500)] == ["12.3s", "2m05s", "2h05m"]


# ---------------------------------------------------------------- broken and foreign directories, status


def test_corrupt_json_becomes_an_unreadable_row_and_a_warning(runs):
    bad = runs / "broken"
    bad.mkdir()
    (bad / "run.json").write_text('{"status": "completed", "params": {')
    half = make_run(runs, "half", {"seed": 9}, classification(0.99))
    (half / "metrics.json").write_text("{not json")
    seen = []
    rows = cmp.compare([runs], on_warning=seen.append)
    by_name = {row["run"]: row for row in rows}
    assert by_name["broken"]["status"] == "unreadable" and by_name["half"]["status"] == "unreadable"
    assert by_name["half"]["seed"] == 9  # run.json was fine: its params are kept
    assert len(seen) == 2 and rows.warnings == seen
    assert any("broken" in m and "run.json is not valid JSON" in m for m in seen)
    assert any("half" in m and "metrics.json" in m for m in seen)
    assert names(rows)[-2:] == ["broken", "half"]  # no metrics: last
    with pytest.warns(run_rows.RunWarning) as record:  # the default: Python warnings
        cmp.compare([runs])
    assert sorted(str(w.message) for w in record) == sorted(seen)


def test_foreign_directories_are_ignored_or_skipped_with_a_warning(runs):
    (runs / "notes").mkdir()
    (runs / "notes" / "readme.txt").write_text("not a run")
    (runs / ".hidden" / "x").mkdir(parents=True)
    other = runs / "other-tool"
    other.mkdir()
    (other / "run.json").write_text(json.dumps({"id": 3, "artifacts": []}))
    seen = []
    rows = cmp.compare([runs], on_warning=seen.append)
    assert sorted(names(rows)) == ["a", "b", "c", "d"]
    assert len(seen) == 1 and "other-tool" in seen[0] and "not an mlrun run" in seen[0]


def test_missing_path_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        cmp.compare([tmp_path / "nowhere"])


def test_a_run_directory_or_its_run_json_can_be_given_directly(runs):
    assert names(cmp.compare([runs / "b"])) == ["b"]
    assert names(cmp.compare([runs / "c" / "run.json", runs / "c"])) == ["c"]  # no duplicates


def test_running_run_with_a_dead_pid_is_stale(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    here = socket.gethostname()
    make_run(tmp_path, "dead", status="running", pid=proc.pid, host=here)
    make_run(tmp_path, "alive", {"seed": 1}, status="running", pid=os.getpid(), host=here)
    make_run(tmp_path, "silent", {"seed": 2}, status="running", pid=1, host="elsewhere",
             heartbeat=time.time() - 7200)
    make_run(tmp_path, "remote", {"seed": 3}, status="running", pid=1, host="elsewhere")
    status = {row["run"]: row["status"] for row in cmp.compare([tmp_path])}
    assert status == {"dead": "stale", "alive": "running", "silent": "stale", "remote": "running"}


def test_smoke_and_lr_find_runs_only_on_request(tmp_path):
    make_run(tmp_path, "train", {"seed": 1}, classification(0.9))
    make_run(tmp_path, "smoke", {"seed": 2}, classification(0.5), smoke=True)
    make_run(tmp_path, "lrf", {"seed": 3}, {}, kind="lr_find")
    assert names(cmp.compare([tmp_path])) == ["train"]
    assert names(cmp.compare([tmp_path], include_smoke=True)) == ["train", "smoke"]
    assert names(cmp.compare([tmp_path], kind="lr_find")) == ["lrf"]
    assert sorted(names(cmp.compare([tmp_path], kind=None, include_smoke=True))) == ["lrf", "smoke", "train"]


def test_bench_tree_is_read_back_whole(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_compare", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.build_tree(str(tmp_path), n=40, seed=1)
    rows = cmp.compare([tmp_path], kind=None)
    assert len(rows) == 40
    acc = [row["test.accuracy"] for row in rows]
    assert acc == sorted(acc, reverse=True)
    assert "model.activation" in rows.columns and "test.log_loss" in rows.columns
    assert sum(row["n"] for row in cmp.compare([tmp_path], group=True)) == 40


# ---------------------------------------------------------------- CLI


def invoke(*args):
    return CliRunner().invoke(cli, ["compare", *map(str, args)])


def test_cli_missing_path_is_exit_2_without_traceback(tmp_path):
    result = invoke(tmp_path / "nowhere")
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: no such file or directory")
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_cli_bad_filter_is_exit_2_with_suggestion(runs):
    result = invoke(runs, "--filter", "model.activaton=elu")
    assert result.exit_code == 2 and "did you mean" in result.output


def test_cli_table_lists_runs_in_order(runs):
    result = invoke(runs, "--top", "3")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    order = [next(i for i, line in enumerate(lines) if line.lstrip("│ ").startswith(f"{n} ")) for n in "bca"]
    assert order == sorted(order) and "diverged" not in result.output


def test_cli_json_and_csv_formats(runs):
    rows = json.loads(invoke(runs, "--format", "json", "--filter", "model.activation=elu").output)
    assert [r["run"] for r in rows] == ["b", "d"] and rows[0]["path"] == str(runs / "b")
    text = invoke(runs, "--format", "csv", "--sort", "duration", "--desc").output
    assert [r["run"] for r in csv.DictReader(io.StringIO(text))] == ["a", "c", "b", "d"]
    md = invoke(runs, "--format", "markdown", "--group", "--precision", "2").output
    assert md.startswith("| run | n | status |")


def test_cli_warns_about_corrupt_runs_on_stderr(runs):
    (runs / "broken").mkdir()
    (runs / "broken" / "run.json").write_text("{")
    result = invoke(runs, "--format", "csv")
    assert result.exit_code == 0 and "warning:" in result.stderr and "broken" in result.stderr
    assert "warning" not in result.stdout and ",unreadable," in result.stdout


def test_cli_plot_writes_a_png(runs):
    for name in "abcd":
        header = "epoch,learning_rate,momentum,train_loss,val_loss,grad_norm,val_accuracy,seconds\n"
        body = "".join(f"{e},0.001,,{1 / e},{1.2 / e},0.5,0.9,0.1\n" for e in range(1, 6))
        (runs / name / "history.csv").write_text(header + body)
    out = runs.parent / "curves.png"
    result = invoke(runs, "--plot", out, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_filters_matching_nothing_say_how_many_runs_they_removed(runs, tmp_path):
    result = invoke(runs, "--filter", "test.accuracy>0.99", "--filter", "model.activation=elu")
    assert result.exit_code == 0
    assert result.stderr.strip() == (f"no runs match: the filters removed all 4 runs found under {runs} "
                                     "(test.accuracy>0.99 and model.activation=elu)")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert invoke(empty).stderr.strip() == f"no train runs found under {empty}"
    assert cmp.compare([runs], filters=["test.accuracy>0.99"]).loaded == 4


def test_lr_find_runs_show_suggestion_rule_and_steps(tmp_path):
    for name, lr, rule in (("f1", 0.007, "minimum"), ("f2", 0.0014, "valley")):
        make_run(tmp_path, name, kind="lr_find", steps=31, rule=rule, suggestion=lr,
                 suggestions={"minimum": 0.007, "steepest": 0.03, "valley": 0.0014})
    rows = cmp.compare([tmp_path], kind="lr_find")
    assert rows.columns[-3:] == ["lr_find.suggestion", "lr_find.rule", "lr_find.steps"]
    assert {r["run"]: (r["lr_find.suggestion"], r["lr_find.rule"], r["lr_find.steps"]) for r in rows} == {
        "f1": (0.007, "minimum", 31), "f2": (0.0014, "valley", 31)}
    chosen = cmp.compare([tmp_path], kind="lr_find", metrics="suggestion,steepest", sort="suggestion")
    assert chosen.columns[-2:] == ["lr_find.suggestion", "lr_find.steepest"] and names(chosen) == ["f2", "f1"]
    result = invoke(tmp_path, "--kind", "lr_find", "--format", "csv")
    assert result.exit_code == 0 and "lr_find.rule" in result.stdout and "valley" in result.stdout


def _with_history(path: Path, scale: float) -> Path:
    header = "epoch,learning_rate,momentum,train_loss,val_loss,grad_norm,val_accuracy,seconds\n"
    body = "".join(f"{e},0.001,,{scale / e},{1.2 * scale / e + 0.01 * e},0.5,0.9,0.1\n" for e in range(1, 16))
    (path / "history.csv").write_text(header + body)
    return path


def test_plot_labels_are_distinct_and_name_only_values_a_run_has(tmp_path):
    root = tmp_path / "runs"
    _with_history(make_run(root, "relu-1", {"model.activation": "relu"}), 1.0)
    _with_history(make_run(root, "relu-2", {"model.activation": "relu"}), 1.1)  # same configuration
    _with_history(make_run(root, "leaky", {"model.activation": "leaky_relu", "model.activation.alpha": 0.2}), 0.9)
    labels = row_formats.plot_curves(cmp.compare([root], sort="run"), tmp_path / "p.png")
    assert labels == ["model.activation=leaky_relu, model.activation.alpha=0.2", "model.activation=relu [relu-1]",
                      "model.activation=relu [relu-2]"]


def test_plot_of_groups_draws_mean_and_band_with_n(tmp_path, monkeypatch):
    from mlrun.runs import plots

    root = tmp_path / "runs"
    for act, base in (("relu", 1.0), ("elu", 0.7)):
        for seed in range(3):
            _with_history(make_run(root, f"{act}-{seed}", {"model.activation": act, "seed": seed}), base + 0.1 * seed)
    drawn = {}
    save = plots._save

    def spy(fig, path, title, **options):
        ax = fig.axes[0]
        drawn["lines"] = {line.get_label(): line.get_ydata() for line in ax.get_lines()}
        drawn["bands"] = len(ax.collections)
        return save(fig, path, title, **options)

    monkeypatch.setattr(plots, "_save", spy)
    labels = row_formats.plot_curves(cmp.compare([root], group=True, sort="run"), tmp_path / "g.png")
    assert labels == ["model.activation=elu", "model.activation=relu"]
    mean = drawn["lines"]["model.activation=elu (n=3, mean ± std)"]
    assert mean[0] == pytest.approx(np.mean([1.2 * (0.7 + 0.1 * s) + 0.01 for s in range(3)]))
    assert drawn["bands"] == 2


def test_plot_of_thirty_runs_warns_about_nothing(tmp_path):
    import warnings

    root = tmp_path / "runs"
    for i in range(30):
        params = {"model.activation": "leaky_relu", "model.activation.alpha": i / 100,
                  "optimizer.learning_rate": 10 ** (-i / 10), "model.neurons": [64 + i, 32, 16],
                  "optimizer.beta_2": 0.9 + i / 1000, "training.batch_size": 16 + i, "model.dropout": i / 100}
        _with_history(make_run(root, f"r{i:02d}", params), 1.0 + i / 30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = invoke(root, "--plot", tmp_path / "thirty.png", "--format", "csv")
    assert result.exit_code == 0 and "tight" not in result.stderr.lower()
    assert (tmp_path / "thirty.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_group_warns_once_per_group_when_two_sweeps_of_one_grid_are_merged(tmp_path):
    import shutil

    import mlrun

    spec = {"name": "twice", "data": {"dataset": "iris"}, "model": {"hidden_layers": 1, "neurons": 4},
            "training": {"epochs": 2, "batch_size": 32}, "optimizer": {"name": "adam", "learning_rate": 0.01}}
    grid = {"optimizer.learning_rate": [0.01, 0.1]}
    first = mlrun.sweep(spec, grid=grid, seeds=2, jobs=1, runs_dir=tmp_path)
    assert first.exit_code == 0
    shutil.copytree(first.path, tmp_path / "copy")  # the same sweep twice under one folder
    heard: list[str] = []
    rows = cmp.compare([tmp_path], group=True, on_warning=heard.append)
    assert sorted(r["n"] for r in rows) == [4, 4] and rows.warnings == heard
    assert sorted(heard) == [
        f"group twice optimizer.learning_rate={rate} holds seed 0 2 times, seed 1 2 times (n = 4 from 2 seeds): "
        "runs repeated (two sweeps of one grid?), so its ± is not over independent seeds" for rate in (0.01, 0.1)]
    assert cmp.compare([first.path], group=True, on_warning=heard.append).warnings == []  # one sweep: no warning
    out = CliRunner().invoke(cli, ["compare", "--group", str(tmp_path)])
    assert out.exit_code == 0
    lines = [line for line in out.output.splitlines() if line.startswith("warning: group twice")]
    assert len(lines) == 2 and "learning_rate=0.1 holds seed 0 2 times" in " ".join(lines)
