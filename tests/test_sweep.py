"""Sweeps: the grid grammar, grid/random expansion, seeds, the manifest, failures, resume, Dask, the CLI."""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from mlrun import load_config as sweep_api_load
from mlrun import sweep as sweep_api
from mlrun.experiment import run as experiment
from mlrun.runs.discovery import run_dir_paths
from mlrun.runs.files import write_json
from mlrun.runs.history import read_history
from mlrun.spec.loading import load_config
from mlrun.spec.yaml_text import parse_yaml
from mlrun.sweeps.axes import Axis, SweepError, canonical, parse_grid, spec_axes, split_top_level
from mlrun.sweeps.cluster import check_cluster
from mlrun.sweeps.driver import resume_sweep
from mlrun.sweeps.executors import run_trial
from mlrun.sweeps.plan import expand, make_plan

MOONS = {"name": "moons", "data": {"dataset": "make_moons", "params": {"n_samples": 120, "noise": 0.2}},
         "model": {"hidden_layers": 1, "neurons": 4}, "training": {"epochs": 2}}
REGRESSION = {"name": "reg",
              "data": {"dataset": "make_regression", "params": {"n_samples": 80, "n_features": 3}},
              "model": {"hidden_layers": 1, "neurons": 4}, "training": {"epochs": 1}}


def manifest(path) -> dict:
    return json.loads((path / "sweep.json").read_text())


# -- the grid grammar ---------------------------------------------------------------------------------
def test_split_on_top_level_commas_only():
    assert split_top_level("{name: sgd, learning_rate: 0.05},{name: adam}") == [
        "{name: sgd, learning_rate: 0.05}", "{name: adam}"]
    assert split_top_level("[8, 8],[16],'a,b',range(1,3)") == ["[8, 8]", "[16]", "'a,b'", "range(1,3)"]


def test_grid_values_are_yaml_including_mappings():
    axis = parse_grid("optimizer={name: sgd, learning_rate: 0.05},{name: adam}")
    assert axis.key == "optimizer"
    assert axis.values == ({"name": "sgd", "learning_rate": 0.05}, {"name": "adam"})
    lr = parse_grid("optimizer.learning_rate=1e-3,0.01,3")
    assert lr.values == (0.001, 0.01, 3) and isinstance(lr.values[0], float)  # 1e-3 is a float, not text
    assert parse_grid("training.batch_size=32,full").values == (32, "full")
    assert parse_grid("model.neurons=[8, 8],[16]").values == ([8, 8], [16])


def test_range_expands_like_python_and_mixes_with_values():
    assert parse_grid("model.neurons=range(4,13,4)").values == (4, 8, 12)
    assert parse_grid("model.hidden_layers=0,range(2,4)").values == (0, 2, 3)
    assert parse_grid("x.y=range(5,1,-2)").values == (5, 3)


@pytest.mark.parametrize("text, words", [
    ("model.neurons", "KEY=V1,V2"),
    ("model.neurons=4,,8", "empty value"),
    ("model.neurons=4,4", "listed twice"),
    ("seed=0,1", "--seeds"),
    ("model.neurons=range(1.5,3)", "integers"),
    ("model.neurons=range(3,3)", "empty"),
    ("model.neurons=range(1,5,0)", "non-zero step"),
    ("optimizer={name: sgd", "unclosed"),
    ("9bad=1", "dotted spec key"),
])
def test_grid_errors_are_one_line(text, words):
    with pytest.raises(SweepError, match=words) as err:
        parse_grid(text)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("value", [1e-5, 0.05, 3, "full", "yes", "1e-3", True, None, [8, 16],
                                   {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9}])
def test_canonical_text_reads_back_as_the_same_value(value):
    text = canonical(value)
    assert "\n" not in text
    assert parse_yaml(text, "test") == value


