"""Losses: gradient checks for every registered one, hand values and scikit-learn references."""

import math

import numpy as np
import pytest
from gradcheck import check_loss
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.distance import cosine as cosine_distance
from sklearn.metrics import log_loss, mean_absolute_error, mean_squared_error

from mlrun.nn.activations import softmax
from mlrun.nn.losses import Loss
from mlrun.registry import build, names

CLASSIFICATION = {"cross_entropy"}  # losses taking integer labels and logits; all others are regression


def _data(name, n=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y_pred = rng.standard_normal((n, k)) * 2
    if name in CLASSIFICATION:
        return rng.integers(0, k, n), y_pred
    y_true = rng.standard_normal((n, k))
    e = y_pred - y_true
    y_pred[np.abs(e) < 1e-3] += 0.1  # keep clear of the kinks of mae/huber at 0
    return y_true, y_pred


@pytest.mark.parametrize("name", names("loss"))
def test_gradient_check(name):
    check_loss(build("loss", name), *_data(name))


@pytest.mark.parametrize("spec", [{"name": "huber", "delta": 0.5}, {"name": "minkowski", "p": 1.5},
                                  {"name": "minkowski", "p": 4}])
def test_gradient_check_with_parameters(spec):
    check_loss(build("loss", spec), *_data(spec["name"]))


@pytest.mark.parametrize("name", names("loss"))
def test_is_a_loss_with_config_and_float32(name):
    loss = build("loss", name)
    assert isinstance(loss, Loss)
    assert build("loss", loss.config()).config() == loss.config()
    y_true, y_pred = _data(name)
    value, grad = loss.value_and_gradient(y_true, y_pred.astype(np.float32))
    assert grad.dtype == np.float32 and isinstance(value, float)
    assert value == pytest.approx(loss.value(y_true, y_pred), rel=1e-5)


@pytest.mark.parametrize("name", sorted(set(names("loss")) - CLASSIFICATION - {"cosine"}))
def test_regression_targets_of_shape_n_pair_with_one_column(name):
    loss = build("loss", name)
    y_true, y_pred = _data(name, k=1)
    assert loss.value(y_true.ravel(), y_pred) == loss.value(y_true, y_pred)
    np.testing.assert_array_equal(loss.gradient(y_true.ravel(), y_pred), loss.gradient(y_true, y_pred))
    assert loss.gradient(y_true.ravel(), y_pred).shape == (6, 1)
    with pytest.raises(ValueError, match="does not match"):
        loss.value(y_true.ravel()[:5], y_pred)


@pytest.mark.parametrize("n", [1, 6])  # one row: (1, k).T is already contiguous, so a view, not a copy
@pytest.mark.parametrize("name", names("loss"))
def test_inputs_are_not_modified(name, n):
    y_true, y_pred = _data(name, n=n)
    t, p = y_true.copy(), y_pred.copy()
    build("loss", name).value_and_gradient(y_true, y_pred)
    np.testing.assert_array_equal(y_true, t)
    np.testing.assert_array_equal(y_pred, p)


def test_mse_mae_rmse_match_scikit_learn():
    y_true, y_pred = _data("mse", n=20, k=3)
    assert build("loss", "mse").value(y_true, y_pred) == pytest.approx(mean_squared_error(y_true, y_pred))
    assert build("loss", "mae").value(y_true, y_pred) == pytest.approx(mean_absolute_error(y_true, y_pred))
    t, p = y_true[:, :1], y_pred[:, :1]
    assert build("loss", "rmse").value(t, p) == pytest.approx(math.sqrt(mean_squared_error(t, p)))


def test_regression_hand_values():
    y_true, y_pred = np.array([[1.0], [2.0], [3.0]]), np.array([[1.5], [0.0], [6.0]])  # e = 0.5, -2, 3
    assert build("loss", "mse").value(y_true, y_pred) == pytest.approx((0.25 + 4 + 9) / 3)
    np.testing.assert_allclose(build("loss", "mse").gradient(y_true, y_pred), [[1 / 3], [-4 / 3], [2]])
    assert build("loss", "mae").value(y_true, y_pred) == pytest.approx(5.5 / 3)
    np.testing.assert_allclose(build("loss", "mae").gradient(y_true, y_pred), [[1 / 3], [-1 / 3], [1 / 3]])
    assert build("loss", "rmse").value(y_true, y_pred) == pytest.approx(math.sqrt(13.25 / 3))


def test_huber_on_both_sides_of_delta():
    huber = build("loss", "huber")
    y_true, y_pred = np.zeros(3), np.array([0.5, -2.0, 3.0])
    # 0.5 is inside (0.5 · 0.25), -2 and 3 outside (|e| - 0.5)
    assert huber.value(y_true, y_pred) == pytest.approx((0.125 + 1.5 + 2.5) / 3)
    np.testing.assert_allclose(huber.gradient(y_true, y_pred), [0.5 / 3, -1 / 3, 1 / 3])
    wide = build("loss", {"name": "huber", "delta": 10.0})  # everything inside: half the mse
    assert wide.value(y_true, y_pred) == pytest.approx(0.5 * build("loss", "mse").value(y_true, y_pred))


def test_minkowski_by_hand_and_its_special_cases():
    y_true, y_pred = np.zeros(2), np.array([1.0, -2.0])
    assert build("loss", "minkowski").value(y_true, y_pred) == pytest.approx(4.5 ** (1 / 3))  # (1+8)/2
    t, p = _data("mse")
    for p_, same in ((1, "mae"), (2, "rmse")):
        m = build("loss", {"name": "minkowski", "p": p_})
        assert m.value(t, p) == pytest.approx(build("loss", same).value(t, p))
        np.testing.assert_allclose(m.gradient(t, p), build("loss", same).gradient(t, p), rtol=1e-12)


@pytest.mark.parametrize("name", ["rmse", "minkowski", "mse", "mae", "huber"])
def test_gradient_is_zero_at_zero_error(name):
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    loss = build("loss", name)
    value, grad = loss.value_and_gradient(y, y.copy())
    assert value == 0
    np.testing.assert_array_equal(grad, 0)


def test_cosine_by_hand_and_against_scipy():
    cos = build("loss", "cosine")
    y_true, y_pred = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0, 1.0], [0.0, 2.0]])
    assert cos.value(y_true, y_pred) == pytest.approx((1 - 1 / math.sqrt(2)) / 2)
    t, p = _data("cosine", n=10, k=4)
    expected = np.mean([cosine_distance(a, b) for a, b in zip(t, p)])
    assert cos.value(t, p) == pytest.approx(expected)
    assert cos.value(t, 3 * p) == pytest.approx(expected)  # scale free


