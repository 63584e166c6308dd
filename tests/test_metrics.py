"""Metrics against scikit-learn and hand-derived values (mlrun.metrics)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn import metrics as skm

from mlrun.data.sources import load_dataset
from mlrun.metrics.advice import advice
from mlrun.metrics.names import (
    CLASSIFICATION_METRICS,
    MAIN_METRIC,
    OPT_IN_METRICS,
    REGRESSION_METRICS,
    higher_is_better,
)
from mlrun.metrics.scores import (
    Metrics,
    classification_metrics,
    compute_metrics,
    cosine,
    hamming,
    minkowski,
    regression_metrics,
)

AUTO_CLASSIFICATION = tuple(m for m in CLASSIFICATION_METRICS if m not in OPT_IN_METRICS)  # metrics: auto

# binary: 8 rows, probabilities of class 1 in the second column
Y_BIN = np.array([0, 1, 1, 0, 1, 0, 0, 1])
P1 = np.array([0.2, 0.7, 0.4, 0.1, 0.9, 0.6, 0.3, 0.8])
P_BIN = np.column_stack([1 - P1, P1])
# multiclass: 9 rows, 3 classes
Y_MC = np.array([0, 1, 2, 2, 1, 0, 2, 1, 0])
P_MC = np.random.default_rng(0).dirichlet([1.0, 1.0, 1.0], size=9)


def _dumps(metrics) -> str:
    return json.dumps(metrics, allow_nan=False)


# ---------------------------------------------------------------------------------- classification
def test_binary_hand_derived():
    # y_pred = [0,1,0,0,1,1,0,1]: TP 3 (rows 1,4,7), FP 1 (row 5), FN 1 (row 2), TN 3
    m = classification_metrics(Y_BIN, P_BIN)
    assert m["accuracy"] == 6 / 8
    assert m["precision"] == 3 / 4 and m["recall"] == 3 / 4 and m["f1"] == pytest.approx(3 / 4)
    assert m["confusion_matrix"] == [[3, 1], [1, 3]]
    # ROC AUC = share of (pos, neg) pairs ranked right: positives .7 .4 .9 .8, negatives .2 .1 .6 .3;
    # only (.4, .6) is wrong
    assert m["roc_auc"] == pytest.approx(15 / 16)
    expected_log_loss = -np.mean(np.log(np.where(Y_BIN == 1, P1, 1 - P1)))
    assert m["log_loss"] == pytest.approx(expected_log_loss)
    assert m.warnings == []


@pytest.mark.parametrize("pos", [0, 1])
def test_binary_matches_sklearn_for_the_chosen_positive_class(pos):
    m = classification_metrics(Y_BIN, P_BIN, positive_class=pos)
    y_pred = P_BIN.argmax(axis=1)
    assert m["precision"] == pytest.approx(skm.precision_score(Y_BIN, y_pred, pos_label=pos))
    assert m["recall"] == pytest.approx(skm.recall_score(Y_BIN, y_pred, pos_label=pos))
    assert m["f1"] == pytest.approx(skm.f1_score(Y_BIN, y_pred, pos_label=pos))
    assert m["f1_macro"] == pytest.approx(skm.f1_score(Y_BIN, y_pred, average="macro"))
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(Y_BIN == pos, P_BIN[:, pos]))
    assert m["pr_auc"] == pytest.approx(skm.average_precision_score(Y_BIN == pos, P_BIN[:, pos]))
    assert m["log_loss"] == pytest.approx(skm.log_loss(Y_BIN, P_BIN))
    assert set(m) == set(AUTO_CLASSIFICATION)


def test_positive_class_changes_the_positive_metrics():
    proba = [[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.3, 0.7]]
    a = classification_metrics([0, 0, 0, 1], proba, positive_class=1)
    b = classification_metrics([0, 0, 0, 1], proba, positive_class=0)
    assert (a["precision"], a["recall"]) == (0.5, 1.0)
    assert (b["precision"], b["recall"]) == (1.0, 2 / 3)
    assert a["accuracy"] == b["accuracy"] == 0.75


def test_multiclass_matches_sklearn():
    m = classification_metrics(Y_MC, P_MC)
    y_pred = P_MC.argmax(axis=1)
    for name, func in (("precision", skm.precision_score), ("recall", skm.recall_score),
                       ("f1", skm.f1_score)):
        assert m[name] == pytest.approx(func(Y_MC, y_pred, average="macro", zero_division=0))
    assert m["f1_macro"] == m["f1"]
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(Y_MC, y_pred))
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(Y_MC, P_MC, multi_class="ovr", average="macro"))
    assert m["pr_auc"] == pytest.approx(skm.average_precision_score(Y_MC, P_MC, average="macro"))
    assert m["log_loss"] == pytest.approx(skm.log_loss(Y_MC, P_MC))
    assert m["confusion_matrix"] == skm.confusion_matrix(Y_MC, y_pred).tolist()
    assert all(isinstance(v, int) for row in m["confusion_matrix"] for v in row)
    _dumps(m)


def test_confusion_matrix_keeps_every_class_in_order():
    proba = np.eye(4)[[0, 0, 1, 1]]  # class 3 never appears, class 2 never predicted
    m = classification_metrics([0, 2, 1, 1], proba, n_classes=4, names=["confusion_matrix"])
    assert m == {"confusion_matrix": [[1, 0, 0, 0], [0, 2, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]}


def test_float32_probabilities_that_miss_one_slightly():
    p = (P_MC * (1 + 3e-7)).astype(np.float32)
    m = classification_metrics(Y_MC, p)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(Y_MC, P_MC, multi_class="ovr"), abs=1e-6)


def test_float32_softmax_rows_are_renormalised_before_log_loss():
    """float32 softmax rows miss 1 by ~1e-7, beyond scikit-learn's float64 tolerance (sqrt(eps)): it
    would warn on them. Renormalised in float64, log_loss is the float64 softmax's, without a warning."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((200, 3))
    y = rng.integers(0, 3, 200)
    p32 = np.exp(z).astype(np.float32)
    p32 /= p32.sum(axis=1, keepdims=True)
    assert np.abs(p32.astype(np.float64).sum(axis=1) - 1).max() > np.sqrt(np.finfo(np.float64).eps)
    m = classification_metrics(y, p32)
    assert m.warnings == []
    p64 = p32.astype(np.float64)
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, p64 / p64.sum(axis=1, keepdims=True)), rel=1e-12)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, p), rel=1e-6)


