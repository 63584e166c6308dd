"""Layers: gradient checks, the flat-buffer contract, batch-norm statistics, dropout, registry wiring."""

import json
import subprocess
import sys

import numpy as np
import pytest
from gradcheck import check_layer
from specs import model_section

from mlrun.nn.initializers import HeNormal, LecunNormal
from mlrun.nn.layers import SELU_ALPHA_PRIME, AlphaDropout
from mlrun.registry import RegistryError, build, names

# the spec each registered layer is tested with (a layer missing here is tested with its defaults)
SPECS = {"dense": {"name": "dense", "units": 3, "activation": "tanh"},
         "bitwise_dense": {"name": "bitwise_dense", "units": 3, "beta": 0.2}}


def _spec(name):
    return SPECS.get(name, {"name": name})


def _x(shape=(7, 4), seed=1):
    x = np.random.default_rng(seed).standard_normal(shape)
    x[np.abs(x) < 1e-3] = 0.5
    return x


def _reseed(layer):
    layer.rng = np.random.default_rng(99)  # a fixed dropout mask / rrelu slopes in every evaluation


def _built(spec, in_dim=4, dtype=np.float64, seed=0):
    layer = build("layer", spec)
    layer.build(in_dim, np.random.default_rng(seed), dtype)
    return layer


def _randomise_params(layer, seed=5):
    rng = np.random.default_rng(seed)
    for p in layer.params.values():
        p[...] = rng.uniform(0.5, 1.5, p.shape) * rng.choice([-1, 1], p.shape)


# -- every layer --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", names("layer"))
@pytest.mark.parametrize("training", [True, False])
def test_gradient_check_every_layer(name, training):
    layer = _built(_spec(name))
    _randomise_params(layer)
    check_layer(layer, _x(), training=training, before_forward=_reseed)


@pytest.mark.parametrize("name", names("layer"))
def test_float32_in_float32_out(name):
    layer = _built(_spec(name), dtype=np.float32)
    assert all(p.dtype == np.float32 for p in [*layer.params.values(), *layer.grads.values()])
    assert all(s.dtype == np.float32 for s in layer.state.values())
    y = layer.forward(_x().astype(np.float32), training=True)
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == np.float32 and dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.grads.values())


@pytest.mark.parametrize("name", names("layer"))
def test_contract_attributes_and_config_round_trip(name):
    layer = build("layer", _spec(name))
    assert layer.input_grad is True
    assert isinstance(layer.regularized, tuple)
    assert layer.regularized == (("W",) if name == "dense" else ())
    assert build("layer", layer.config()).config() == layer.config()


PRELU_HOSTS = [
    {"name": "dense", "units": 3, "activation": "prelu"},
    {"name": "activation", "activation": "prelu"},
]


@pytest.mark.parametrize("spec", [_spec(name) for name in names("layer")] + PRELU_HOSTS, ids=str)
def test_works_on_views_into_a_flat_buffer(spec):
    """What the Network does: params and grads become views into one buffer after build."""
    layer, twin = _built(spec), _built(spec)
    for store in (layer.params, layer.grads):
        flat = np.concatenate([a.ravel() for a in store.values()] or [np.zeros(0)])
        offset = 0
        for key, a in store.items():
            store[key] = flat[offset:offset + a.size].reshape(a.shape)
            offset += a.size
    _randomise_params(layer)  # written into the views: a layer holding the old arrays would miss it
    _randomise_params(twin)
    x = _x()
    dy = _x(twin.forward(x).shape, seed=2)
    for a in (layer, twin):
        _reseed(a)
        y = a.forward(x, training=True)
        a.backward(dy)
        assert y is not None
    np.testing.assert_array_equal(layer.forward(x), twin.forward(x))
    for key in twin.grads:
        np.testing.assert_array_equal(layer.grads[key], twin.grads[key])


def test_registry_sees_every_part_from_a_fresh_interpreter():
    code = "import json; from mlrun.registry import names; " \
           "print(json.dumps({k: names(k) for k in ('activation', 'initializer', 'layer', 'loss')}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    got = json.loads(out)
    assert set(got["activation"]) >= {"sigmoid", "tanh", "relu", "leaky_relu", "rrelu", "prelu", "elu",
                                      "selu", "softmax", "linear"}
    assert set(got["initializer"]) >= {"glorot_normal", "glorot_uniform", "lecun_normal", "lecun_uniform",
                                       "he_normal", "he_uniform", "zeros"}
    assert set(got["layer"]) >= {"dense", "activation", "batch_norm", "dropout", "alpha_dropout"}
    assert set(got["loss"]) >= {"mse", "mae", "rmse", "huber", "minkowski", "cosine", "cross_entropy"}


