"""mlrun.training.trainer / resume / load_model through the public API: run directories, metrics, determinism."""

import json

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, log_loss

import mlrun
from mlrun.runs.files import load_npz
from mlrun.spec.loading import load_config
from mlrun.training.setup import load_data

SMALL = {
    "name": "small",
    "seed": 3,
    "data": {"dataset": "iris"},
    "model": {"hidden_layers": 1, "neurons": 8, "activation": "tanh"},
    "optimizer": {"name": "adam", "learning_rate": 0.01},
    "training": {"epochs": 6, "batch_size": 16},
}


def test_train_writes_a_complete_run_directory(tmp_path):
    run = mlrun.train(SMALL, runs_dir=tmp_path)
    assert run.status == "completed" and run.stop_reason == "max_epochs" and run.epochs == 6
    names = {p.name for p in run.path.iterdir()}
    assert {"config.yaml", "run.json", "metrics.json", "history.csv", "predictions.csv", "model.npz",
            "checkpoint.npz", "plots", "diagnostics.csv"} <= names
    assert {p.name for p in (run.path / "plots").iterdir()} == {"learning_curve.png", "confusion_matrix.png",
                                                                 "roc.png", "pr.png", "diagnostics.png",
                                                                 "activations.png", "gradients.png"}
    info = json.loads((run.path / "run.json").read_text())
    assert info["kind"] == "train" and info["status"] == "completed" and info["epochs"] == 6
    assert info["params"]["model.activation"] == "tanh" and info["params"]["optimizer"] == "adam"
    assert info["resolved"]["total_steps"] == 6 * 7  # 105 training rows of iris, batches of 16
    assert info["versions"]["numpy"] == np.__version__
    assert 0 < info["timings"]["train_seconds"] <= info["timings"]["total_seconds"]
    assert not list(run.path.glob(".*"))  # no temporary files left behind
    assert len(run.history) == 6 and run.history == _read_history(run.path)


def _read_history(path):
    from mlrun.runs.history import read_history

    return [{k: v for k, v in row.items()} for row in read_history(path / "history.csv")]


def test_metrics_match_scikit_learn_on_the_saved_predictions(tmp_path):
    run = mlrun.train(SMALL, runs_dir=tmp_path)
    import csv

    rows = list(csv.DictReader((run.path / "predictions.csv").open()))
    y_true = [r["y_true"] for r in rows]
    y_pred = [r["y_pred"] for r in rows]
    classes = ["setosa", "versicolor", "virginica"]  # iris's own class names, in code order
    scores = np.array([[float(r[f"score_{c}"]) for c in classes] for r in rows])
    test = run.metrics["test"]
    assert test["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred), abs=1e-12)
    assert test["f1_macro"] == pytest.approx(f1_score(y_true, y_pred, average="macro"), abs=1e-12)
    assert test["log_loss"] == pytest.approx(log_loss(y_true, scores, labels=classes), rel=1e-6)
    assert json.loads((run.path / "metrics.json").read_text())["test"] == test


def test_same_spec_and_seed_give_identical_results(tmp_path):
    a = mlrun.train(SMALL, runs_dir=tmp_path)
    b = mlrun.train(SMALL, runs_dir=tmp_path)
    assert a.path != b.path
    assert a.metrics == b.metrics
    np.testing.assert_array_equal(load_npz(a.path / "model.npz")["network.params"],
                                  load_npz(b.path / "model.npz")["network.params"])
    c = mlrun.train({**SMALL, "seed": 4}, runs_dir=tmp_path)
    assert c.history[0]["train_loss"] != a.history[0]["train_loss"]


def test_interrupt_then_resume_equals_an_uninterrupted_run(tmp_path):
    spec = {**SMALL, "model": {"hidden_layers": 2, "neurons": 8, "activation": "rrelu", "dropout": 0.1},
            "schedule": {"name": "one_cycle", "max_lr": 0.02}, "training": {"epochs": 8, "batch_size": 16}}
    straight = mlrun.train(spec, runs_dir=tmp_path / "a")

    class StopAfter3:
        def on_epoch_end(self, trainer, logs):
            if trainer.epoch == 3:
                trainer.request_stop("interrupted")

    stopped = mlrun.train(spec, runs_dir=tmp_path / "b", callbacks=[StopAfter3()])
    assert stopped.status == "interrupted" and stopped.epochs == 3
    assert json.loads((stopped.path / "run.json").read_text())["status"] == "interrupted"
    resumed = mlrun.resume(stopped.path)
    assert resumed.path == stopped.path and resumed.status == "completed" and resumed.epochs == 8
    assert resumed.metrics == straight.metrics
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in straight.history]
    with pytest.raises(mlrun.ConfigError, match="completed"):
        mlrun.resume(stopped.path)


def test_load_model_predicts_the_runs_own_test_predictions(tmp_path):
    run = mlrun.train(SMALL, runs_dir=tmp_path)
    cfg = load_config(SMALL)
    data = load_data(cfg)
    X_raw = data.X_test * data.scaler["scale"] + data.scaler["center"]
    model = mlrun.load_model(run.path)
    import csv

    rows = list(csv.DictReader((run.path / "predictions.csv").open()))
    assert [str(v) for v in model.predict(X_raw)] == [r["y_pred"] for r in rows]
    proba = model.predict_proba(X_raw)
    np.testing.assert_allclose(proba[:, 1], [float(r["score_versicolor"]) for r in rows], rtol=1e-6)


