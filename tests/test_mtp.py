"""model.mtp (nn/mtp.py): the gradient through the modules and the shared head, λ = 0 equal to the
plain network bit for bit, the λ schedule, the per-depth history, the main head only in metrics and
in the saved model, resume, compare and sweep."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from gradcheck import numerical_gradient, relative_error

import mlrun
from mlrun.cli.app import cli
from mlrun.nn.losses import MSE, CrossEntropy
from mlrun.nn.mtp import MTPNetwork, RMSNorm, stack_targets
from mlrun.nn.network import Network
from mlrun.runs.history import read_history
from mlrun.spec.errors import ConfigError
from mlrun.training.setup import build_setup, load_data


def _net(heads, n_classes, depth=2, weight=0.7, hidden=(5, 4), in_dim=3, seed=0):
    specs = [{"name": "dense", "units": u, "activation": "tanh"} for u in hidden]
    specs.append({"name": "dense", "units": n_classes or 1, "activation": "linear"})
    return MTPNetwork(specs, in_dim, "float64", np.random.default_rng(seed), depth=depth, weight=weight,
                      heads=heads, activation="tanh", n_classes=n_classes)


@pytest.mark.parametrize("heads", ["sequential", "parallel"])
@pytest.mark.parametrize("n_classes", [None, 4])
def test_the_gradient_through_the_modules_and_the_shared_head_matches_finite_differences(heads, n_classes):
    net = _net(heads, n_classes)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 3))
    y = rng.integers(0, 4, (6, 3)) if n_classes else rng.standard_normal((6, 3))
    loss = CrossEntropy() if n_classes else MSE()
    value, parts = net.loss_and_gradient(x, y, loss)
    analytic = net.grads.copy()
    numeric = numerical_gradient(lambda: net.loss_and_gradient(x, y, loss)[0], net.params)
    assert relative_error(analytic, numeric) < 1e-6
    # every module tensor takes part: none of their gradients is identically zero
    assert all(np.any(g) for part in net.modules for g in part.grads.values())
    extra = parts["train_loss_mtp1"] + parts["train_loss_mtp2"]
    assert value == pytest.approx(parts["train_loss_main"] + 0.35 * extra)


def test_rmsnorm_gradient_and_values():
    norm = RMSNorm(4, np.float64)
    norm.params["g"][...] = [1.0, 2.0, 0.5, -1.0]
    x = np.array([[3.0, 4.0, 0.0, 0.0]])
    np.testing.assert_allclose(norm.forward(x), [[1.2, 3.2, 0, 0]], rtol=1e-6)  # rms = 2.5
    x = np.random.default_rng(0).standard_normal((5, 4))
    R = np.random.default_rng(1).standard_normal((5, 4))
    norm.forward(x)
    dx = norm.backward(R)
    np.testing.assert_allclose(dx, numerical_gradient(lambda: float(np.sum(norm.forward(x) * R)), x), atol=1e-7)


def test_every_depth_predicts_through_the_main_output_layer():
    # with the main head's W zeroed and its bias 0.5, every depth predicts 0.5 whatever the modules do
    net = _net("sequential", None, depth=2, weight=1.0)
    head = net.layers[-1]
    head.params["W"][...] = 0.0
    head.params["b"][...] = 0.5
    y = np.random.default_rng(2).standard_normal((7, 3))
    _, parts = net.loss_and_gradient(np.ones((7, 3)), y, MSE())
    for k in (1, 2):
        assert parts[f"train_loss_mtp{k}"] == pytest.approx(np.mean((y[:, k] - 0.5) ** 2))
    assert net.n_params > net.n_main == sum(p.size for layer in net.layers for p in layer.params.values())


def test_the_weight_switches_at_the_scheduled_step():
    specs = [{"name": "dense", "units": 2, "activation": "tanh"}, {"name": "dense", "units": 1}]
    net = MTPNetwork(specs, 2, "float64", depth=1, weight=0.3, schedule={"at": 0.5, "weight": 0.1}, total_steps=10)
    assert [net.weight_at(s) for s in (0, 4, 5, 9)] == [0.3, 0.3, 0.1, 0.1]


def test_stacked_targets_need_the_horizon():
    y, ahead = np.arange(3), np.arange(6).reshape(3, 2) + 10
    np.testing.assert_array_equal(stack_targets(y, ahead, 2), [[0, 10, 11], [1, 12, 13], [2, 14, 15]])
    with pytest.raises(ValueError, match="needs 3 further targets"):
        stack_targets(y, ahead, 3)


SPEC = {"name": "seq", "seed": 3, "data": {"dataset": "sequence", "params": {"source": "sine", "window": 8,
        "horizon": 2, "length": 600}}, "model": {"hidden_layers": 2, "neurons": 12},
        "training": {"epochs": 3, "batch_size": 16, "diagnostics": False}}


def _cfg(mtp=None, diagnostics=False, **data_params):
    spec = {**SPEC, "training": {**SPEC["training"], "diagnostics": diagnostics},
            "data": {**SPEC["data"], "params": {**SPEC["data"]["params"], **data_params}},
            "model": {**SPEC["model"], **({"mtp": mtp} if mtp else {})}}
    return mlrun.load_config(spec)


def _trained(cfg, dataset):
    setup = build_setup(cfg, dataset)
    setup.trainer.fit(dataset.X_train, setup.y_train, dataset.X_val, dataset.y_val)
    return setup


@pytest.mark.parametrize("source, heads", [("sine", "sequential"), ("text", "parallel")])
def test_weight_zero_trains_the_main_network_bit_identically_to_the_plain_one(source, heads):
    plain_cfg = _cfg(source=source)
    dataset = load_data(plain_cfg)
    plain = _trained(plain_cfg, dataset)
    zero = _trained(_cfg({"depth": 2, "weight": 0.0, "heads": heads}, source=source), dataset)
    some = _trained(_cfg({"depth": 2, "weight": 0.5, "heads": heads}, source=source), dataset)
    main = zero.network.params[:zero.network.n_main]
    np.testing.assert_array_equal(main, plain.network.params)
    X = dataset.X_test
    np.testing.assert_array_equal(zero.network.predict_output(X), plain.network.predict_output(X))
    history, plain_history = zero.trainer.history, plain.trainer.history
    for key in ("train_loss", "val_loss", "val_rmse" if source == "sine" else "val_accuracy"):
        assert [r[key] for r in history] == [r[key] for r in plain_history]
    # the norm covers the (zero) module gradients too: a longer dot product, equal up to rounding
    assert [r["grad_norm"] for r in history] == pytest.approx([r["grad_norm"] for r in plain_history], rel=1e-6)
    assert [r["train_loss_main"] for r in history] == [r["train_loss"] for r in plain_history]
    # and the test is not vacuous: a positive weight changes the main network
    assert not np.array_equal(some.network.params[:some.network.n_main], plain.network.params)


def test_a_run_logs_each_depth_and_saves_the_main_network_only(tmp_path):
    cfg = _cfg({"depth": 2, "weight": 0.3, "schedule": {"at": 0.5, "weight": 0.1}}, diagnostics=True)
    run = mlrun.train(cfg, runs_dir=tmp_path)
    assert (run.path / "diagnostics.csv").exists()  # the probe measures the main network
    assert run.status == "completed"
    rows = read_history(run.path / "history.csv")
    assert [r["mtp_weight"] for r in rows][0] == pytest.approx(0.3) and rows[-1]["mtp_weight"] == pytest.approx(0.1)
    for r in rows:
        assert r["train_loss"] == pytest.approx(r["train_loss_main"] + r["mtp_weight"] / 2 * (
            r["train_loss_mtp1"] + r["train_loss_mtp2"]), rel=0.05)  # λ changes within an epoch
    model = mlrun.load_model(run.path)
    assert isinstance(model.network, Network) and not isinstance(model.network, MTPNetwork)
    setup = build_setup(cfg, load_data(cfg))
    assert model.network.n_params == setup.network.n_main < setup.network.n_params
    # predictions from the saved main network are the run's own test predictions
    dataset = load_data(cfg)
    raw_test = dataset.X_test * dataset.scaler["scale"] + dataset.scaler["center"]
    import csv

    with open(run.path / "predictions.csv", newline="") as fh:
        saved = [float(r["y_pred"]) for r in csv.DictReader(fh)]
    np.testing.assert_allclose(model.predict(raw_test).ravel(), saved, rtol=1e-5)
    path = tmp_path / "rows.csv"
    path.write_text(",".join(model.pre.feature_names) + "\n" + "\n".join(",".join(repr(float(v)) for v in row)
                                                                      for row in raw_test[:3]) + "\n")
    out = CliRunner().invoke(cli, ["predict", str(run.path), str(path)])
    assert out.exit_code == 0, out.output
    assert [float(v) for v in out.output.split()[1:4]] == pytest.approx(saved[:3], rel=1e-5)


class _StopAt:
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, trainer, logs):
        if trainer.epoch == self.epoch:
            trainer.request_stop("interrupted")


def test_an_interrupted_mtp_trainer_resumes_from_its_state_bit_identically():
    cfg = _cfg({"depth": 2, "weight": 0.3, "schedule": {"at": 0.5, "weight": 0.1}}, source="text")
    dataset = load_data(cfg)
    whole = build_setup(cfg, dataset)
    whole.trainer.fit(dataset.X_train, whole.y_train, dataset.X_val, dataset.y_val)
    first = build_setup(cfg, dataset, [_StopAt(1)])
    first.trainer.fit(dataset.X_train, first.y_train, dataset.X_val, dataset.y_val)
    assert first.trainer.status == "interrupted"
    meta, arrays = first.trainer.state()
    assert arrays["weights.params"].size == first.network.n_params > first.network.n_main  # modules included
    again = build_setup(cfg, dataset)
    again.trainer.load_state(meta, arrays)
    again.trainer.fit(dataset.X_train, again.y_train, dataset.X_val, dataset.y_val)
    np.testing.assert_array_equal(again.network.params, whole.network.params)
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in whole.trainer.history]
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in again.trainer.history] == strip


def test_compare_and_sweep_see_the_mtp_keys(tmp_path):
    result = mlrun.sweep(_cfg({"depth": 1}), grid={"model.mtp.heads": ["sequential", "parallel"]},
                         runs_dir=tmp_path, jobs=1)
    assert result.n_failed == 0
    rows = mlrun.compare([tmp_path])
    assert sorted(r["model.mtp.heads"] for r in rows) == ["parallel", "sequential"]
    assert all(r["model.mtp.depth"] == 1 and r["model.mtp.weight"] == 0.3 for r in rows)


@pytest.mark.parametrize("change, message", [
    ({"data": {"dataset": "iris"}}, "model.mtp: needs dataset sequence"),
    ({"data": {"dataset": "sequence", "params": {"horizon": 1}}}, "model.mtp.depth: is 2 but data.params.horizon is 1"),
    ({"model": {"mtp": {"depth": 2, "heads": "tree"}}}, "model.mtp.heads"),
    ({"model": {"mtp": {"depth": 2, "schedule": {"at": 1.5, "weight": 0.1}}}}, "model.mtp.schedule.at"),
])
def test_bad_mtp_specs_are_one_line_errors(change, message):
    spec = {"data": {"dataset": "sequence", "params": {"horizon": 2}}, "model": {"mtp": {"depth": 2}}, **change}
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")) as err:
        mlrun.load_config(spec)
    assert "\n" not in str(err.value)