# -- dense --------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", names("activation"))
@pytest.mark.parametrize("training", [True, False])
def test_dense_gradient_check_with_each_activation(activation, training):
    layer = _built({"name": "dense", "units": 3, "activation": activation})
    _randomise_params(layer)
    errors = check_layer(layer, _x(), training=training, before_forward=_reseed)
    assert set(errors) >= {"x", "W", "b"}
    if activation == "prelu":
        assert "act.alpha" in errors


def test_dense_forward_by_hand():
    layer = _built({"name": "dense", "units": 2, "activation": "relu"}, in_dim=3)
    layer.params["W"][...] = [[1.0, -1.0], [2.0, 0.0], [0.0, 3.0]]
    layer.params["b"][...] = [0.5, -10.0]
    y = layer.forward(np.array([[1.0, 1.0, 1.0], [0.0, -1.0, 2.0]]))
    np.testing.assert_allclose(y, [[3.5, 0.0], [0.0, 0.0]])  # z = [[3.5, -8], [-1.5, -4]]
    dx = layer.backward(np.ones((2, 2)))
    np.testing.assert_allclose(layer.grads["W"], [[1, 0], [1, 0], [1, 0]])
    np.testing.assert_allclose(layer.grads["b"], [1, 0])
    np.testing.assert_allclose(dx, [[1, 2, 0], [0, 0, 0]])


def test_dense_shapes_bias_and_auto_initializer():
    layer = _built({"name": "dense", "units": 5, "activation": {"name": "leaky_relu", "alpha": 0.1}})
    assert layer.params["W"].shape == (4, 5) and layer.grads["W"].shape == (4, 5)
    np.testing.assert_array_equal(layer.params["b"], np.zeros(5))
    assert isinstance(layer.init, HeNormal)
    assert layer.act.alpha == 0.1
    assert layer.config()["activation"] == {"name": "leaky_relu", "alpha": 0.1}
    assert isinstance(build("layer", {"name": "dense", "units": 2, "activation": "selu"}).init, LecunNormal)
    no_bias = _built({"name": "dense", "units": 5, "use_bias": False})
    assert set(no_bias.params) == {"W"} and set(no_bias.grads) == {"W"}
    check_layer(no_bias, _x())


def test_dense_initializer_uses_the_given_generator():
    a = _built({"name": "dense", "units": 3, "initializer": "glorot_normal"}, seed=7)
    np.testing.assert_array_equal(
        a.params["W"], build("initializer", "glorot_normal")((4, 3), np.random.default_rng(7)))


def test_dense_skips_dx_when_input_grad_is_off():
    layer, twin = _built({"name": "dense", "units": 3}), _built({"name": "dense", "units": 3})
    layer.input_grad = False
    x, dy = _x(), _x((7, 3), seed=2)
    layer.forward(x)
    twin.forward(x)
    assert layer.backward(dy) is None
    twin.backward(dy)
    np.testing.assert_array_equal(layer.grads["W"], twin.grads["W"])


def test_dense_prelu_slopes_are_layer_params():
    layer = _built({"name": "dense", "units": 3, "activation": "prelu"})
    assert set(layer.params) == {"W", "b", "act.alpha"}
    np.testing.assert_array_equal(layer.params["act.alpha"], [0.25] * 3)
    layer.params["act.alpha"] = np.array([0.0, 0.0, 0.0])  # what the Network's flat buffer does
    layer.params["W"][...] = -1
    assert np.all(layer.forward(np.ones((2, 4))) == 0)  # the new slopes are the ones used


def test_dense_passes_a_later_generator_to_its_activation():
    a = _built({"name": "dense", "units": 3, "activation": "rrelu"})
    b = _built({"name": "dense", "units": 3, "activation": "rrelu"})
    a.rng, b.rng = np.random.default_rng(1), np.random.default_rng(1)
    x = -np.ones((2, 4))
    np.testing.assert_array_equal(a.forward(x, True), b.forward(x, True))
    a.rng = np.random.default_rng(2)
    assert not np.array_equal(a.forward(x, True), b.forward(x, True))