def test_one_dimensional_binary_probabilities_are_those_of_class_1():
    m = classification_metrics(Y_BIN, P1)
    assert m == classification_metrics(Y_BIN, P_BIN)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(Y_BIN, P1))
    assert m["pr_auc"] == pytest.approx(skm.average_precision_score(Y_BIN, P1))
    assert m["log_loss"] == pytest.approx(skm.log_loss(Y_BIN, P1))
    assert m["accuracy"] == skm.accuracy_score(Y_BIN, P1 > 0.5)
    assert m["confusion_matrix"] == skm.confusion_matrix(Y_BIN, (P1 > 0.5).astype(int)).tolist()


# -------------------------------------------------------------------------------------- undefined
def test_single_class_in_y_true_makes_roc_auc_none_with_a_warning():
    m = classification_metrics([1, 1, 1], [[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]])
    assert m["roc_auc"] is None and m["accuracy"] == pytest.approx(2 / 3)
    assert any(w.startswith("roc_auc is undefined") for w in m.warnings)
    m = classification_metrics([0, 0, 0], [[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]], names=["pr_auc", "roc_auc"])
    assert m == {"pr_auc": None, "roc_auc": None} and len(m.warnings) == 2
    assert "no positive rows in y_true" in m.warnings[0]
    _dumps(m)


def test_multiclass_absent_class_makes_ovr_scores_none():
    m = classification_metrics([0, 1, 0, 1], np.full((4, 3), 1 / 3))
    assert m["roc_auc"] is None and m["pr_auc"] is None and m["log_loss"] == pytest.approx(math.log(3))
    _dumps(m)


def test_ill_defined_precision_keeps_sklearns_zero_and_warns():
    m = classification_metrics([0, 1, 0], [[0.9, 0.1], [0.8, 0.2], [0.7, 0.3]], names=["precision"])
    assert m == {"precision": 0.0}
    assert m.warnings and m.warnings[0].startswith("precision: Precision is ill-defined")



def _sklearn_notes(name, func, *args, **kwargs) -> list[str]:
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = func(*args, **kwargs)
    return value, [f"{name}: {str(w.message).splitlines()[0]}" for w in caught]


