"""Activations: gradient checks for every registered one, hand values, torch constants, dtypes."""

import math

import numpy as np
import pytest
from gradcheck import check_layer
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mlrun.nn.activations import ACTIVATIONS, SELU_ALPHA, SELU_SCALE, Activation
from mlrun.registry import build, names

ACTIVATION_NAMES = names("activation")


def _x(shape=(6, 5), seed=1):
    x = np.random.default_rng(seed).standard_normal(shape) * 2
    x[np.abs(x) < 1e-3] = 0.5  # keep clear of the kinks at 0
    return x


def _reseed(layer):
    layer.rng = np.random.default_rng(123)  # the same random slopes in every evaluation


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@pytest.mark.parametrize("training", [False, True])
def test_gradient_check(name, training):
    act = build("activation", name)
    errors = check_layer(act, _x(), training=training, before_forward=_reseed)
    if name == "prelu":
        assert "alpha" in errors  # the learned slope is checked too


def test_prelu_gradient_with_non_default_slopes():
    act = build("activation", "prelu")
    act.build(5, None, np.float64)
    act.params["alpha"][:] = [0.1, -0.3, 0.5, 1.5, 0.0]
    check_layer(act, _x())


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_is_an_activation_with_its_config(name):
    act = build("activation", name)
    assert isinstance(act, Activation) and act.registry_kind == "activation"
    again = build("activation", act.config())
    assert type(again) is type(act) and again.config() == act.config()


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_float32_stays_float32(name):
    act = build("activation", name)
    x = _x().astype(np.float32)
    y = act.forward(x, training=True)
    dx = act.backward(np.ones_like(y))
    assert y.dtype == np.float32 and dx.dtype == np.float32
    y32 = act.forward(x, training=False)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, build("activation", name).forward(x.astype(np.float64)), rtol=1e-5)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_table_matches_classes_in_inference(name):
    x = _x()
    np.testing.assert_allclose(ACTIVATIONS[name](x), build("activation", name).forward(x), rtol=1e-15)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_backward_uses_the_last_forward(name):
    a, b = build("activation", name), build("activation", name)
    x1, x2, dy = _x(seed=1), _x(seed=2), _x(seed=3)
    a.forward(x1)
    a.forward(x2)
    b.forward(x2)
    np.testing.assert_array_equal(a.backward(dy), b.backward(dy))


X = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 2.0])


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("relu", [0, 0, 0, 0, 0.5, 2]),
        ("linear", X),
        ("leaky_relu", [-0.6, -0.2, -0.1, 0, 0.5, 2]),
        ({"name": "leaky_relu", "alpha": 0.01}, [-0.03, -0.01, -0.005, 0, 0.5, 2]),
        ("prelu", [-0.75, -0.25, -0.125, 0, 0.5, 2]),
        ("rrelu", [-3 * 11 / 48, -11 / 48, -0.5 * 11 / 48, 0, 0.5, 2]),  # slope (1/8 + 1/3)/2 = 11/48
        ("elu", [math.expm1(-3), math.expm1(-1), math.expm1(-0.5), 0, 0.5, 2]),
        ({"name": "elu", "alpha": 2.0}, [2 * math.expm1(v) for v in (-3, -1, -0.5)] + [0, 0.5, 2]),
        ("sigmoid", [1 / (1 + math.exp(3)), 1 / (1 + math.e), 1 / (1 + math.exp(0.5)), 0.5,
                     1 / (1 + math.exp(-0.5)), 1 / (1 + math.exp(-2))]),
        ("tanh", np.tanh(X)),
        ("softsign", [-0.75, -0.5, -1 / 3, 0, 1 / 3, 2 / 3]),  # x / (1 + |x|)
    ],
)
def test_hand_values(spec, expected):
    y = build("activation", spec).forward(X[None, :])[0]
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-15)


def test_selu_constants_and_values():
    # torch.nn.functional.selu(torch.tensor([-1., 1.])) = [-1.1113, 1.0507]
    assert SELU_ALPHA == 1.6732632423543772 and SELU_SCALE == 1.0507009873554805
    y = build("activation", "selu").forward(np.array([[-1.0, 1.0, -50.0]]))[0]
    expected = [-1.1113307378125628, 1.0507009873554805, -SELU_ALPHA * SELU_SCALE]
    np.testing.assert_allclose(y, expected, rtol=1e-12)


def test_derivatives_by_hand():
    x = np.array([[-1.0, 2.0]])
    ones = np.ones_like(x)
    for spec, slope in [
        ("relu", [0, 1]), ("leaky_relu", [0.2, 1]), ("elu", [math.exp(-1), 1]),
        ("selu", [SELU_SCALE * SELU_ALPHA * math.exp(-1), SELU_SCALE]),
        ("sigmoid", [math.exp(-1) / (1 + math.exp(-1)) ** 2, math.exp(-2) / (1 + math.exp(-2)) ** 2]),
        ("tanh", [1 - math.tanh(-1) ** 2, 1 - math.tanh(2) ** 2]),
        ("softsign", [1 / 4, 1 / 9]),  # 1 / (1 + |x|)²
    ]:
        act = build("activation", spec)
        act.forward(x)
        np.testing.assert_allclose(act.backward(ones)[0], slope, rtol=1e-12, err_msg=spec)


