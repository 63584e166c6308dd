"""Bitwise networks (Kim & Smaragdis 2016): the two stages, the straight-through update by hand, packed
XNOR + popcount inference equal to the ±1 float computation, the spec, runs and compare (model.npz:
tests/test_bitwise_file.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import mlrun
from mlrun.cli.app import cli
from mlrun.nn.bitwise import BitwiseDense, bitwise_specs, input_thresholds, set_binary, ternary
from mlrun.nn.network import Network
from mlrun.nn.packed import PackedNetwork, hamming_counts, pack_bits
from mlrun.nn.packed_file import model_arrays, read_packed
from mlrun.registry import build
from mlrun.spec.errors import ConfigError
from mlrun.training.setup import build_setup, load_data


def _model(widths, beta=0.0, input_bits=1, input_code="normal"):
    return {"bitwise": {"beta": beta, "input_bits": input_bits, "input_code": input_code, "compression_epochs": None},
            "layers": None,
            "neurons": list(widths), "hidden_layers": len(widths), "initializer": "auto"}


# -- the parts --------------------------------------------------------------------------------
def test_ternary_and_thresholds():
    w = np.array([-0.5, -0.05, 0.0, 0.05, 0.5])
    np.testing.assert_array_equal(ternary(w, 0.1), [-1, 0, 0, 0, 1])
    np.testing.assert_array_equal(ternary(w, 0.0), [-1, -1, 1, 1, 1])  # sign(0) = +1, nothing is 0
    assert input_thresholds(1) == [0.0]
    np.testing.assert_allclose(input_thresholds(3), [-0.67449, 0.0, 0.67449], atol=1e-5)


def test_bipolar_input_is_a_thermometer_code():
    layer = build("layer", {"name": "bipolar_input", "thresholds": [-1.0, 0.5]})
    assert layer.build(2) == 4
    y = layer.forward(np.array([[-2.0, 0.5], [0.0, 3.0]]))
    np.testing.assert_array_equal(y, [[-1, -1, 1, 1], [1, -1, 1, 1]])


def test_uniform_input_code_is_equal_width_bins_of_each_features_range():
    X = np.array([[0.0, 10.0, 5.0], [3.0, 20.0, 5.0], [1.5, 14.0, 5.0]])
    spec = bitwise_specs(_model([4], input_bits=2, input_code="uniform"), 2, X)[0]
    assert spec == {"name": "bipolar_input", "thresholds": [1 / 3, 2 / 3], "low": [0.0, 10.0, 5.0],
                    "high": [3.0, 20.0, 5.0]}
    layer = build("layer", spec)
    assert layer.build(3) == 6
    np.testing.assert_allclose(layer.feature_thresholds, [[1.0, 2.0], [13.33333, 16.66667], [5.333333, 5.666667]],
                               rtol=1e-6)  # a constant feature's range counts as 1
    np.testing.assert_array_equal(layer.forward(np.array([[1.0, 17.0, 5.0]])), [[1, -1, 1, 1, -1, -1]])
    with pytest.raises(ValueError, match="needs the training rows"):
        bitwise_specs(_model([4], input_code="uniform"), 2)
    with pytest.raises(ValueError, match="go together"):
        build("layer", {"name": "bipolar_input", "low": [0.0]})


def test_stage_one_is_the_tanh_compressed_network():
    layer = build("layer", {"name": "bitwise_dense", "units": 3})
    layer.build(4, np.random.default_rng(0))
    x = np.random.default_rng(1).uniform(-1, 1, (5, 4))
    W, b = layer.params["W"], layer.params["b"]
    b[...] = [0.3, -0.2, 0.1]
    expected = np.tanh((x @ np.tanh(W) + np.tanh(b)) / 2.0)  # 1/sqrt(fan_in 4)
    np.testing.assert_allclose(layer.forward(x, training=True), expected, rtol=1e-12)


def test_stage_two_binarises_weights_and_units():
    layer = build("layer", {"name": "bitwise_dense", "units": 2, "beta": 0.3})
    layer.build(3, np.random.default_rng(0))
    layer.params["W"][...] = [[0.1, -2.0], [1.0, 0.2], [-0.5, 0.9]]
    layer.state["binary"][...] = 1
    W, b = layer.effective_weights()
    np.testing.assert_array_equal(W, [[0, -1], [1, 0], [-1, 1]])  # |tanh 0.1|, |tanh 0.2| < 0.3
    np.testing.assert_array_equal(b, [0, 0])  # tanh 0 = 0 is inside the boundary
    y = layer.forward(np.array([[1.0, -1.0, -1.0]]))
    np.testing.assert_array_equal(y, [[1, -1]])  # z ∝ (0 - 1 + 1, -1 + 0 - 1) = (0, -2); sign(0) = +1


def test_straight_through_update_by_hand():
    """One SGD step of a 2-2-2 network in stage 2, every number derived by hand (see the comments)."""
    specs = [{"name": "bipolar_input"},
             {"name": "bitwise_dense", "units": 2, "activation": "tanh", "beta": 0.1},
             {"name": "bitwise_dense", "units": 2, "activation": "linear", "beta": 0.1}]
    net = Network(specs, 2, "float64")
    hidden, out = net.layers[1], net.layers[2]
    W1, b1 = np.array([[0.5, -0.2], [0.05, 0.05]]), np.array([0.05, -0.3])
    W2, b2 = np.array([[0.8, -0.6], [0.3, 0.02]]), np.array([0.0, 0.0])
    hidden.params["W"][...], hidden.params["b"][...] = W1, b1
    out.params["W"][...], out.params["b"][...] = W2, b2
    set_binary(net, True)
    x, label = np.array([[0.3, -2.0]]), np.array([0])
    # by hand: bits x = (1, -1); q(W1) = [[1, -1], [0, 0]], q(b1) = (0, -1) (|tanh 0.05| < 0.1)
    # z1 = ((1, -1) + (0, -1)) / sqrt 2 = (0.7071, -1.4142); h = (1, -1); STE keeps unit 0 only
    # q(W2) = [[1, -1], [1, 0]], q(b2) = (0, 0); z2 = (1 - 1, -1 + 0) / sqrt 2 = (0, -0.7071)
    r = 1 / np.sqrt(2)
    z2 = np.array([0.0, -r])
    p = np.exp(z2) / np.exp(z2).sum()
    dz2 = (p - [1, 0]) * r                                   # cross-entropy, times the layer's scale
    h = np.array([1.0, -1.0])
    dW2 = np.outer(h, dz2) * (1 - np.tanh(W2) ** 2)
    db2 = dz2 * (1 - np.tanh(b2) ** 2)
    dh = np.array([dz2[0] - dz2[1], dz2[0]])                # dz2 · q(W2)ᵀ
    dz1 = dh * np.array([1.0, 0.0]) * r                      # |z1| <= 1 only for unit 0
    dW1 = np.outer([1.0, -1.0], dz1) * (1 - np.tanh(W1) ** 2)
    db1 = dz1 * (1 - np.tanh(b1) ** 2)
    loss = build("loss", "cross_entropy")
    opt = build("optimizer", {"name": "sgd", "learning_rate": 0.1})
    output = net.forward(x, training=True)
    np.testing.assert_allclose(output, [z2], atol=1e-15)
    net.backward(loss.gradient(label, output))
    opt.step([net.params], [net.grads], [net.segments])
    for layer, W, b, dW, db in ((hidden, W1, b1, dW1, db1), (out, W2, b2, dW2, db2)):
        np.testing.assert_allclose(layer.params["W"], W - 0.1 * dW, rtol=0, atol=1e-15)
        np.testing.assert_allclose(layer.params["b"], b - 0.1 * db, rtol=0, atol=1e-15)
    assert hidden.params["W"][0, 1] == W1[0, 1]  # the cut unit's weights did not move


# -- packed inference -----------------------------------------------------------------------------
def _reference(net: Network, x: np.ndarray) -> np.ndarray:
    """The ±1 computation written out: bits, then per layer x · q(W) + q(b) in float64 and sign."""
    t = net.layers[0].feature_thresholds  # (features, bits)
    h = np.where(x[:, :, None] >= t, 1.0, -1.0).reshape(len(x), -1)
    layers = [layer for layer in net.layers if isinstance(layer, BitwiseDense)]
    for layer in layers:
        Wq = ternary(np.tanh(layer.params["W"].astype(np.float64)), layer.beta)
        bq = ternary(np.tanh(layer.params["b"].astype(np.float64)), layer.beta)
        z = h @ Wq + bq
        h = np.where(z >= 0, 1.0, -1.0)
    return (z.astype(net.dtype) * layers[-1].alpha).astype(net.dtype)


@pytest.mark.parametrize("seed", range(6))
def test_packed_equals_the_plus_minus_one_computation(seed):
    rng = np.random.default_rng(seed)
    widths = [int(w) for w in rng.choice([1, 7, 63, 64, 65, 130], size=rng.integers(1, 4))]
    beta = [0.0, 0.2, 0.6][seed % 3]
    dtype = ["float32", "float64"][seed % 2]
    n_in = int(rng.integers(1, 40))
    net = Network(bitwise_specs(_model(widths, beta, 1 + seed % 3), int(rng.integers(1, 6))), n_in, dtype,
                  np.random.default_rng(seed))
    for layer in net.layers[1:]:
        layer.params["b"][...] = rng.uniform(-1, 1, layer.params["b"].shape)
    x = rng.standard_normal((int(rng.integers(1, 300)), n_in))
    packed = PackedNetwork.from_network(net)
    got = packed.predict_output(x, batch_size=97)
    np.testing.assert_array_equal(got, _reference(net, x))
    set_binary(net, True)
    np.testing.assert_array_equal(got, net.predict_output(x))  # the training forward of stage 2, too
    assert (beta > 0) == any(layer.mask is not None for layer in packed.layers)
    identity = {"scaler_center": np.zeros(n_in), "scaler_scale": np.ones(n_in), "task": "classification"}
    again, state = read_packed(model_arrays(packed, identity))  # model.npz's one member, and back
    np.testing.assert_array_equal(again.predict_output(x), got)
    assert state["task"] == "classification" and again.dtype == packed.dtype


def test_hamming_counts_and_packing():
    rng = np.random.default_rng(3)
    a, b, m = (rng.random((5, 70)) < 0.5 for _ in range(3))
    words = pack_bits(a)
    assert words.shape == (5, 2) and words.dtype == np.uint64
    unpacked = (words[:, :, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)  # bit i of word k
    np.testing.assert_array_equal(unpacked.reshape(5, 128)[:, :70], a)  # = column 64k + i
    assert not unpacked.reshape(5, 128)[:, 70:].any()  # padding is 0
    np.testing.assert_array_equal(hamming_counts(pack_bits(a), pack_bits(b)), (a[:, None] != b[None]).sum(-1))
    np.testing.assert_array_equal(hamming_counts(pack_bits(a), pack_bits(b), pack_bits(m)),
                                  ((a[:, None] != b[None]) & m[None]).sum(-1))


# -- the spec ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("model, message", [
    ({"bitwise": True, "activation": "relu"}, r"uses tanh \(stage 1\) and sign"),
    ({"bitwise": True, "batch_norm": True}, "batch_norm is not part of a bitwise network"),
    ({"layers": [{"name": "bitwise_dense", "units": 8}, {"name": "dense", "units": 4}]}, "got dense"),
    ({"bitwise": {"beta": 1.0}}, "beta"),
])
def test_spec_errors(model, message):
    with pytest.raises(ConfigError, match=message):
        mlrun.load_config({"model": model})


def test_long_form_bitwise_dense_turns_the_network_bitwise():
    cfg = mlrun.load_config({"model": {"layers": [{"name": "bitwise_dense", "units": 8}]}})
    assert cfg.to_dict()["model"]["bitwise"] == {"compression_epochs": None, "beta": 0.0, "input_bits": 1,
                                                 "input_code": "uniform"}
    resolved = mlrun.load_config({"model": {"bitwise": True}}).to_dict()
    assert resolved["model"]["activation"] == "tanh"
    assert mlrun.load_config(resolved).to_dict() == resolved  # config.yaml reloads (resume, predict)


DATA = {"dataset": "make_classification",
        "params": {"n_samples": 150, "n_features": 6, "n_informative": 4, "n_classes": 3}}


def _spec(**model):
    return {"name": "bw", "data": DATA, "training": {"epochs": 4, "diagnostics": False},
            "model": {"neurons": 16, "hidden_layers": 1, **model}, "optimizer": {"name": "adam"}}


def test_stage_rules_are_checked_before_training():
    cfg = mlrun.load_config(_spec(bitwise={"compression_epochs": 4}))
    dataset = load_data(cfg)
    with pytest.raises(ConfigError, match="stage 2 .* would never run"):
        build_setup(cfg, dataset)
    cfg = mlrun.load_config({**_spec(bitwise=True), "training": {"epochs": 4, "early_stopping": {"patience": 2}}})
    with pytest.raises(ConfigError, match="restore_best"):
        build_setup(cfg, dataset)
    stages = build_setup(mlrun.load_config(_spec(bitwise=True)), dataset).trainer.callbacks[0]
    assert stages.compression_epochs == 2  # half of training.epochs


# -- a run, its model and compare ---------------------------------------------------------------------
def test_bitwise_run_history_model_and_compare(tmp_path):
    spec = _spec(bitwise={"compression_epochs": 2})
    spec["training"]["diagnostics"] = {"every": 1}  # the probe meets layers it does not measure
    bit = mlrun.train(spec, runs_dir=tmp_path)
    flt = mlrun.train(_spec(activation="tanh"), runs_dir=tmp_path)
    assert [row["stage"] for row in bit.history] == [1, 1, 2, 2]
    assert (bit.path / "history.csv").read_text().splitlines()[0].split(",")[-2:] == ["stage", "seconds"]
    assert "stage" not in (flt.path / "history.csv").read_text().splitlines()[0]
    with np.load(bit.path / "model.npz", allow_pickle=False) as npz:
        assert npz.files == ["bitwise"]
    model = mlrun.load_model(bit.path)
    assert isinstance(model.network, PackedNetwork)
    X = np.random.default_rng(0).standard_normal((20, 6))
    assert model.predict(X).shape == (20,) and np.allclose(model.predict_proba(X).sum(axis=1), 1)
    info = json.loads((bit.path / "run.json").read_text())
    assert info["model_bytes"] == (bit.path / "model.npz").stat().st_size
    assert info["resolved"]["compression_epochs"] == 2
    rows = {r["run"]: r for r in mlrun.compare([tmp_path])}
    assert rows[bit.name]["model_bytes"] < rows[flt.name]["model_bytes"]
    result = CliRunner().invoke(cli, ["compare", str(tmp_path), "--format", "markdown"])
    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[0]
    assert "model_bytes" in header and "model.bitwise" in header
    assert " kB" in result.output


def test_hamming_loss_is_opt_in_and_scikit_learns():
    from sklearn.metrics import hamming_loss

    from mlrun.metrics.scores import classification_metrics

    y, proba = np.array([0, 1, 2, 1]), np.eye(3)[[0, 2, 2, 1]]
    assert "hamming_loss" not in classification_metrics(y, proba)
    got = classification_metrics(y, proba, names=["hamming_loss", "accuracy"])
    assert got["hamming_loss"] == hamming_loss(y, [0, 2, 2, 1]) == 0.25 == 1 - got["accuracy"]
