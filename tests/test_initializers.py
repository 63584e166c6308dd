"""Initializers: variances and bounds of docs/contract.md, seeding, dtypes, auto, self-normalisation."""

import numpy as np
import pytest

from mlrun.nn.initializers import auto_initializer, fans
from mlrun.registry import RegistryError, build, names

SHAPE = (400, 600)  # fan_in 400, fan_out 600, fan_avg 500

# name -> (distribution, variance for SHAPE); a uniform U(-r, r) has variance r²/3
EXPECTED = {
    "glorot_normal": ("normal", 1 / 500),
    "glorot_uniform": ("uniform", 1 / 500),
    "lecun_normal": ("normal", 1 / 400),
    "lecun_uniform": ("uniform", 1 / 400),
    "he_normal": ("normal", 2 / 400),
    "he_uniform": ("uniform", 2 / 400),
    "zeros": ("zeros", 0.0),
    "random_normal": ("normal", 1.0),  # stddev 1 whatever the fans
    "random_uniform": ("uniform", 1 / 3),  # U(-1, 1)
    "standard_uniform": ("uniform", 1 / (3 * 400)),  # U(-1/sqrt(fan_in), 1/sqrt(fan_in)): r = 1/20
}


def test_every_contract_initializer_is_registered():
    assert set(EXPECTED) <= set(names("initializer"))
    with pytest.raises(RegistryError):
        build("initializer", "auto")  # "auto" is resolved by the layer, not registered


@pytest.mark.parametrize("name", names("initializer"))
def test_same_seed_same_numbers_and_float32_is_the_float64_draw_cast(name):
    init = build("initializer", name)
    w64 = init(SHAPE, np.random.default_rng(3))
    w64_again = init(SHAPE, np.random.default_rng(3))
    w32 = init(SHAPE, np.random.default_rng(3), dtype=np.float32)
    assert w64.shape == SHAPE and w64.dtype == np.float64 and w32.dtype == np.float32
    np.testing.assert_array_equal(w64, w64_again)
    np.testing.assert_array_equal(w32, w64.astype(np.float32))
    if name != "zeros":
        assert not np.array_equal(w64, init(SHAPE, np.random.default_rng(4)))


@pytest.mark.parametrize("name", list(EXPECTED))
def test_distribution(name):
    kind, variance = EXPECTED[name]
    w = build("initializer", name)(SHAPE, np.random.default_rng(0))
    if kind == "zeros":
        np.testing.assert_array_equal(w, 0)
        return
    assert abs(w.mean()) < 0.01 * np.sqrt(variance)
    assert abs(w.var() / variance - 1) < 0.02
    r = np.sqrt(3 * variance)
    if kind == "uniform":
        assert np.abs(w).max() <= r and np.abs(w).max() > 0.999 * r
        # flat: each tenth of [-r, r] holds a tenth of the draws
        counts, _ = np.histogram(w, bins=10, range=(-r, r))
        np.testing.assert_allclose(counts / w.size, 0.1, atol=0.005)
    else:  # plain normal, not truncated: beyond 2 std in about 4.55 % of draws
        tail = np.mean(np.abs(w) > 2 * np.sqrt(variance))
        assert abs(tail - 0.0455) < 0.003


def test_fans_of_1d_and_2d_shapes():
    assert fans((7,)) == (7, 7)
    assert fans((3, 5)) == (3, 5)
    w = build("initializer", "glorot_normal")((200_000,), np.random.default_rng(0))
    assert abs(w.var() * 200_000 - 1) < 0.02  # fan_avg = n


@pytest.mark.parametrize(
    "activation, expected",
    [("relu", "he_normal"), ("leaky_relu", "he_normal"), ("rrelu", "he_normal"), ("prelu", "he_normal"),
     ("elu", "he_normal"), ("selu", "lecun_normal"), ("tanh", "glorot_uniform"),
     ("sigmoid", "glorot_uniform"), ("softsign", "glorot_uniform"), ("softmax", "glorot_uniform"),
     ("linear", "glorot_uniform")],
)
def test_auto_initializer(activation, expected):
    assert auto_initializer(activation) == expected


def test_config_round_trip():
    for name in names("initializer"):
        init = build("initializer", name)
        assert init.config()["name"] == name
        assert build("initializer", init.config()).config() == init.config()
    assert build("initializer", "glorot_uniform").config() == {"name": "glorot_uniform"}
    assert build("initializer", "random_normal").config() == {"name": "random_normal", "stddev": 1.0}


@pytest.mark.parametrize(
    "spec, kind, variance, shape",
    [
        ({"name": "random_normal", "stddev": 0.05}, "normal", 0.0025, SHAPE),
        ({"name": "random_uniform", "limit": 0.3}, "uniform", 0.09 / 3, SHAPE),
        ("standard_uniform", "uniform", 1 / (3 * 25), (25, 200_000)),  # r = 1/5: fan_out plays no part
        ("random_normal", "normal", 1.0, (3, 300_000)),  # nor fan_in
    ],
)
def test_paper_baselines_with_their_parameters(spec, kind, variance, shape):
    w = build("initializer", spec)(shape, np.random.default_rng(1))
    assert abs(w.var() / variance - 1) < 0.02 and abs(w.mean()) < 0.01 * np.sqrt(variance)
    if kind == "uniform":
        r = np.sqrt(3 * variance)
        assert r * 0.999 < np.abs(w).max() <= r
    else:
        assert abs(np.mean(np.abs(w) > 2 * np.sqrt(variance)) - 0.0455) < 0.003


def test_auto_never_picks_a_paper_baseline():
    for activation in ("sigmoid", "tanh", "softsign"):
        assert auto_initializer(activation) == "glorot_uniform"


def test_selu_with_lecun_normal_self_normalises_through_30_layers():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1000, 100))
    for _ in range(30):
        layer = build("layer", {"name": "dense", "units": 100, "activation": "selu"})  # auto -> lecun_normal
        layer.build(100, rng)
        x = layer.forward(x)
    assert abs(x.mean()) < 0.1 and abs(x.std() - 1) < 0.15



FAN_IN_1 = (1, 20000)  # one input feature, many units: the variance is about the fan of 1


@pytest.mark.parametrize("name, variance", [
    ("glorot_normal", 2 / 20001), ("glorot_uniform", 2 / 20001), ("lecun_normal", 1.0),
    ("lecun_uniform", 1.0), ("he_normal", 2.0), ("he_uniform", 2.0)])
def test_fan_in_1(name, variance):
    assert fans(FAN_IN_1) == (1, 20000)
    w = build("initializer", name)(FAN_IN_1, np.random.default_rng(0))
    assert w.shape == FAN_IN_1
    assert abs(w.var() / variance - 1) < 0.05  # 20000 draws: the estimate's relative sd is at most 1%
    if name.endswith("uniform"):
        r = np.sqrt(3 * variance)
        assert r * 0.999 < np.abs(w).max() <= r


def test_a_dense_layer_on_one_feature_is_he_normal_with_variance_2():
    layer = build("layer", {"name": "dense", "units": 20000, "activation": "relu"})
    layer.build(1, np.random.default_rng(0))
    assert layer.params["W"].shape == (1, 20000)
    assert abs(layer.params["W"].var() / 2.0 - 1) < 0.05