@pytest.mark.parametrize("names", [None, ["recall", "f1"], ["f1_macro"]])
def test_precision_recall_f1_from_one_call_keep_each_ones_value_and_warnings(names):
    # class 3 is neither true nor predicted and classes 1, 2 are never predicted: precision, recall and
    # F-score are each ill-defined, and each metric keeps only its own warning, as from its own call
    y = np.array([0, 0, 1, 1, 2, 2])
    proba = np.tile([0.7, 0.1, 0.1, 0.1], (6, 1))
    labels = np.arange(4)
    m = classification_metrics(y, proba, n_classes=4, names=names)
    y_pred = np.zeros(6, dtype=np.int64)
    expected_values, expected_notes = {}, []
    for name, func in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score),
                       ("f1_macro", skm.f1_score)):
        if name in (names or AUTO_CLASSIFICATION):
            expected_values[name], notes = _sklearn_notes(name, func, y, y_pred, labels=labels, average="macro")
            expected_notes += notes
    assert {k: m[k] for k in expected_values} == expected_values
    assert [w for w in m.warnings if w.split(":")[0] in expected_values] == expected_notes
    assert len(expected_notes) == len(expected_values)  # each of them warned once

@pytest.mark.parametrize("task", ["classification", "regression"])
def test_empty_split_is_all_none_and_json_safe(task):
    output = np.zeros((0, 3)) if task == "classification" else np.zeros((0, 1))
    m = compute_metrics(task, np.zeros(0), output)
    names = AUTO_CLASSIFICATION if task == "classification" else REGRESSION_METRICS
    assert m == dict.fromkeys(names) and m.warnings == ["the split is empty: its metrics are undefined"]
    assert json.loads(_dumps(m)) == dict.fromkeys(names)


def test_non_finite_outputs_give_none_not_nan():
    m = classification_metrics([0, 1], [[np.nan, np.nan], [0.5, 0.5]])
    assert all(v is None for v in m.values()) and "not finite" in m.warnings[0]
    m = regression_metrics([1.0, 2.0], [np.inf, 2.0])
    assert all(v is None for v in m.values())
    _dumps(m)


def test_r2_with_one_row_is_none():
    m = regression_metrics([3.0], [2.0])
    assert m["r2"] is None and m["mse"] == 1.0 and m["minkowski_error"] == 1.0
    assert any(w.startswith("r2 is undefined") for w in m.warnings)


# ------------------------------------------------------------------------------------- regression
def test_regression_single_target_matches_sklearn_and_hand_values():
    y_true = np.array([3.0, -0.5, 2.0, 7.0])
    y_pred = np.array([2.5, 0.0, 2.0, 8.0])  # errors .5 .5 0 1
    m = regression_metrics(y_true, y_pred)
    assert m["mse"] == pytest.approx(1.5 / 4) == skm.mean_squared_error(y_true, y_pred)
    assert m["rmse"] == pytest.approx(math.sqrt(1.5 / 4))
    assert m["mae"] == pytest.approx(0.5) == skm.mean_absolute_error(y_true, y_pred)
    assert m["r2"] == pytest.approx(skm.r2_score(y_true, y_pred))
    assert m["minkowski_error"] == pytest.approx(((0.125 + 0.125 + 0 + 1) / 4) ** (1 / 3))
    assert all(type(v) is float for v in m.values())


def test_regression_multi_target_uniform_average():
    y_true = np.array([[0.5, 1.0], [-1.0, 1.0], [7.0, -6.0]])
    y_pred = np.array([[0.0, 2.0], [-1.0, 2.0], [8.0, -5.0]])
    m = regression_metrics(y_true, y_pred)
    assert m["mse"] == pytest.approx(skm.mean_squared_error(y_true, y_pred))
    assert m["rmse"] == pytest.approx(skm.root_mean_squared_error(y_true, y_pred))
    assert m["mae"] == pytest.approx(skm.mean_absolute_error(y_true, y_pred))
    assert m["r2"] == pytest.approx(skm.r2_score(y_true, y_pred))
    e = np.abs(y_true - y_pred)
    per_target = np.mean(e**3, axis=0) ** (1 / 3)
    assert m["minkowski_error"] == pytest.approx(per_target.mean())


# ------------------------------------------------------------------------------------ dispatching
def test_compute_metrics_dispatches_and_selects_names():
    m = compute_metrics("classification", Y_BIN, P_BIN, positive_class=0, names=["accuracy", "recall"])
    assert isinstance(m, Metrics) and list(m) == ["accuracy", "recall"]
    assert m["recall"] == pytest.approx(skm.recall_score(Y_BIN, P_BIN.argmax(1), pos_label=0))
    assert list(compute_metrics("regression", [1.0, 2.0], [1.0, 2.5], names="rmse")) == ["rmse"]
    with pytest.raises(ValueError, match="unknown classification metric 'rmse'"):
        compute_metrics("classification", Y_BIN, P_BIN, names=["rmse"])
    with pytest.raises(ValueError, match="task must be"):
        compute_metrics("ranking", Y_BIN, P_BIN)


