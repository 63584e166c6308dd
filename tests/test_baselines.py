"""Baselines: scikit-learn's estimators on the network's split, scored by our metrics code, checked early."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from rich.console import Console
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression

import mlrun
from mlrun.baselines.estimators import ESTIMATORS, STRATEGIES, estimator_names
from mlrun.baselines.fitting import NEEDS_PROBABILITIES, baseline_seed, fit_baselines
from mlrun.baselines.specs import parse_baselines
from mlrun.cli.app import cli
from mlrun.cli.console import render_run
from mlrun.spec.errors import ConfigError
from mlrun.spec.loading import load_config
from mlrun.training.setup import SEED_PURPOSES, load_data, seeds

CLASSIFIERS = estimator_names("classification")


def _dataset(data: dict, seed: int = 0):
    return load_data(load_config({"seed": seed, "data": data}))


@pytest.fixture(scope="module")
def iris():
    return _dataset({"dataset": "iris"})


@pytest.fixture(scope="module")
def blobs():  # four classes: ovr fits 4 models, ovo 6 (iris's 3 and 3 would not tell them apart)
    return _dataset({"dataset": "make_blobs", "params": {"n_samples": 240, "centers": 4, "cluster_std": 3.0}})


def _fit(dataset, items, seed=0):
    return fit_baselines(parse_baselines(items, dataset.task), dataset, seed)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_metrics_equal_sklearns_own_scoring(iris, name, strategy):
    params = {"n_estimators": 10} if name == "random_forest" else {}
    (fit,) = _fit(iris, [{"name": name, "multiclass": strategy, "params": params}])
    est = fit.estimator
    for split, X, y in (("validation", iris.X_val, iris.y_val), ("test", iris.X_test, iris.y_test)):
        got, pred = fit.metrics[split], est.predict(X)
        assert got["accuracy"] == skm.accuracy_score(y, pred)
        assert got["f1_macro"] == skm.f1_score(y, pred, average="macro")
        assert got["precision"] == skm.precision_score(y, pred, average="macro", labels=[0, 1, 2])
        assert got["confusion_matrix"] == skm.confusion_matrix(y, pred, labels=[0, 1, 2]).tolist()
        if hasattr(est, "predict_proba"):
            proba = est.predict_proba(X)
            assert got["log_loss"] == pytest.approx(skm.log_loss(y, proba, labels=[0, 1, 2]), rel=1e-12)
            assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"), rel=1e-12)
        else:
            assert all(got[m] is None for m in NEEDS_PROBABILITIES)
            assert any("no probabilities" in w for w in fit.warnings)


def test_binary_metrics_are_of_the_positive_class():
    cancer = _dataset({"dataset": "breast_cancer"})
    fits = _fit(cancer, ["logistic_regression", "svm"])
    for fit in fits:
        pred = fit.estimator.predict(cancer.X_test)
        got = fit.metrics["test"]
        assert got["f1"] == skm.f1_score(cancer.y_test, pred, pos_label=cancer.positive_class)
        assert got["recall"] == skm.recall_score(cancer.y_test, pred, pos_label=cancer.positive_class)
        assert fit.info["binary_models"] == (1 if fit.spec.name == "svm" else 0)
    score = fits[0].estimator.predict_proba(cancer.X_test)[:, cancer.positive_class]
    assert fits[0].metrics["test"]["roc_auc"] == pytest.approx(
        skm.roc_auc_score(cancer.y_test == cancer.positive_class, score), rel=1e-12)


def test_fitted_on_the_networks_scaled_training_split(iris):
    (fit,) = _fit(iris, ["logistic_regression"])
    mine = LogisticRegression(max_iter=1000).fit(iris.X_train, iris.y_train)
    np.testing.assert_array_equal(fit.estimator.coef_, mine.coef_)
    assert abs(iris.X_train.mean(axis=0)).max() < 1e-9  # the scaled features, not the raw ones


def test_regression_metrics_equal_sklearns_in_original_units():
    diabetes = _dataset({"dataset": "diabetes"})
    for fit in _fit(diabetes, ["linear", "ridge", {"name": "random_forest", "params": {"n_estimators": 10}}]):
        y = diabetes.inverse_y(diabetes.y_test).ravel()
        pred = diabetes.inverse_y(fit.estimator.predict(diabetes.X_test)).ravel()
        assert fit.metrics["test"]["r2"] == pytest.approx(skm.r2_score(y, pred), rel=1e-12)
        assert fit.metrics["test"]["mae"] == pytest.approx(skm.mean_absolute_error(y, pred), rel=1e-12)
        assert y.min() > 20  # original units (diabetes progression 25..346), not standardised
        assert "multiclass" not in fit.info


@pytest.mark.parametrize(("name", "strategy", "models"), [
    ("logistic_regression", "native", 0), ("logistic_regression", "ovr", 4), ("logistic_regression", "ovo", 6),
    ("svm", "native", 6), ("svm", "ovr", 4), ("linear_svm", "native", 4), ("linear_svm", "ovo", 6),
    ("sgd", "native", 4), ("random_forest", "native", 0), ("knn", "ovo", 6)])
def test_binary_models_recorded_are_the_models_fitted(blobs, name, strategy, models):
    (fit,) = _fit(blobs, [{"name": name, "multiclass": strategy, "params": {}}])
    est = fit.estimator
    assert fit.info["binary_models"] == models and fit.info["multiclass"] == strategy
    if strategy != "native":
        assert len(est.estimators_) == models
    elif name == "svm":
        assert len(est.intercept_) == models  # libsvm: one intercept per pair of classes
    elif models:
        assert est.coef_.shape[0] == models
    else:
        assert fit.info["native_multiclass"] is True


def test_seeded_from_the_runs_seed(iris):
    forest = [{"name": "random_forest", "params": {"n_estimators": 5}}]
    a, b, c = (_fit(iris, forest, seed)[0] for seed in (1, 1, 2))
    assert a.estimator.random_state == b.estimator.random_state == baseline_seed(1) != baseline_seed(2)
    assert a.metrics == b.metrics and c.estimator.random_state == baseline_seed(2)


def test_the_new_seed_purpose_leaves_the_old_streams_where_they_were():
    assert SEED_PURPOSES[:5] == ("split", "init", "shuffle", "noise", "lr_find")
    old = np.random.SeedSequence(7).spawn(5)
    for purpose, child in zip(SEED_PURPOSES, old):
        assert (seeds(7)[purpose].generate_state(4) == child.generate_state(4)).all()
    assert baseline_seed(7) == int(np.random.SeedSequence(7).spawn(6)[5].generate_state(1)[0])  # its own child


@pytest.mark.parametrize(("items", "message"), [
    (["random_forrest"], "baselines[0]: unknown classification baseline 'random_forrest' "
                         "(did you mean 'random_forest'?)"),
    ([{"name": "svm", "params": {"gama": 1}}], "baselines[0]: baseline 'svm' has no parameter 'gama' "
                                                "(did you mean 'gamma'?)"),
    ([{"name": "svm", "params": {"C": -1.0}}], "baselines[0] (svm): The 'C' parameter of SVC must be"),
    ([{"name": "knn", "params": {"random_state": 3}}], "baselines[0].params.random_state: baselines are seeded"),
    ([{"name": "svm", "multiclass": "ovn"}], "baselines[0].multiclass: 'ovn' is not a strategy (did you mean"),
    ([{"name": "svm", "multclass": "ovo"}], "baselines[0]: unknown key 'multclass' (did you mean 'multiclass'?)"),
    (["knn", "svm", "knn"], "baselines[2]: label 'knn' is already baselines[0]'s"),
    ([{"name": "svm", "label": "a.b"}], "baselines[0].label: letters, digits, - and _ only"),
    ("svm", "baselines: a list of baseline names or mappings"),
    (["ridge"], "baselines[0]: unknown classification baseline 'ridge'"),
])
def test_bad_baselines_are_one_line_config_errors(items, message):
    with pytest.raises(ConfigError) as err:
        parse_baselines(items, "classification")
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_checks_before_the_task_is_known_and_coerces_yaml_numbers():
    (spec,) = parse_baselines([{"name": "random_forest", "params": {"criterion": "squared_error"}}], "auto")
    assert spec.params == {"criterion": "squared_error"}  # the regressor's criterion: fine while the task is auto
    with pytest.raises(ConfigError, match="applies to classifiers only"):
        parse_baselines([{"name": "ridge", "multiclass": "ovr"}], "regression")
    (svm,) = parse_baselines([{"name": "svm", "params": {"C": "1e-1"}}])
    assert svm.params == {"C": 0.1} and svm.label == "svm"
    assert [s.label for s in parse_baselines(["svm", {"name": "svm", "multiclass": "ovr"}])] == ["svm", "svm_ovr"]


def test_the_table_has_what_the_issue_lists():
    assert set(CLASSIFIERS) >= {"logistic_regression", "linear_svm", "svm", "sgd", "random_forest",
                                "naive_bayes", "knn"}
    assert estimator_names("regression") == ["linear", "ridge", "random_forest"]
    assert {e.name for e in ESTIMATORS.values() if e.task == "classification" and e.native_multiclass} == \
        {"logistic_regression", "random_forest", "naive_bayes", "knn"}


# ----------------------------------------------------------------------------- through a run directory
SMALL = {"name": "small", "seed": 3, "data": {"dataset": "iris"},
         "model": {"hidden_layers": 1, "neurons": 8, "activation": "tanh"},
         "optimizer": {"name": "adam", "learning_rate": 0.01}, "training": {"epochs": 4, "batch_size": 16}}
WITH = {**SMALL, "baselines": ["logistic_regression", {"name": "svm", "multiclass": "ovo"}]}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("runs")
    return runs_dir, mlrun.train(SMALL, runs_dir=runs_dir), mlrun.train(WITH, runs_dir=runs_dir)


def _read(run, file):
    return json.loads((run.path / file).read_text())


def test_opt_in_the_network_trains_bit_for_bit_as_without(two_runs):
    _, plain, with_baselines = two_runs
    assert "baselines" not in _read(plain, "metrics.json") and "baselines" not in _read(plain, "run.json")
    assert "baselines" not in (plain.path / "config.yaml").read_text()
    assert not any(k.startswith("baselines") for k in _read(plain, "run.json")["params"])
    net = {k: v for k, v in _read(with_baselines, "metrics.json").items() if k != "baselines"}
    assert net == _read(plain, "metrics.json") and with_baselines.metrics == plain.metrics
    assert (plain.path / "model.npz").read_bytes() == (with_baselines.path / "model.npz").read_bytes()


def test_metrics_json_and_run_json_record_the_baselines(two_runs):
    _, _, run = two_runs
    saved = _read(run, "metrics.json")["baselines"]
    assert list(saved) == ["logistic_regression", "svm_ovo"] and set(saved["svm_ovo"]) == {"validation", "test"}
    assert saved == run.baselines and saved["svm_ovo"]["test"]["log_loss"] is None
    info = _read(run, "run.json")["baselines"]
    assert info["svm_ovo"]["multiclass"] == "ovo" and info["svm_ovo"]["binary_models"] == 3
    assert info["logistic_regression"]["binary_models"] == 0
    assert info["svm_ovo"]["estimator"] == "OneVsOneClassifier(SVC)"
    assert "baselines" in yaml.safe_load((run.path / "config.yaml").read_text())


def test_compare_shows_baseline_columns_and_reads_old_runs(two_runs):
    runs_dir, plain, run = two_runs
    rows = {r["run"]: r for r in mlrun.compare([runs_dir])}
    key = "baseline.logistic_regression.test.accuracy"
    assert rows[run.name][key] == run.baselines["logistic_regression"]["test"]["accuracy"]
    assert key not in rows[plain.name] and rows[plain.name]["test.accuracy"] == plain.metrics["test"]["accuracy"]
    result = CliRunner().invoke(cli, ["compare", str(runs_dir), "--metrics", f"test.accuracy,{key}",
                                      "--format", "csv"])
    assert result.exit_code == 0 and key in result.output.splitlines()[0]


def test_the_train_summary_puts_network_and_baselines_side_by_side(two_runs):
    _, _, run = two_runs
    console = Console(width=80, record=True, color_system=None)
    render_run(console, run)
    text = console.export_text()
    lines = {line.split()[1]: line for line in text.splitlines() if line.startswith("│")
             and line.split()[1] in ("network", "logistic_regression", "svm_ovo")}
    assert set(lines) == {"network", "logistic_regression", "svm_ovo"}
    assert f"{run.baselines['logistic_regression']['test']['accuracy']:.4g}" in lines["logistic_regression"]
    assert max(len(line) for line in text.splitlines()) <= 80


def test_a_bad_baseline_parameter_is_one_line_and_exit_2(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({**SMALL, "baselines": [{"name": "svm", "params": {"gama": 1}}]}))
    for args in (["train", str(spec), "--runs-dir", str(tmp_path / "runs")], ["validate", str(spec)]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert "has no parameter 'gama' (did you mean 'gamma'?)" in result.output
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not (tmp_path / "runs").exists()  # checked before a run directory is made
