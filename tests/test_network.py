"""The Network's flat buffer, its gradient (finite differences through the whole stack) and save/load."""

import subprocess
import sys

import numpy as np
import pytest
from specs import model_section

from mlrun.nn.network import Network, expand_model, output_spec
from mlrun.registry import build


def hidden(**model):
    """The hidden layers of a model section given in part (the spec fills in the rest)."""
    return expand_model(model_section(**model))


def make_net(specs, in_dim=5, n_out=3, dtype="float64", seed=0):
    return Network(list(specs) + [output_spec(n_out)], in_dim, dtype, np.random.default_rng(seed),
                   np.random.default_rng(seed + 100))


def test_params_are_views_of_one_flat_buffer():
    net = make_net(hidden(hidden_layers=2, neurons=4, activation="prelu", batch_norm=True))
    sizes = [v.size for layer in net.layers for v in layer.params.values()]
    assert net.params.size == sum(sizes)
    assert net.params.flags.c_contiguous
    net.params[:] = np.arange(net.params.size)
    for layer in net.layers:
        for key, value in layer.params.items():
            assert np.shares_memory(value, net.params), key
            assert np.shares_memory(layer.grads[key], net.grads), key
    # dense weights first, so L2 is params[:n_regularized]
    dense_w = [l.params["W"] for l in net.layers if "W" in l.params]
    assert net.n_regularized == sum(w.size for w in dense_w) == 5 * 4 + 4 * 4 + 4 * 3
    assert all(np.shares_memory(w, net.params[: net.n_regularized]) for w in dense_w)
    assert list(net.segments) == sorted(net.segments) and net.segments[0] == 0


def test_expand_model_short_form():
    specs = hidden(hidden_layers=2, neurons=8, activation="selu", dropout=0.1)
    assert [s["name"] for s in specs] == ["dense", "alpha_dropout", "dense", "alpha_dropout"]
    assert specs[0]["initializer"] == "lecun_normal" and specs[0]["activation"] == "selu"
    bn = hidden(neurons=[7, 3], activation={"name": "leaky_relu", "alpha": 0.1}, batch_norm=True)
    assert [s["name"] for s in bn] == ["dense", "batch_norm", "activation"] * 2
    assert [s["units"] for s in bn if s["name"] == "dense"] == [7, 3]
    assert bn[0]["initializer"] == "he_normal" and "activation" not in bn[0]
    relu_dropout = hidden(hidden_layers=1, neurons=4, activation="relu", dropout=0.2)
    assert relu_dropout[1] == {"name": "dropout", "rate": 0.2}


def test_expand_model_reads_every_value_from_the_resolved_section():
    assert hidden() == [{"name": "dense", "units": 64, "activation": "elu", "initializer": "he_normal"}] * 2
    long = hidden(layers=[{"name": "dense", "units": 5}, "batch_norm"])
    assert long == [{"name": "dense", "units": 5}, "batch_norm"]
    with pytest.raises(KeyError):  # no defaults of its own: the spec's model section holds them
        expand_model({"neurons": 8})


def test_nn_does_not_import_the_spec():
    code = "import sys, mlrun.nn.network; assert not [m for m in sys.modules if m.startswith('mlrun.spec')]"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("model", [
    {"hidden_layers": 2, "neurons": 6, "activation": "tanh"},
    {"hidden_layers": 2, "neurons": 6, "activation": "prelu", "batch_norm": True},
    {"hidden_layers": 1, "neurons": 6, "activation": "selu"},
    {"hidden_layers": 0},
])
@pytest.mark.parametrize("loss_name", ["cross_entropy", "mse"])
def test_whole_network_gradient_matches_finite_differences(model, loss_name):
    rng = np.random.default_rng(3)
    net = make_net(hidden(**model), n_out=3)
    loss = build("loss", loss_name)
    x = rng.standard_normal((7, 5))
    y = rng.integers(0, 3, 7) if loss_name == "cross_entropy" else rng.standard_normal((7, 3))

    def objective():
        return loss.value(y, net.forward(x, training=True))

    value, dy = loss.value_and_gradient(y, net.forward(x, training=True))
    net.backward(dy)
    analytic = net.grads.copy()
    numeric = np.empty_like(analytic)
    eps = 1e-6
    for i in range(net.params.size):
        keep = net.params[i]
        net.params[i] = keep + eps
        up = objective()
        net.params[i] = keep - eps
        down = objective()
        net.params[i] = keep
        numeric[i] = (up - down) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


def test_save_and_load_round_trip_predicts_identically():
    net = make_net(hidden(hidden_layers=2, neurons=6, activation="elu", batch_norm=True))
    x = np.random.default_rng(0).standard_normal((20, 5))
    for _ in range(3):  # move the batch-norm statistics away from their start
        net.forward(x, training=True)
    arrays = net.to_arrays()
    assert all(a.dtype != object for a in arrays.values())
    clone = Network.from_arrays(arrays)
    np.testing.assert_array_equal(clone.predict_output(x), net.predict_output(x))
    np.testing.assert_array_equal(clone.params, net.params)


def test_same_seed_same_weights_float32_draws_equal_float64():
    a = make_net(hidden(hidden_layers=2, neurons=6), dtype="float64", seed=5)
    b = make_net(hidden(hidden_layers=2, neurons=6), dtype="float64", seed=5)
    c = make_net(hidden(hidden_layers=2, neurons=6), dtype="float32", seed=5)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.params.astype(np.float32), c.params)
    assert c.params.dtype == np.float32