@pytest.mark.parametrize(
    "spec, message",
    [({"name": "dense", "units": 0}, "units must be >= 1; got 0"),
     ({"name": "dense", "units": 3, "activation": "relux"}, "did you mean 'relu'"),
     ({"name": "dropout", "rate": 1.5}, r"rate must be in \[0, 1\); got 1.5"),
     ({"name": "dropout", "rate": 1.0}, r"rate must be in \[0, 1\); got 1.0"),
     ({"name": "alpha_dropout", "rate": -0.1}, r"rate must be in \[0, 1\); got -0.1"),
     ({"name": "batch_norm", "momentum": 1.5}, r"momentum must be in \[0, 1\]; got 1.5"),
     ({"name": "batch_norm", "epsilon": 0}, "epsilon must be > 0")],
)
def test_bad_arguments_are_registry_errors(spec, message):
    with pytest.raises(RegistryError, match=message):
        build("layer", spec)


# -- activation layer ---------------------------------------------------------------------------
def test_activation_layer_wraps_an_activation():
    layer = _built({"name": "activation", "activation": {"name": "elu", "alpha": 0.5}})
    y = layer.forward(np.array([[-1.0, 2.0, 0.0, -3.0]]))
    np.testing.assert_allclose(y, [[0.5 * np.expm1(-1), 2.0, 0.0, 0.5 * np.expm1(-3)]])
    assert build("layer", "activation").act.registry_name == "relu"
    prelu = _built({"name": "activation", "activation": "prelu"})
    assert set(prelu.params) == {"act.alpha"}
    check_layer(prelu, _x())


# -- batch norm ---------------------------------------------------------------------------------
def test_batch_norm_moving_statistics_after_two_steps():
    bn = _built("batch_norm", in_dim=2)
    # batch 1: mean [2, 4], biased variance [1, 4]; batch 2: mean [1, -2], variance [1, 4]
    y1 = bn.forward(np.array([[1.0, 2.0], [3.0, 6.0]]), training=True)
    np.testing.assert_allclose(bn.state["moving_mean"], [0.02, 0.04])
    np.testing.assert_allclose(bn.state["moving_var"], [1.0, 1.03])
    bn.forward(np.array([[0.0, 0.0], [2.0, -4.0]]), training=True)
    np.testing.assert_allclose(bn.state["moving_mean"], [0.0298, 0.0196])  # .99 · .02 + .01 · 1
    np.testing.assert_allclose(bn.state["moving_var"], [1.0, 1.0597])  # .99 · 1.03 + .01 · 4
    np.testing.assert_allclose(y1, [[-1, -1], [1, 1]] / np.sqrt(1 + np.array([1e-3, 1e-3 / 4])), rtol=1e-12)
    # inference uses the moving statistics
    y = bn.forward(np.array([[1.0, 1.0]]), training=False)
    np.testing.assert_allclose(y, [[(1 - 0.0298) / np.sqrt(1.001), (1 - 0.0196) / np.sqrt(1.0607)]])
    assert set(bn.params) == {"gamma", "beta"} and set(bn.state) == {"moving_mean", "moving_var"}


def test_batch_norm_starts_as_identity_in_inference_and_standardises_in_training():
    bn = _built("batch_norm")
    x = _x((500, 4)) * 3 + 7
    np.testing.assert_allclose(bn.forward(x, training=False), x / np.sqrt(1 + 1e-3))
    y = bn.forward(x, training=True)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), 9 / (9 + 1e-3 / x.var(axis=0) * 9), rtol=1e-3)
    bn.params["gamma"][...] = 2.0
    bn.params["beta"][...] = -1.0
    np.testing.assert_allclose(bn.forward(x, training=True), 2 * y - 1, rtol=1e-12)


# -- dropout ------------------------------------------------------------------------------------
def test_dropout_inference_is_identity_and_training_keeps_the_mean():
    layer = _built({"name": "dropout", "rate": 0.3})
    x = np.ones((400, 250))
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    np.testing.assert_array_equal(layer.backward(x), x)
    y = layer.forward(x, training=True)
    assert abs(np.mean(y == 0) - 0.3) < 0.005
    np.testing.assert_allclose(y[y != 0], 1 / 0.7)
    assert abs(y.mean() - 1) < 0.01
    dx = layer.backward(np.full_like(x, 2.0))
    np.testing.assert_allclose(dx, 2 * y)  # the same mask scales the gradient