def test_canonical_mapping_puts_name_first_then_sorted_keys():
    assert canonical({"momentum": 0.9, "name": "sgd", "learning_rate": 0.05}) == \
        "{name: sgd, learning_rate: 0.05, momentum: 0.9}"
    assert canonical(1e-5) == "1.0e-05"


# -- expansion ----------------------------------------------------------------------------------------
def test_grid_expansion_order_and_seeds():
    axes = [Axis("model.activation", ("relu", "elu")), Axis("optimizer.learning_rate", (0.1, 0.01))]
    trials = expand(axes, seed=7, seeds=3)
    assert len(trials) == 2 * 2 * 3
    assert [t.seed for t in trials[:4]] == [7, 8, 9, 7]  # a point's seeds sit together
    assert trials[0].overrides == ("model.activation=relu", "optimizer.learning_rate=0.1")
    assert trials[3].overrides == ("model.activation=relu", "optimizer.learning_rate=0.01")
    assert trials[6].overrides[0] == "model.activation=elu"
    assert trials[0].key == "model.activation=relu; optimizer.learning_rate=0.1; seed=7"
    assert len({t.key for t in trials}) == 12
    assert expand([], seed=3, seeds=2)[1].all_overrides == ["seed=4"]  # no axes: the spec over seeds


def test_random_search_bounds_types_and_reproducibility():
    axes = [Axis("optimizer.learning_rate", None, "log_uniform", 1e-4, 1.0),
            Axis("model.neurons", None, "int_uniform", 4, 6),
            Axis("training.l2", None, "uniform", 0.0, 0.5),
            Axis("model.activation", ("relu", "elu", "tanh"))]
    trials = expand(axes, "random", n_trials=300, seed=1)
    assert trials == expand(axes, "random", n_trials=300, seed=1)
    assert trials[:5] != expand(axes, "random", n_trials=5, seed=2)
    values = [dict(o.split("=", 1) for o in t.overrides) for t in trials]
    lrs = np.array([float(v["optimizer.learning_rate"]) for v in values])
    assert lrs.min() >= 1e-4 and lrs.max() <= 1.0
    assert abs(np.mean(np.log10(lrs)) - (-2.0)) < 0.2  # log10 uniform on [-4, 0]: mean -2, se 0.07
    assert {int(v["model.neurons"]) for v in values} == {4, 5, 6}  # max is included
    assert all(0.0 <= float(v["training.l2"]) <= 0.5 for v in values)
    assert {v["model.activation"] for v in values} == {"relu", "elu", "tanh"}


def test_random_search_draws_from_the_spec_seed_generator():
    axis = Axis("optimizer.learning_rate", None, "uniform", 0.0, 1.0)
    (trial,) = expand([axis], "random", n_trials=1, seed=5)
    expected = np.random.default_rng(5).uniform(0.0, 1.0)
    assert float(trial.overrides[0].split("=")[1]) == expected


def test_repeated_random_points_count_once():
    trials = expand([Axis("model.activation", ("relu", "elu"))], "random", n_trials=50, seed=0)
    assert sorted(t.overrides[0] for t in trials) == ["model.activation=elu", "model.activation=relu"]


def test_spec_sweep_section():
    method, axes, n, seeds = spec_axes({"method": "random", "n_trials": 5, "seeds": 2, "parameters": {
        "optimizer.learning_rate": {"distribution": "log_uniform", "min": 1e-4, "max": 0.1},
        "model.activation": {"values": ["relu", "elu"]}, "model.neurons": [8, 16],
        "training.epochs": {"value": 3}}})
    assert (method, n, seeds) == ("random", 5, 2)
    assert [a.key for a in axes] == ["optimizer.learning_rate", "model.activation", "model.neurons",
                                     "training.epochs"]
    assert axes[0].distribution == "log_uniform" and axes[3].values == (3,)


