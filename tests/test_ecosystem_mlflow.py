"""mlrun export mlflow against a real MLflow file store, read back through MLflow's own client."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from click.testing import CliRunner

import mlrun
from mlrun.cli.app import cli

mlflow = pytest.importorskip("mlflow")
from mlflow.tracking import MlflowClient  # noqa: E402

SPEC = {"name": "iris-net", "seed": 3, "data": {"dataset": "iris"}, "model": {"hidden_layers": 1, "neurons": 8},
        "training": {"epochs": 4, "batch_size": 16}}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    run = mlrun.train(SPEC, runs_dir=runs)
    return runs, run.path


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps file stores behind this opt-in
    return f"file:{tmp_path / 'mlruns'}"


def export(*args):
    return CliRunner().invoke(cli, ["export", "mlflow", *map(str, args)])


def _runs(uri, experiment="mlrun"):
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    return client, client.search_runs([exp.experiment_id])


def test_a_run_directory_reads_back_through_the_mlflow_client(trained, store):
    runs, path = trained
    result = export(runs, "--tracking-uri", store)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "1 runs to experiment 'mlrun': 1 created, 0 replaced, 0 unchanged"
    client, (found,) = _runs(store)
    record = json.loads((path / "run.json").read_text())
    assert found.info.run_name == path.name and found.info.status == "FINISHED"
    assert found.data.params["model.neurons"] == "8" and found.data.params["data.dataset"] == "iris"
    assert found.data.params["model.layers"] == "null" and len(found.data.params) == len(record["params"])
    metrics = json.loads((path / "metrics.json").read_text())
    assert found.data.metrics["test.accuracy"] == metrics["test"]["accuracy"]
    assert found.data.metrics["validation.log_loss"] == metrics["validation"]["log_loss"]
    history = list(csv.DictReader((path / "history.csv").open()))
    losses = client.get_metric_history(found.info.run_id, "train_loss")
    assert [(m.step, m.value) for m in losses] == [(int(r["epoch"]), float(r["train_loss"])) for r in history]
    assert len(losses) == 4
    tags = found.data.tags
    assert tags["mlrun.status"] == "completed" and tags["mlrun.seed"] == "3"
    assert tags["mlrun.version"] == record["versions"]["mlrun"] and tags["mlrun.path"] == str(path.resolve())
    names = {a.path for a in client.list_artifacts(found.info.run_id)}
    assert {"config.yaml", "model.npz", "history.csv", "predictions.csv", "plots"} <= names
    plots = {a.path for a in client.list_artifacts(found.info.run_id, "plots")}
    assert "plots/learning_curve.png" in plots and "plots/confusion_matrix.png" in plots


def test_exporting_again_is_idempotent_and_a_changed_run_replaces_its_export(trained, store, tmp_path):
    runs, path = trained
    copy = tmp_path / "copy" / path.name
    shutil.copytree(path, copy)
    first = export(copy.parent, "--tracking-uri", store)
    again = export(copy.parent, "--tracking-uri", store, "--experiment", "mlrun")
    assert again.exit_code == 0 and "unchanged" in again.output.splitlines()[0]
    assert first.output.split()[1] == again.output.split()[1]  # the same MLflow run id
    assert len(_runs(store)[1]) == 1
    record = json.loads((copy / "run.json").read_text())
    (copy / "run.json").write_text(json.dumps({**record, "status": "interrupted"}))
    changed = export(copy.parent, "--tracking-uri", store)
    assert changed.output.startswith("replaced")
    (found,) = _runs(store)[1]
    assert found.info.status == "KILLED" and found.data.tags["mlrun.status"] == "interrupted"


def test_export_problems_are_one_line(tmp_path, store, monkeypatch):
    result = export(tmp_path / "nowhere", "--tracking-uri", store)
    assert result.exit_code == 2 and result.output == f"error: no such file or directory: {tmp_path / 'nowhere'}\n"
    (tmp_path / "empty").mkdir()
    result = export(tmp_path / "empty", "--tracking-uri", store)
    assert result.exit_code == 2 and "no run directories" in result.output
    (tmp_path / "empty" / "r").mkdir()
    (tmp_path / "empty" / "r" / "run.json").write_text("{")
    result = export(tmp_path / "empty", "--tracking-uri", store)
    assert result.exit_code == 2 and len(result.output.splitlines()) == 1 and "cannot read it" in result.output
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE")  # a store MLflow has not opened yet (it caches stores)
    result = export(tmp_path / "empty", "--tracking-uri", f"file:{tmp_path / 'refused'}")
    assert result.exit_code == 2 and "MLFLOW_ALLOW_FILE_STORE=true" in result.output
    monkeypatch.setitem(__import__("sys").modules, "mlflow.tracking", None)  # as if mlflow were not installed
    result = export(tmp_path / "empty", "--tracking-uri", store)
    assert result.exit_code == 2 and "pip install 'mlrun[mlflow]'" in result.output