def test_cosine_needs_more_than_one_target():
    cos = build("loss", "cosine")
    for y in (np.ones((4, 1)), np.ones(4)):
        with pytest.raises(ValueError, match="two or more targets"):
            cos.value(y, y)
        with pytest.raises(ValueError, match="two or more targets"):
            cos.value_and_gradient(y, y)


def test_cross_entropy_matches_scikit_learn_log_loss():
    y_true, z = _data("cross_entropy", n=50, k=4)
    ce = build("loss", "cross_entropy")
    assert ce.value(y_true, z) == pytest.approx(log_loss(y_true, softmax(z), labels=range(4)), rel=1e-10)


def test_cross_entropy_by_hand():
    ce = build("loss", "cross_entropy")
    assert ce.value(np.array([0]), np.zeros((1, 2))) == pytest.approx(math.log(2))
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    value, grad = ce.value_and_gradient(np.array([2, 1]), z)
    lse = math.log(math.exp(1) + math.exp(2) + math.exp(3))
    assert value == pytest.approx((lse - 3 + math.log(3)) / 2)
    expected = (softmax(z) - np.array([[0, 0, 1], [0, 1, 0]])) / 2
    np.testing.assert_allclose(grad, expected, rtol=1e-12)
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-15)
    value_f, _ = ce.value_and_gradient(np.array([2.0, 1.0]), z)  # labels stored as floats
    assert value_f == value


def test_cross_entropy_is_stable_for_huge_logits():
    ce = build("loss", "cross_entropy")
    z = np.array([[1000.0, 0.0], [-1000.0, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value, grad = ce.value_and_gradient(np.array([0, 0]), z)
    assert value == pytest.approx(500.0)
    np.testing.assert_allclose(grad, [[0, 0], [-0.5, 0.5]], atol=1e-300)
    z32 = z.astype(np.float32)
    assert ce.value(np.array([0, 0]), z32) == pytest.approx(500.0)


def test_cross_entropy_rejects_bad_labels():
    ce = build("loss", "cross_entropy")
    with pytest.raises(ValueError, match=r"labels in \[0, 3\)"):
        ce.value(np.array([0, 3]), np.zeros((2, 3)))


@settings(deadline=None, max_examples=50)
@given(arrays(np.float64, (4, 3), elements=st.floats(-50, 50)), st.lists(st.integers(0, 2), min_size=4,
                                                                         max_size=4))
def test_cross_entropy_is_finite_non_negative_with_zero_sum_gradient_rows(z, labels):
    value, grad = build("loss", "cross_entropy").value_and_gradient(np.array(labels), z)
    assert value >= 0 and math.isfinite(value)
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-12)


# -- edge sizes -----------------------------------------------------------------------------------
def test_mse_on_a_one_element_batch():
    """mean(e²) = e², d/dŷ = 2e, whether y_true is (1,) or (1, 1)."""
    mse = build("loss", "mse")
    for y_true in (np.array([0.5]), np.array([[0.5]])):
        value, grad = mse.value_and_gradient(y_true, np.array([[2.0]]))
        assert value == 2.25 and grad.shape == (1, 1) and grad[0, 0] == 3.0
        assert mse.value(y_true, np.array([[2.0]])) == 2.25
        np.testing.assert_array_equal(mse.gradient(y_true, np.array([[2.0]])), [[3.0]])


@pytest.mark.parametrize("name", sorted(set(names("loss")) - {"cosine"}))
def test_gradient_check_on_a_one_element_batch(name):
    check_loss(build("loss", name), *_data(name, n=1, k=1 if name not in CLASSIFICATION else 3))


@pytest.mark.parametrize("p", [1, 1.5, 2, 3])
def test_minkowski_gradient_where_some_errors_are_exactly_zero(p):
    """At e = 0 the gradient is 0 (sign(0) = 0, as torch's abs); elsewhere m^(1/p-1)|e|^(p-1)sign(e)/N."""
    y_true = np.array([[0.0, 1.0], [2.0, 3.0]])
    y_pred = np.array([[0.0, 1.5], [2.0, 1.0]])  # e = 0, 0.5, 0, -2
    e = (y_pred - y_true).ravel()
    m = np.mean(np.abs(e) ** p)
    expected = (m ** (1 / p - 1) * np.abs(e) ** (p - 1) * np.sign(e) / 4).reshape(2, 2)
    expected[y_pred == y_true] = 0.0
    loss = build("loss", {"name": "minkowski", "p": p})
    value, grad = loss.value_and_gradient(y_true, y_pred)
    assert value == pytest.approx(m ** (1 / p))
    assert np.all(np.isfinite(grad)) and grad[0, 0] == 0 and grad[1, 0] == 0
    np.testing.assert_allclose(grad, expected, rtol=1e-12)
    np.testing.assert_allclose(loss.gradient(y_true, y_pred), grad, rtol=1e-12)