@pytest.mark.parametrize("section, words", [
    ({"method": "bayes"}, "grid or random"),
    ({"parameters": {"a.b": {"distribution": "log_uniform", "min": 0, "max": 1}}}, "0 < min"),
    ({"parameters": {"a.b": {"distribution": "int_uniform", "min": 1.5, "max": 3}}}, "integers"),
    ({"parameters": {"a.b": {"distribution": "normal", "min": 0, "max": 1}}}, "one of"),
    ({"parameters": {"a.b": {"name": "sgd"}}}, "values"),
    ({"trials": 3}, "unknown keys"),
])
def test_spec_sweep_section_errors(section, words):
    with pytest.raises(SweepError, match=words):
        spec_axes(section)


def test_distribution_needs_random_search():
    spec = {**MOONS, "sweep": {"parameters": {"optimizer.learning_rate": {
        "distribution": "uniform", "min": 0.001, "max": 0.01}}}}
    with pytest.raises(SweepError, match="random"):
        make_plan(spec)
    assert len(make_plan(spec, random=3).trials) == 3


def test_random_search_without_axes_is_refused():
    with pytest.raises(SweepError, match="random search has nothing to draw from"):
        make_plan(MOONS, random=3)
    with pytest.raises(SweepError, match="nothing to draw from"):
        make_plan({**MOONS, "sweep": {"method": "random", "n_trials": 4}})
    assert len(make_plan(MOONS, grid=["model.neurons=2,3"], random=2).trials) >= 1


def test_command_line_axis_replaces_the_spec_axis():
    spec = {**MOONS, "sweep": {"parameters": {"model.activation": ["relu", "elu"], "model.neurons": [2, 3]}}}
    plan = make_plan(spec, grid=["model.activation=tanh", "training.epochs=1,2"], seeds=1)
    assert [a.key for a in plan.axes] == ["model.activation", "model.neurons", "training.epochs"]
    assert len(plan.trials) == 1 * 2 * 2
    assert plan.configs[0].model.activation == "tanh"


def test_renaming_a_part_the_spec_configures_suggests_the_mapping_form():
    spec = {**MOONS, "optimizer": {"name": "nadam", "learning_rate": 0.01, "beta_2": 0.99}}
    with pytest.raises(SweepError) as err:
        make_plan(spec, grid=["optimizer.name=sgd,adam"])
    message = str(err.value)
    assert "sgd does not take beta_2" in message
    suggested = message.split("--grid '")[1].rstrip("'")
    # the same axis (sgd, adam; not the spec's nadam), each keeping the parameters it accepts
    assert suggested == "optimizer={name: sgd, learning_rate: 0.01},{name: adam, beta_2: 0.99, learning_rate: 0.01}"
    plan = make_plan(spec, grid=[suggested])  # the suggestion itself works
    assert [c.optimizer["name"] for c in plan.configs] == ["sgd", "adam"]
    assert plan.configs[1].optimizer["beta_2"] == 0.99 and plan.configs[0].optimizer["learning_rate"] == 0.01


def test_a_bad_value_fails_before_anything_runs(tmp_path):
    with pytest.raises(SweepError, match="model.activation=nosuch"):
        sweep_api(MOONS, grid={"model.activation": ["relu", "nosuch"]}, runs_dir=tmp_path)
    assert not list(tmp_path.iterdir())


# -- running: seeds, manifest, failures, resume ------------------------------------------------------
def test_one_seed_reproduces_train(tmp_path):
    res = sweep_api(MOONS, seeds=1, jobs=1, runs_dir=tmp_path / "s")
    run = experiment.train(load_config(MOONS), tmp_path / "t")
    trial = res.trials[0]
    assert trial.key == "seed=0" and trial.status == "completed"
    swept = json.loads((res.path / trial.run / "metrics.json").read_text())
    assert swept["test"] == run.metrics["test"]
    history = read_history(res.path / trial.run / "history.csv")
    expected = [h["train_loss"] for h in run.history]
    assert [h["train_loss"] for h in history] == pytest.approx(expected, rel=1e-6)