def test_dropout_draws_from_the_given_generator():
    def run(seed):
        layer = build("layer", "dropout")
        layer.build(50, None if seed is None else np.random.default_rng(seed))
        return layer.forward(np.ones((4, 50)), training=True)

    np.testing.assert_array_equal(run(1), run(1))
    np.testing.assert_array_equal(run(None), run(None))
    assert not np.array_equal(run(1), run(2))
    layer = build("layer", "dropout")
    first, second = layer.forward(np.ones((4, 50)), True), layer.forward(np.ones((4, 50)), True)
    assert not np.array_equal(first, second)  # a fresh mask each batch


def test_alpha_dropout_constants():
    layer = AlphaDropout(0.05)
    assert SELU_ALPHA_PRIME == -1.7580993408473766
    assert layer.a == pytest.approx(0.954844, abs=1e-6)
    assert layer.b == pytest.approx(0.083936, abs=1e-6)


def test_alpha_dropout_values_and_self_normalisation():
    layer = _built({"name": "alpha_dropout", "rate": 0.05})
    a, b = layer.a, layer.b
    x = np.random.default_rng(0).standard_normal((1000, 400))
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    y = layer.forward(x, training=True)
    dropped = np.isclose(y, a * SELU_ALPHA_PRIME + b, rtol=0, atol=1e-12)
    assert abs(dropped.mean() - 0.05) < 0.003
    np.testing.assert_allclose(y[~dropped], a * x[~dropped] + b, rtol=1e-12, atol=1e-15)
    assert abs(y.mean()) < 0.01 and abs(y.var() - 1) < 0.01  # mean 0, variance 1 preserved
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_allclose(dx[~dropped], a)
    np.testing.assert_array_equal(dx[dropped], 0)


def test_activation_layer_passes_the_training_flag_to_rrelu():
    """rrelu as its own layer: random slopes in [lower, upper] in training, (lower + upper)/2 in inference."""
    layer = _built({"name": "activation", "activation": "rrelu"})
    x = -np.ones((100, 4))
    np.testing.assert_array_equal(layer.forward(x, training=False), np.full(x.shape, -(1 / 8 + 1 / 3) / 2))
    slopes = layer.forward(x, training=True) / x
    assert 1 / 8 <= slopes.min() and slopes.max() <= 1 / 3 and len(np.unique(slopes)) == slopes.size


def test_dense_batch_norm_rrelu_network_is_deterministic_in_inference():
    """dense -> batch_norm -> activation(rrelu): predictions are the mean-slope rrelu of the batch norm's
    output, the same on every call; a training forward draws fresh slopes."""
    from mlrun.nn.network import Network, expand_model, output_spec

    specs = expand_model(model_section(hidden_layers=1, neurons=16, activation="rrelu", batch_norm=True))
    assert [s["name"] for s in specs] == ["dense", "batch_norm", "activation"]
    net = Network(specs + [output_spec(2)], 4, "float64", np.random.default_rng(0), np.random.default_rng(1))
    x = _x((50, 4))
    first, second = net.predict_output(x), net.predict_output(x)
    np.testing.assert_array_equal(first, second)
    dense, norm, _, out = net.layers
    h = norm.forward(dense.forward(x, training=False), training=False)
    h = np.where(h > 0, h, h * (1 / 8 + 1 / 3) / 2)
    np.testing.assert_allclose(first, out.forward(h, training=False), rtol=1e-12)
    assert not np.array_equal(net.forward(x, training=True), net.forward(x, training=True))


@pytest.mark.parametrize("model", [
    {"activation": "rrelu", "batch_norm": True},
    {"activation": "rrelu"},
    {"activation": "relu", "dropout": 0.5},
    {"activation": "selu", "dropout": 0.2},
    {"activation": "rrelu", "batch_norm": True, "dropout": 0.3},
], ids=str)
def test_every_noisy_layer_is_noise_free_in_inference(model):
    from mlrun.nn.network import Network, expand_model, output_spec

    specs = expand_model(model_section(**{"hidden_layers": 2, "neurons": 16, **model})) + [output_spec(2)]
    net = Network(specs, 4, "float64", np.random.default_rng(0), np.random.default_rng(1))
    x = _x((50, 4))
    np.testing.assert_array_equal(net.predict_output(x), net.predict_output(x))
    np.testing.assert_array_equal(net.forward(x, training=False), net.predict_output(x))
    assert not np.array_equal(net.forward(x, training=True), net.forward(x, training=True))