def test_quickstart_reaches_095_test_accuracy(tmp_path):
    run = mlrun.train("configs/quickstart.yaml", runs_dir=tmp_path)
    assert run.status == "completed"
    assert run.metrics["test"]["accuracy"] >= 0.95


def test_full_batch_gd_stops_by_tolerance_at_the_least_squares_solution(tmp_path):
    spec = {
        "name": "linear", "seed": 0, "task": "regression",
        "data": {"dataset": "make_regression", "params": {"n_samples": 200, "n_features": 4, "noise": 5.0},
                 "validation_size": 0.0},
        "model": {"hidden_layers": 0}, "loss": "mse",
        "optimizer": {"name": "sgd", "learning_rate": 0.2},
        "training": {"epochs": 100000, "batch_size": "full", "tolerance": 1e-10, "dtype": "float64"},
    }
    run = mlrun.train(spec, runs_dir=tmp_path)
    assert run.status == "completed" and run.stop_reason == "tolerance"
    data = load_data(load_config(spec))
    A = np.column_stack([data.X_train, np.ones(len(data.X_train))])
    y_train = data.inverse_y(data.y_train)
    coef, *_ = np.linalg.lstsq(A, y_train, rcond=None)
    model = mlrun.load_model(run.path)
    X_raw = data.X_test * data.scaler["scale"] + data.scaler["center"]
    expected = np.column_stack([data.X_test, np.ones(len(data.X_test))]) @ coef
    np.testing.assert_allclose(model.predict(X_raw), expected, rtol=1e-6, atol=1e-6)
    W = model.network.layers[0].params["W"] * data.y_scale  # back to original units
    np.testing.assert_allclose(W.ravel(), coef[:-1].ravel(), rtol=1e-6, atol=1e-6)


def test_plain_sgd_at_lr_1e3_diverges_with_its_history_kept(tmp_path):
    spec = {**SMALL, "optimizer": {"name": "sgd", "learning_rate": 1e3},
            "model": {"hidden_layers": 2, "neurons": 32, "activation": "relu"}, "training": {"epochs": 30}}
    run = mlrun.train(spec, runs_dir=tmp_path)
    assert run.status == "diverged" and run.stop_reason == "diverged"
    info = json.loads((run.path / "run.json").read_text())
    assert info["status"] == "diverged" and info["epochs"] == run.epochs < 30
    assert len(_read_history(run.path)) == run.epochs
    assert any("diverged" in tip for tip in run.advice)


def test_regression_metrics_are_in_original_units(tmp_path):
    spec = {**SMALL, "data": {"dataset": "diabetes"}, "model": {"hidden_layers": 1, "neurons": 8}}
    run = mlrun.train(spec, runs_dir=tmp_path)
    import csv

    rows = list(csv.DictReader((run.path / "predictions.csv").open()))
    y_true = np.array([float(r["y_true"]) for r in rows])
    y_pred = np.array([float(r["y_pred"]) for r in rows])
    assert y_true.mean() > 50  # diabetes progression is in the 25-346 range, not standardised
    assert run.metrics["test"]["rmse"] == pytest.approx(np.sqrt(np.mean((y_true - y_pred) ** 2)), rel=1e-9)
    assert (run.path / "plots" / "residuals.png").exists()


def test_training_threads_limits_blas_during_the_run(tmp_path):
    from threadpoolctl import threadpool_info

    seen = []

    class Probe:
        def on_epoch_end(self, trainer, logs):
            seen.append({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})

    spec = {**SMALL, "training": {"epochs": 2, "batch_size": 16, "threads": 1}}
    mlrun.train(spec, runs_dir=tmp_path, callbacks=[Probe()])
    assert seen == [{1}, {1}]


def test_class_labels_with_a_comma_and_a_quote_survive_both_predictions_files(tmp_path):
    import csv

    rng = np.random.default_rng(0)
    labels = np.array(['big, "heavy"', "small"])
    y = rng.integers(0, 2, 120)
    X = rng.standard_normal((120, 2)) + 2.0 * y[:, None]
    data = tmp_path / "odd.csv"
    with data.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["label", "a", "b"])
        writer.writerows([labels[t], *x] for t, x in zip(y, X))
    spec = {"name": "odd", "data": {"dataset": "csv", "path": str(data), "target": "label"},
            "model": {"hidden_layers": 1, "neurons": 4}, "training": {"epochs": 3}}
    run = mlrun.train(spec, runs_dir=tmp_path / "runs")
    own = list(csv.DictReader((run.path / "predictions.csv").open(newline="")))
    assert {r["y_true"] for r in own} == set(labels)
    assert set(own[0]) == {"row", "y_true", "y_pred", 'score_big, "heavy"', "score_small"}
    from mlrun.experiment.model import predict_csv

    text = predict_csv(mlrun.load_model(run.path), data)
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == ["y_pred", 'score_big, "heavy"', "score_small"]
    assert all(len(r) == 3 and r[0] in set(labels) for r in rows[1:])
    assert len(rows) == 121