def test_manifest_and_run_directories(tmp_path):
    res = sweep_api(MOONS, grid={"model.activation": "relu,tanh"}, seeds=2, jobs=1, runs_dir=tmp_path)
    assert res.exit_code == 0 and res.counts == {"completed": 4}
    assert res.path.parent == tmp_path and res.path.name.startswith("moons-")
    m = manifest(res.path)
    assert list(m["trials"]) == [t.key for t in res.trials] == [
        "model.activation=relu; seed=0", "model.activation=relu; seed=1",
        "model.activation=tanh; seed=0", "model.activation=tanh; seed=1"]
    assert m["spec"] == MOONS and m["axes"] == [{"key": "model.activation", "values": ["relu", "tanh"]}]
    blob = json.dumps({"spec": MOONS, "axes": m["axes"], "method": "grid", "n_trials": None, "seeds": 2},
                      sort_keys=True, separators=(",", ":"))
    assert m["fingerprint"] == hashlib.sha256(blob.encode()).hexdigest()
    for key, trial in m["trials"].items():
        info = json.loads((res.path / trial["run"] / "run.json").read_text())
        assert info["status"] == "completed" and info["kind"] == "train"
        assert info["params"]["model.activation"] == key.split("=")[1].split(";")[0]
        assert info["seed"] == trial["seed"] and info["sweep"]["trial"] == key
        assert trial["metrics"]["test.accuracy"] == json.loads(
            (res.path / trial["run"] / "metrics.json").read_text())["test"]["accuracy"]
    assert len(run_dir_paths(res.path)) == 4  # compare sees every trial; sweep.json is not a run
    best = res.best()
    assert best.metrics["test.accuracy"] == max(t.metrics["test.accuracy"] for t in res.trials)


def test_a_failing_trial_is_recorded_and_the_others_complete(tmp_path):
    res = sweep_api(REGRESSION, grid={"loss": ["mse", "cosine", "mae"]}, jobs=1, runs_dir=tmp_path)
    assert [t.status for t in res.trials] == ["completed", "failed", "completed"]
    assert res.n_failed == 1 and res.exit_code == 1
    failed = res.trials[1]
    assert "cosine loss needs two or more targets" in failed.error
    info = json.loads((res.path / failed.run / "run.json").read_text())
    assert info["status"] == "failed" and "cosine" in info["error"]
    assert manifest(res.path)["trials"]["loss=cosine; seed=0"]["status"] == "failed"


def test_fail_fast_stops_at_the_first_failure(tmp_path):
    events = []
    res = sweep_api(REGRESSION, grid={"loss": ["cosine", "mse", "mae"]}, jobs=1, runs_dir=tmp_path,
                    fail_fast=True, on_event=lambda e, r, t=None: events.append((e, t and t.status)))
    assert res.stopped and res.exit_code == 1
    assert [t.status for t in res.trials][0] == "failed"
    assert all(t.status in ("pending", "interrupted") for t in res.trials[1:])
    assert events == [("start", None), ("trial", "failed"), ("end", None)]  # reported as it happened
    assert len(run_dir_paths(res.path)) == 1


def test_resume_reruns_only_failed_interrupted_and_missing(tmp_path):
    res = sweep_api(REGRESSION, grid={"loss": ["mse", "cosine", "mae", "huber"]}, jobs=1, runs_dir=tmp_path)
    m = manifest(res.path)
    kept = m["trials"]["loss=mse; seed=0"]["run"]
    failed_run = m["trials"]["loss=cosine; seed=0"]["run"]
    m["trials"]["loss=mae; seed=0"]["status"] = "interrupted"
    del m["trials"]["loss=huber; seed=0"]
    write_json(res.path / "sweep.json", m)
    again = resume_sweep(res.path, jobs=1)
    assert sorted(again.to_run) == [1, 2, 3]
    assert again.trials[0].run == kept  # completed: untouched
    assert [t.status for t in again.trials] == ["completed", "failed", "completed", "completed"]
    assert (res.path / ".superseded" / failed_run).is_dir()  # the old failure is kept out of compare's way
    # one directory per trial: the failed, interrupted and dropped trials' old ones are in .superseded/
    assert len(run_dir_paths(res.path)) == 4 and len(list((res.path / ".superseded").iterdir())) == 3
    assert resume_sweep(res.path, jobs=1).to_run == [1]  # only the (deterministic) failure is left


