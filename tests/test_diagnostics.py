"""Diagnostics: the five per-layer measurements against hand-computed values, the callback's effect on
training (none), its rows, the advisor's findings on the networks the issue names, files and figures."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

import mlrun
from mlrun.diagnostics import advisor, table
from mlrun.diagnostics.measures import activation_stats, hidden_layers, measure
from mlrun.diagnostics.probe import Diagnostics, diagnostics_options, probe_rows
from mlrun.nn.network import Network
from mlrun.registry import build
from mlrun.spec.loading import load_config
from mlrun.training.setup import SEED_PURPOSES, seeds
from mlrun.training.trainer import Trainer


def test_activation_statistics_by_hand():
    a = np.array([[0.01, 0.5], [0.99, 0.97]])
    stats = activation_stats(a, "sigmoid")
    assert stats["act_mean"] == pytest.approx(2.47 / 4)
    assert stats["act_std"] == pytest.approx(np.sqrt(np.mean((a - 2.47 / 4) ** 2)))
    # linear interpolation over the sorted 0.01 0.5 0.97 0.99: position 0.02·3 = 0.06 and 0.98·3 = 2.94
    assert stats["act_p02"] == pytest.approx(0.01 + 0.06 * 0.49)
    assert stats["act_p98"] == pytest.approx(0.97 + 0.94 * 0.02)
    assert stats["saturated"] == 0.5 and "dead" not in stats  # 0.01 < 0.02 and 0.99 > 0.98; 0.97 is not
    tanh = activation_stats(np.array([[0.99, -0.985, 0.5, -0.2]]), "tanh")
    assert tanh["saturated"] == 0.5
    relu = activation_stats(np.array([[0.0, 1.0, 0.0], [0.0, 2.0, 3.0], [0.0, 0.0, 0.0]]), "relu")
    assert relu["dead"] == pytest.approx(1 / 3) and "saturated" not in relu  # unit 0 is 0 for every row
    assert set(activation_stats(a, "elu")) == {"act_mean", "act_std", "act_p02", "act_p98"}


def _tiny():
    """2 inputs -> dense(2, sigmoid) -> dense(2, linear); weights set by hand."""
    net = Network([{"name": "dense", "units": 2, "activation": "sigmoid"},
                   {"name": "dense", "units": 2, "activation": "linear"}], 2, "float64")
    W1, b1 = np.array([[1.0, -2.0], [0.5, 3.0]]), np.array([0.1, -0.2])
    W2, b2 = np.array([[2.0, -1.0], [0.5, 1.0]]), np.array([0.0, 0.3])
    for layer, W, b in ((net.layers[0], W1, b1), (net.layers[1], W2, b2)):
        layer.params["W"][...] = W
        layer.params["b"][...] = b
    X = np.array([[1.0, 2.0], [-1.0, 0.5], [3.0, -2.0]])
    y = np.array([0, 1, 1])
    return net, X, y, (W1, b1, W2, b2)


def _by_hand(X, y, W1, b1, W2, b2):
    a = 1 / (1 + np.exp(-(X @ W1 + b1)))
    z = a @ W2 + b2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dz = (p - np.eye(2)[y]) / len(X)
    da = dz @ W2.T
    dW1 = X.T @ (da * a * (1 - a))
    return a, da, dW1


def test_the_five_measurements_on_a_tiny_network_by_hand():
    net, X, y, weights = _tiny()
    a, da, dW1 = _by_hand(X, y, *weights)
    loss = build("loss", "cross_entropy")
    opt = build("optimizer", {"name": "sgd", "learning_rate": 0.5})
    probe = Diagnostics(X, y, n_train=len(X), every=1)
    trainer = Trainer(net, loss, opt, epochs=1, batch_size="full", callbacks=[probe])
    probe.on_setup(SimpleNamespace(network=net, loss=loss))
    trainer.fit(X, y)
    rows = {(r["epoch"], r["quantity"]): r["value"] for r in probe.rows}
    assert probe.layers == [{"layer": 1, "activation": "sigmoid", "units": 2}]
    assert rows[(0, "act_mean")] == pytest.approx(a.mean(), rel=1e-12)
    assert rows[(0, "act_std")] == pytest.approx(a.std(), rel=1e-12)
    assert rows[(0, "saturated")] == pytest.approx(np.mean((a < 0.02) | (a > 0.98)))
    assert rows[(0, "grad_std")] == pytest.approx(da.std(), rel=1e-12)
    assert rows[(0, "weight_grad_norm")] == pytest.approx(np.linalg.norm(dW1), rel=1e-12)
    assert (0, "update_ratio") not in rows  # no update yet at initialisation
    W1_after = weights[0] - 0.5 * dW1  # one full-batch SGD step
    np.testing.assert_allclose(net.layers[0].params["W"], W1_after, rtol=1e-12)
    expected = np.linalg.norm(W1_after - weights[0]) / np.linalg.norm(W1_after)
    assert rows[(1, "update_ratio")] == pytest.approx(expected, rel=1e-9)
    assert np.mean((a < 0.02) | (a > 0.98)) > 0  # the hand weights do saturate a unit: the share is tested


def test_update_ratio_is_the_last_steps_with_minibatches():
    net, X, y, _ = _tiny()
    X, y = np.tile(X, (2, 1)), np.tile(y, 2)  # 6 rows, batches of 2: 3 steps per epoch
    loss, opt = build("loss", "cross_entropy"), build("optimizer", {"name": "sgd", "learning_rate": 0.5})
    seen = []

    class Before:
        def on_batch_end(self, trainer, logs):
            seen.append(trainer.network.layers[0].params["W"].copy())

    probe = Diagnostics(X, y, n_train=len(X), every=1)
    trainer = Trainer(net, loss, opt, epochs=2, batch_size=2, callbacks=[Before(), probe])
    probe.on_setup(SimpleNamespace(network=net, loss=loss))
    trainer.fit(X, y)
    ratio = [r["value"] for r in probe.rows if r["quantity"] == "update_ratio"]
    for epoch, value in enumerate(ratio, start=1):
        last, before = seen[3 * epoch - 1], seen[3 * epoch - 2]
        assert value == pytest.approx(np.linalg.norm(last - before) / np.linalg.norm(last), rel=1e-9)


def test_hidden_layers_of_the_batch_norm_form():
    net = Network([{"name": "dense", "units": 3}, {"name": "batch_norm"},
                   {"name": "activation", "activation": "relu"}, {"name": "dropout", "rate": 0.1},
                   {"name": "dense", "units": 4, "activation": "tanh"}, {"name": "dense", "units": 2}], 5)
    blocks = hidden_layers(net.layers)
    assert [(b.number, b.first, b.last, b.activation, b.units) for b in blocks] == [
        (1, 0, 3, "relu", 3), (2, 4, 4, "tanh", 4)]


def test_the_probe_has_its_own_seed_child_appended():
    assert SEED_PURPOSES[:5] == ("split", "init", "shuffle", "noise", "lr_find") and SEED_PURPOSES[-1] == "probe"
    # the existing purposes draw what they drew before the probe existed
    before = np.random.SeedSequence(7).spawn(5)
    for name, old in zip(SEED_PURPOSES, before):
        assert seeds(7)[name].generate_state(4).tolist() == old.generate_state(4).tolist()
    rows = probe_rows(1000, 512, seeds(7)["probe"])
    assert len(rows) == 512 == len(set(rows)) and np.all(np.diff(rows) > 0)
    assert probe_rows(100, 512, seeds(7)["probe"]).tolist() == list(range(100))


def test_the_spec_field_and_its_options():
    assert diagnostics_options(None) is None
    assert diagnostics_options({"every": "auto", "probe_rows": 512}) == {"every": "auto", "probe_rows": 512}
    for value, expected in ((None, {"every": "auto", "probe_rows": 512}), ("false", None),
                            ("{every: 3, probe_rows: 64}", {"every": 3, "probe_rows": 64})):
        spec = {**SMALL, "training": {"epochs": 3}}
        cfg = load_config(spec, overrides=[] if value is None else [f"training.diagnostics={value}"])
        assert cfg.to_dict()["training"]["diagnostics"] == expected


def test_every_auto_stays_within_its_budget():
    from mlrun.diagnostics import probe as probe_module

    probe = Diagnostics(np.zeros((2, 2)), np.zeros(2, int), n_train=2)
    probe.measure_seconds, probe.last_cost, probe.train_seconds = 0.01, 0.01, 0.39
    assert not probe._due(SimpleNamespace(epoch=1, epochs=5))  # 0.02 > 5% of 0.39
    probe.train_seconds = 0.4
    assert probe._due(SimpleNamespace(epoch=1, epochs=5)) and probe_module.OVERHEAD_BUDGET == 0.05


SMALL = {"name": "diag", "seed": 0, "data": {"dataset": "digits"},
         "model": {"hidden_layers": 2, "neurons": 16, "activation": "relu"},
         "optimizer": {"name": "adam", "learning_rate": 0.01},
         "training": {"epochs": 3, "batch_size": 64, "diagnostics": {"every": 1}}}


def test_training_is_bit_identical_with_and_without_the_probe(tmp_path):
    from mlrun.experiment.outcome import run_training
    from mlrun.training.setup import load_data

    cfg = load_config({**SMALL, "model": {**SMALL["model"], "batch_norm": True, "dropout": 0.2,
                                          "activation": "rrelu"}})
    dataset = load_data(cfg)
    with_probe = run_training(cfg, dataset)
    without = run_training(cfg.replace(["training.diagnostics=false"]), dataset)
    assert with_probe.diagnostics["rows"] and without.diagnostics is None
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in with_probe.history]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in without.history]
    assert with_probe.metrics == without.metrics


def test_a_run_writes_diagnostics_csv_and_advice(tmp_path):
    run = mlrun.train(SMALL, runs_dir=tmp_path)
    import csv

    with open(run.path / "diagnostics.csv", newline="") as fh:
        reader = csv.reader(fh)
        assert next(reader) == ["epoch", "layer", "quantity", "value"]
        frame = list(reader)
    assert {r[0] for r in frame} == {"0", "1", "2", "3"} and {r[1] for r in frame} == {"1", "2"}
    assert {"act_mean", "act_std", "act_p02", "act_p98", "dead", "grad_std", "weight_grad_norm",
            "update_ratio"} == {r[2] for r in frame}
    assert all(np.isfinite(float(r[3])) for r in frame)
    info = json.loads((run.path / "run.json").read_text())
    assert info["diagnostics"]["layers"][0] == {"layer": 1, "activation": "relu", "units": 16}
    assert info["diagnostics"]["findings"] == len([a for a in info["advice"] if a["rule"] != "metrics"])
    assert table.read_rows(run.path / "diagnostics.csv")[0]["epoch"] == 0


def test_diagnostics_switched_off(tmp_path):
    run = mlrun.train(load_config(SMALL, overrides=["training.diagnostics=false"]), runs_dir=tmp_path)
    assert not (run.path / "diagnostics.csv").exists()
    assert not (run.path / "plots" / "diagnostics.png").exists()
    assert json.loads((run.path / "run.json").read_text())["diagnostics"] is None


# ------------------------------------------------------------------------------------------ advisor
DEEP_LOGISTIC = {"name": "glorot", "seed": 0, "data": {"dataset": "digits"},
                 "model": {"hidden_layers": 5, "neurons": 128, "activation": "sigmoid"},
                 "optimizer": {"name": "sgd", "learning_rate": 0.1}, "training": {"epochs": 1, "batch_size": 64}}


def _findings_of(spec):
    from mlrun.experiment.outcome import run_training
    from mlrun.training.setup import load_data

    cfg = load_config(spec)
    return run_training(cfg, load_data(cfg)).findings


def test_deep_logistic_with_random_normal_saturates_its_top_layer_and_glorot_does_not():
    found = _findings_of({**DEEP_LOGISTIC, "model": {**DEEP_LOGISTIC["model"], "initializer": "random_normal"}})
    saturation = [f for f in found if f["rule"] == "saturation"]
    assert len(saturation) == 1
    evidence = saturation[0]["evidence"]
    assert evidence["layer"] == 5 and evidence["quantity"] == "saturated" and evidence["threshold"] == 0.5
    assert evidence["value"] > 0.5 and "top hidden layer" in saturation[0]["message"]
    assert "--set model.initializer=glorot_uniform" in saturation[0]["remedy"]
    glorot = _findings_of({**DEEP_LOGISTIC, "model": {**DEEP_LOGISTIC["model"], "initializer": "glorot_uniform"}})
    assert not [f for f in glorot if f["rule"] in ("saturation", "top_layer_to_zero")]


@pytest.mark.parametrize("change, key", [({"model": {"batch_norm": True}}, "model.batch_norm"),
                                         ({"data": {"scale": "minmax"}}, "data.scale"),
                                         ({"model": {"initializer": "he_normal"}}, "model.initializer")])
def test_selu_preconditions(change, key):
    spec = {"model": {"activation": "selu", "initializer": "auto"}, "data": {"scale": "standard"}}
    assert advisor.findings([], [], spec) == []
    broken = {section: {**spec[section], **change.get(section, {})} for section in spec}
    found = advisor.findings([], [], broken)
    assert [f["rule"] for f in found] == ["selu_preconditions"] and found[0]["evidence"]["quantity"] == key


def test_a_selu_run_with_batch_norm_gets_the_selu_finding(tmp_path):
    spec = {**SMALL, "model": {"hidden_layers": 2, "neurons": 16, "activation": "selu", "batch_norm": True},
            "training": {"epochs": 1}}
    run = mlrun.train(spec, runs_dir=tmp_path)
    advice = json.loads((run.path / "run.json").read_text())["advice"]
    selu = [a for a in advice if a["rule"] == "selu_preconditions"]
    assert selu and selu[0]["remedy"] == ["--set model.batch_norm=false"]
    assert any("SELU will not self-normalise" in tip for tip in run.advice)


def _rows(layer_values: dict) -> list[dict]:
    return [{"epoch": e, "layer": layer, "quantity": q, "value": v}
            for (layer, q), points in layer_values.items() for e, v in enumerate(points)]


LAYERS = [{"layer": 1, "activation": "relu", "units": 8}, {"layer": 2, "activation": "relu", "units": 8}]


@pytest.mark.parametrize("values, rule, quantity", [
    ({(1, "grad_std"): [1e-7, 1e-7], (2, "grad_std"): [1e-3, 1e-3]}, "vanishing_gradients",
     "grad_std ratio first/last"),
    ({(1, "weight_grad_norm"): [0.1, 500.0]}, "exploding_gradients", "weight_grad_norm growth"),
    ({(1, "weight_grad_norm"): [0.1, float("nan")]}, "exploding_gradients", "weight_grad_norm growth"),
    ({(2, "dead"): [0.1, 0.75]}, "dead_relus", "dead"),
    ({(1, "update_ratio"): [float("nan"), 0.2], (2, "update_ratio"): [float("nan"), 0.3]}, "update_ratio",
     "update_ratio median"),
    ({(1, "update_ratio"): [float("nan"), 1e-6]}, "update_ratio", "update_ratio median"),
])
def test_each_rule_fires_on_its_evidence(values, rule, quantity):
    spec = {"optimizer": {"learning_rate": 0.01}, "model": {"activation": "relu"}}
    found = advisor.findings(_rows(values), LAYERS, spec)
    assert [f["rule"] for f in found] == [rule] and found[0]["evidence"]["quantity"] == quantity
    assert found[0]["remedy"]


def test_healthy_measurements_raise_nothing():
    values = {(1, "grad_std"): [1e-3] * 2, (2, "grad_std"): [2e-3] * 2, (1, "weight_grad_norm"): [0.5, 0.4],
              (1, "dead"): [0.1, 0.2], (1, "update_ratio"): [float("nan"), 1e-3]}
    assert advisor.findings(_rows(values), LAYERS, {"model": {"activation": "relu"}}) == []


def test_every_set_remedy_is_a_valid_override():
    findings = advisor.findings(_rows({(2, "dead"): [0.9], (1, "weight_grad_norm"): [1.0, 1e9]}), LAYERS,
                                {"optimizer": {"learning_rate": 0.01}, "model": {"activation": "relu"}})
    findings += advisor.findings(_rows({(1, "saturated"): [0.9]}), [{"layer": 1, "activation": "tanh", "units": 4}],
                                 {"model": {"activation": "tanh", "initializer": "random_normal"}})
    selu = {"model": {"activation": "selu", "batch_norm": True, "initializer": "he_normal"}, "data": {"scale": "none"}}
    findings += advisor.findings([], [], selu)
    lines = [line for f in findings for line in f["remedy"] if line.startswith("--set ")]
    assert len(lines) >= 8
    for line in lines:
        load_config(SMALL, overrides=[line[len("--set "):].strip('"')])  # raises ConfigError if not valid


def test_measured_gradient_is_at_the_blocks_output_in_the_long_form():
    """dense(linear) -> activation(sigmoid): d loss / d activation is taken after the activation layer."""
    net, X, y, weights = _tiny()
    long = Network([{"name": "dense", "units": 2, "activation": "linear"},
                    {"name": "activation", "activation": "sigmoid"},
                    {"name": "dense", "units": 2, "activation": "linear"}], 2, "float64")
    long.params[...] = net.params
    a, da, dW1 = _by_hand(X, y, *weights)
    stats, _ = measure(long.layers, hidden_layers(long.layers), build("loss", "cross_entropy"), X, y)
    assert stats[1]["grad_std"] == pytest.approx(da.std(), rel=1e-12)
    assert stats[1]["weight_grad_norm"] == pytest.approx(np.linalg.norm(dW1), rel=1e-12)
    assert stats[1]["act_mean"] == pytest.approx(a.mean(), rel=1e-12)


def test_the_probe_measures_in_inference_mode():
    specs = [{"name": "dense", "units": 16, "activation": "relu"}, {"name": "dropout", "rate": 0.5},
             {"name": "dense", "units": 3}]
    X = np.random.default_rng(0).standard_normal((64, 5))
    y = np.arange(64) % 3
    with_dropout = Network(specs, 5, "float64", np.random.default_rng(1))
    without = Network([specs[0], specs[2]], 5, "float64", np.random.default_rng(1))
    loss = build("loss", "cross_entropy")
    first, _ = measure(with_dropout.layers, hidden_layers(with_dropout.layers), loss, X, y)
    again, _ = measure(with_dropout.layers, hidden_layers(with_dropout.layers), loss, X, y)
    plain, _ = measure(without.layers, hidden_layers(without.layers), loss, X, y)
    assert first == again == plain