@pytest.mark.parametrize("name", ["elu", "selu", "leaky_relu", "rrelu", "prelu"])
def test_tiny_positive_inputs_stay_exact(name):
    scale = SELU_SCALE if name == "selu" else 1.0
    for dtype, tiny in ((np.float64, 1e-12), (np.float32, 1e-6)):
        y = build("activation", name).forward(np.array([[tiny, 3 * tiny]], dtype=dtype))
        np.testing.assert_allclose(y, scale * np.array([[tiny, 3 * tiny]]), rtol=1e-6)


def test_no_overflow_at_extremes():
    x = np.array([[-1000.0, 1000.0, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        np.testing.assert_allclose(build("activation", "sigmoid").forward(x)[0], [0, 1, 0.5])
        np.testing.assert_allclose(build("activation", "elu").forward(x)[0], [-1, 1000, 0])
        np.testing.assert_allclose(build("activation", "softmax").forward(x)[0], [0, 1, 0])


def test_softmax_rows_sum_to_one_and_shift_invariant():
    x = _x((8, 4))
    act = build("activation", "softmax")
    y = act.forward(x)
    np.testing.assert_allclose(y.sum(axis=1), 1, rtol=1e-12)
    np.testing.assert_allclose(act.forward(x + 100), y, rtol=1e-12)
    e = np.exp(x[0])
    np.testing.assert_allclose(y[0], e / e.sum(), rtol=1e-12)


@settings(deadline=None, max_examples=50)
@given(arrays(np.float64, (3, 4), elements=st.floats(-500, 500)))
def test_softmax_is_a_distribution(x):
    y = build("activation", "softmax").forward(x)
    assert np.all(y >= 0)
    np.testing.assert_allclose(y.sum(axis=1), 1, rtol=1e-12)


def test_rrelu_training_draws_a_slope_per_element_in_range():
    act = build("activation", "rrelu")
    act.build(1000, np.random.default_rng(0))
    x = -np.ones((50, 1000))
    slopes = -act.forward(x, training=True)
    assert np.all(slopes >= 1 / 8) and np.all(slopes <= 1 / 3)
    assert abs(slopes.mean() - 11 / 48) < 0.005  # uniform(1/8, 1/3) has mean 11/48
    assert abs(slopes.var() - (1 / 3 - 1 / 8) ** 2 / 12) < 0.0005
    np.testing.assert_array_equal(act.forward(np.ones((2, 1000)), training=True), 1)  # positives untouched
    np.testing.assert_allclose(act.forward(x, training=False), -11 / 48)
    np.testing.assert_array_equal(act.backward(np.ones_like(x)), 11 / 48)


def test_rrelu_noise_comes_from_the_given_generator():
    def run(seed):
        act = build("activation", {"name": "rrelu", "lower": 0.1, "upper": 0.9})
        act.build(20, None if seed is None else np.random.default_rng(seed))
        return act.forward(-np.ones((3, 20)), training=True)

    np.testing.assert_array_equal(run(4), run(4))
    np.testing.assert_array_equal(run(None), run(None))  # its own seeded default
    assert not np.array_equal(run(4), run(5))


def test_rrelu_rejects_bad_bounds():
    with pytest.raises(ValueError, match="lower <= upper"):
        build("activation", {"name": "rrelu", "lower": 0.5, "upper": 0.1})


def test_prelu_sizes_its_slopes_on_first_forward_and_learns_per_unit():
    act = build("activation", {"name": "prelu", "alpha": 0.1})
    y = act.forward(np.array([[-1.0, -2.0, 3.0], [-4.0, 1.0, 1.0]]))
    np.testing.assert_array_equal(act.params["alpha"], [0.1, 0.1, 0.1])
    np.testing.assert_allclose(y, [[-0.1, -0.2, 3.0], [-0.4, 1.0, 1.0]])
    act.backward(np.array([[1.0, 1.0, 1.0], [2.0, 1.0, 1.0]]))
    np.testing.assert_allclose(act.grads["alpha"], [-1 - 8, -2, 0])  # Σ dy · min(x, 0) per unit


def test_prelu_built_in_float32():
    act = build("activation", "prelu")
    act.build(4, None, np.float32)
    assert act.params["alpha"].dtype == np.float32 and act.params["alpha"].shape == (4,)


@pytest.mark.parametrize("name", names("activation"))
def test_forward_owned_equals_forward(name):
    """forward_owned may reuse its input; its output and the backward that follows must not change."""
    x = np.random.default_rng(5).standard_normal((6, 4))
    dy = np.random.default_rng(6).standard_normal((6, 4))
    a, b = build("activation", name), build("activation", name)
    y = a.forward(x.copy(), training=False)
    dx = a.backward(dy)
    y_owned = b.forward_owned(x.copy(), training=False)
    np.testing.assert_array_equal(y_owned, y)
    np.testing.assert_array_equal(b.backward(dy), dx)


def test_softsign_tails_are_polynomial_and_exact_far_out():
    # torch.nn.functional.softsign(torch.tensor([1e8, -1e8])) = [1.0, -1.0]; slope 1/(1+|x|)² stays > 0
    act = build("activation", "softsign")
    y = act.forward(np.array([[1e8, -1e8, 99.0]]))
    np.testing.assert_allclose(y[0], [1e8 / (1 + 1e8), -1e8 / (1 + 1e8), 0.99], rtol=1e-15)
    np.testing.assert_allclose(act.backward(np.ones((1, 3)))[0], [1 / (1 + 1e8) ** 2] * 2 + [1e-4], rtol=1e-12)