def test_resume_refuses_an_edited_spec(tmp_path):
    res = sweep_api(MOONS, jobs=1, runs_dir=tmp_path)
    m = manifest(res.path)
    m["spec"]["training"]["epochs"] = 3
    write_json(res.path / "sweep.json", m)
    with pytest.raises(SweepError, match="fingerprint"):
        resume_sweep(res.path)
    with pytest.raises(SweepError, match="not a sweep directory"):
        resume_sweep(tmp_path)


def test_ctrl_c_marks_the_running_trial_interrupted(tmp_path, monkeypatch):
    calls = []

    def flaky(index, cfg, csv_text=None):
        calls.append(index)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return run_trial(index, cfg, csv_text)

    monkeypatch.setattr(sys.modules["mlrun.sweeps.executors"], "run_trial", flaky)  # joblib_results looks it up there
    res = sweep_api(MOONS, grid={"model.neurons": [2, 3, 4]}, jobs=1, runs_dir=tmp_path)
    assert res.interrupted and res.exit_code == 130
    assert [t.status for t in res.trials] == ["completed", "interrupted", "pending"]
    assert len(run_dir_paths(res.path)) == 1  # nothing half-written
    monkeypatch.undo()
    again = resume_sweep(res.path, jobs=1)
    assert again.to_run == [1, 2] and again.exit_code == 0


def test_csv_travels_with_the_trial(tmp_path):
    data = tmp_path / "points.csv"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    rows = [f"{a:.4f},{b:.4f},{int(a + b > 0)}" for a, b in X]
    data.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    cfg = load_config({**MOONS, "data": {"dataset": "csv", "path": str(data), "target": "label"}})
    text = data.read_text()
    data.unlink()  # a remote worker has no copy of the file: the text is all it gets
    res = run_trial(0, cfg, text)
    assert res.error is None and res.outcome.status == "completed"
    assert res.outcome.data["rows"]["train"] + res.outcome.data["rows"]["test"] + \
        res.outcome.data["rows"]["validation"] == 60


# -- executors ----------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.timeout(180)
def test_joblib_processes(tmp_path):
    res = sweep_api(MOONS, grid={"model.neurons": [2, 3]}, jobs=2, runs_dir=tmp_path)
    assert res.counts == {"completed": 2} and res.workers == 2


class FakeClient:
    def __init__(self, found):
        self.found = found

    def run(self, fn):
        return self.found


def test_a_cluster_with_other_versions_is_refused():
    from mlrun.sweeps.executors import versions

    assert check_cluster(FakeClient({"tcp://a": versions(), "tcp://b": versions()})) == 2
    with pytest.raises(SweepError, match=r"tcp://b has mlrun 0\.0\.1 and numpy 1\.0\.0.*same versions"):
        check_cluster(FakeClient({"tcp://a": versions(), "tcp://b": ("0.0.1", "1.0.0")}))
    with pytest.raises(SweepError, match="no workers"):
        check_cluster(FakeClient({}))


# -- the command line ---------------------------------------------------------------------------------
@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "moons.yaml"
    path.write_text(json.dumps(MOONS))
    return path


def test_cli_dry_run(spec_file):
    from mlrun.cli.app import cli

    out = CliRunner().invoke(cli, ["sweep", str(spec_file), "--grid", "optimizer={name: sgd},{name: adam}",
                                   "--grid", "model.neurons=range(2,8)", "--seeds", "2", "--dry-run"])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[0].startswith("24 trials of sweep moons")
    assert "optimizer={name: sgd}  model.neurons=2  seed=1" in out.output
    assert "... and 14 more" in out.output