def test_main_metric_and_direction():
    assert MAIN_METRIC == {"classification": "accuracy", "regression": "rmse"}
    for name in ("accuracy", "f1", "roc_auc", "pr_auc", "r2", "test.accuracy"):
        assert higher_is_better(name)
    for name in ("mse", "rmse", "mae", "minkowski_error", "log_loss", "val_loss", "test.rmse", "loss"):
        assert higher_is_better(name) is False
    for name in ("seed", "model.activation", "status"):
        assert higher_is_better(name) is None


# -------------------------------------------------------------------------------------- distances
def test_distances_hand_values():
    assert hamming([1, 0, 1, 1], [1, 1, 0, 1]) == 0.5
    assert minkowski([0, 0], [1, 2]) == pytest.approx(9 ** (1 / 3))
    assert minkowski([0, 0], [3, 4], p=2) == pytest.approx(5.0)
    assert minkowski([0, 0], [3, 4], p=1) == pytest.approx(7.0)
    assert cosine([1, 0], [0, 1]) == pytest.approx(1.0)
    assert cosine([1, 1], [2, 2]) == pytest.approx(0.0, abs=1e-12)
    assert cosine([1, 0], [-1, 0]) == pytest.approx(2.0)


# ----------------------------------------------------------------------------------------- advice
def test_advice_rare_positive_class_points_to_pr_auc():
    d = load_dataset({"dataset": "make_classification", "params": {"n_samples": 400, "weights": [0.92]}})
    share = np.mean(d.y_train == d.positive_class)
    assert d.classes[d.positive_class] == 1 and share < 0.2
    notes = advice({"test": {"pr_auc": 0.61, "accuracy": 0.95}}, d)
    assert notes[0] == (f"the positive class '1' is rare ({share:.1%} of training rows): "
                        "read PR AUC (test.pr_auc = 0.61) rather than ROC AUC or accuracy")
    balanced = load_dataset({"dataset": "make_moons"})
    assert not any("rare" in n for n in advice({"test": {"pr_auc": 0.9}}, balanced))


def test_advice_gap_and_baselines():
    d = load_dataset({"dataset": "iris"})
    split_metrics = {"train": {"accuracy": 1.0}, "validation": {"accuracy": 0.8}, "test": {"accuracy": 0.9}}
    notes = advice(split_metrics, d)
    assert len(notes) == 1 and "train accuracy 1 vs validation 0.8" in notes[0] and "overfitting" in notes[0]
    assert advice({"train": {"accuracy": 0.95}, "validation": {"accuracy": 0.9},
                   "test": {"accuracy": 0.9}}, d) == []
    notes = advice({"test": {"accuracy": 1 / 3}}, d)
    assert notes == ["test.accuracy = 0.333 is no better than always predicting the most common class "
                     "('setosa', 0.333)"]
    r = load_dataset({"dataset": "diabetes"})
    notes = advice({"train": {"rmse": 30.0}, "validation": {"rmse": 60.0}, "test": {"r2": -0.2}}, r)
    assert len(notes) == 2 and "overfitting" in notes[0] and notes[1].startswith("test.r2 = -0.2 < 0")
    assert advice({"train": {"rmse": 50.0}, "validation": {"rmse": 55.0}, "test": {"r2": 0.4}}, r) == []


def test_advice_regression_gap_when_the_training_rmse_is_below_1():
    """The rule is a ratio (validation > 1.5 × train), whatever the units' scale."""
    r = load_dataset({"dataset": "diabetes"})
    notes = advice({"train": {"rmse": 0.2}, "validation": {"rmse": 0.5}}, r)
    assert notes == ["train rmse 0.2 vs validation 0.5: a gap this large suggests overfitting; "
                     "try early_stopping, l2, dropout or a smaller network"]
    assert advice({"train": {"rmse": 0.2}, "validation": {"rmse": 0.29}}, r) == []
    assert len(advice({"train": {"rmse": 0.002}, "test": {"rmse": 0.004}}, r)) == 1  # test when no validation
    assert len(advice({"train": {"rmse": 0.0}, "validation": {"rmse": 0.3}}, r)) == 1  # memorised
    assert advice({"train": {"rmse": 0.0}, "validation": {"rmse": 0.0}}, r) == []