def test_cli_exit_codes(spec_file, tmp_path):
    from mlrun.cli.app import cli

    runner = CliRunner()
    bad = runner.invoke(cli, ["sweep", str(spec_file), "--grid", "model.neurons=1,,2"])
    assert bad.exit_code == 2 and bad.output.startswith("error:") and len(bad.output.splitlines()) == 1
    both = runner.invoke(cli, ["sweep", "--resume", str(tmp_path), "--grid", "a.b=1"])
    assert both.exit_code == 2
    reg = tmp_path / "reg.yaml"
    reg.write_text(json.dumps(REGRESSION))
    out = runner.invoke(cli, ["sweep", str(reg), "--grid", "loss=mse,cosine", "--jobs", "1",
                              "--runs-dir", str(tmp_path / "runs")])
    assert out.exit_code == 1, out.output
    assert "failed loss=cosine" in out.output and "mlrun compare" in out.output and "--resume" in out.output
    ok = runner.invoke(cli, ["sweep", str(spec_file), "--jobs", "1", "--runs-dir", str(tmp_path / "runs")])
    assert ok.exit_code == 0, ok.output


def test_resume_keeps_the_sessions_of_commands_and_executors(tmp_path):
    first = sweep_api(MOONS, grid={"model.neurons": [2, 3]}, jobs=1, runs_dir=tmp_path, command=["mlrun", "sweep"])
    resume_sweep(first.path, jobs=1, command=["mlrun", "sweep", "--resume", str(first.path)])
    resume_sweep(first.path, jobs=1, command=["third"])
    data = manifest(first.path)
    assert data["command"] == ["third"]
    resumed = ["mlrun", "sweep", "--resume", str(first.path)]
    assert [s["command"] for s in data["sessions"]] == [["mlrun", "sweep"], resumed, ["third"]]
    assert data["sessions"][0]["executor"] == {"kind": "joblib", "jobs": 1}
    assert all(s["workers"] == 1 and s["start"] <= s["end"] and s["stopped"] is None for s in data["sessions"])


def test_a_config_sweeps_a_part_name_without_its_old_defaults(tmp_path):
    """A Config's resolved spec lists nadam's betas; an axis renaming the optimizer replaces the part as
    the user gave it (the betas nadam filled in would be parameters sgd does not take)."""
    cfg = sweep_api_load({"name": "rename", "data": {"dataset": "iris"},
                             "model": {"hidden_layers": 1, "neurons": 4}, "training": {"epochs": 1}})
    assert "beta_1" in cfg.to_dict()["optimizer"]
    result = sweep_api(cfg, grid={"optimizer.name": ["sgd", "adam"]}, seeds=1, jobs=1, runs_dir=tmp_path)
    assert [t.status for t in result.trials] == ["completed", "completed"]
    assert sorted(t.overrides for t in result.trials) == [["optimizer.name=adam"], ["optimizer.name=sgd"]]


def test_the_driver_writes_each_trials_run_json_once_complete(tmp_path, monkeypatch):
    import os

    from mlrun.runs import files

    synced, written = [], []
    real_fsync, real_write = os.fsync, files.atomic_write
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    monkeypatch.setattr(files, "atomic_write", lambda path, data: written.append(path.name) or real_write(path, data))
    spec = {**MOONS, "training": {"epochs": 2, "batch_size": 32}}
    res = sweep_api(spec, seeds=2, jobs=1, runs_dir=tmp_path)
    assert res.counts == {"completed": 2}
    per_trial = sorted(name for name in written if name not in ("sweep.json",))
    assert per_trial.count("run.json") == 2  # once per trial, complete: never "running" on disk
    assert per_trial.count("config.yaml") == 2
    trial_files = sorted(p.name for p in (tmp_path / res.path.name / res.trials[0].run).iterdir())
    # one fsync per file of a run directory (it was one more for run.json's "running" write)
    assert len(synced) == len(written) and len(written) == 2 * len(trial_files) + written.count("sweep.json")
