"""The training loop on plain arrays: stop rules, L2, grad_norm, clipping on a network, resume state."""

import numpy as np
import pytest
from specs import model_section

from mlrun.nn.network import Network, expand_model, output_spec
from mlrun.optim.schedules import build_schedule
from mlrun.registry import build
from mlrun.training.trainer import Trainer, batches_per_epoch


def blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.standard_normal((n, 4)) + y[:, None]
    return X, y


def make_trainer(optimizer=None, schedule="constant", model=None, epochs=5, batch_size=16, seed=0,
                 n_out=3, loss="cross_entropy", dtype="float64", **kw):
    model = model_section(**(model or {"hidden_layers": 1, "neurons": 8, "activation": "tanh"}))
    specs = expand_model(model) + [output_spec(n_out)]
    net = Network(specs, 4, dtype, np.random.default_rng(seed), np.random.default_rng(seed + 1))
    opt = build("optimizer", optimizer or {"name": "adam", "learning_rate": 0.01})
    sched, _ = build_schedule(schedule, opt.learning_rate, epochs * batches_per_epoch(200, batch_size))
    return Trainer(net, build("loss", loss), opt, sched, epochs=epochs, batch_size=batch_size,
                   shuffle_rng=np.random.default_rng(seed + 2), **kw)


def test_history_rows_and_max_epochs():
    X, y = blobs()
    t = make_trainer(epochs=4).fit(X[:150], y[:150], X[150:], y[150:])
    assert t.status == "completed" and t.stop_reason == "max_epochs" and t.epoch == 4
    assert [r["epoch"] for r in t.history] == [1, 2, 3, 4]
    assert set(t.history[0]) >= {"epoch", "learning_rate", "momentum", "train_loss", "val_loss", "grad_norm", "seconds"}
    assert t.history[-1]["train_loss"] < t.history[0]["train_loss"]
    assert t.step == 4 * 10  # ceil(150 / 16) batches per epoch


def test_grad_norm_is_the_norm_of_the_row_weighted_mean_gradient():
    """Full batch: the epoch's grad_norm equals the gradient norm at the weights before the step."""
    X, y = blobs(60)
    t = make_trainer(optimizer={"name": "sgd", "learning_rate": 0.1}, batch_size="full", epochs=1, l2=0.01)
    net = t.network
    out = net.forward(X, training=True)
    value, dy = t.loss.value_and_gradient(y, out)
    net.backward(dy)
    g = net.grads.copy()
    g[: net.n_regularized] += 0.01 * net.params[: net.n_regularized]
    w = net.params[: net.n_regularized]
    expected_loss = value + 0.005 * np.dot(w, w)
    t.fit(X, y)
    assert t.history[0]["grad_norm"] == pytest.approx(np.linalg.norm(g), rel=1e-12)
    assert t.history[0]["train_loss"] == pytest.approx(expected_loss, rel=1e-12)


def test_grad_norm_row_weighting_with_a_short_last_batch():
    X, y = blobs(50)
    t = make_trainer(optimizer={"name": "sgd", "learning_rate": 1e-12}, batch_size=32, epochs=1)
    net = t.network
    order = np.random.default_rng(2).permutation(50)  # the trainer's shuffle stream (seed + 2)
    total = np.zeros_like(net.params)
    for idx in (order[:32], order[32:]):
        _, dy = t.loss.value_and_gradient(y[idx], net.forward(X[idx], training=True))
        net.backward(dy)
        total += len(idx) * net.grads
    t.fit(X, y)
    assert t.history[0]["grad_norm"] == pytest.approx(np.linalg.norm(total / 50), rel=1e-6)


def test_tolerance_stops_the_run():
    X, y = blobs(100)
    t = make_trainer(optimizer={"name": "sgd", "learning_rate": 0.5}, batch_size="full", epochs=5000,
                     tolerance=0.05).fit(X, y)
    assert t.stop_reason == "tolerance" and t.status == "completed"
    assert t.history[-1]["grad_norm"] < 0.05 <= t.history[-2]["grad_norm"]


def test_divergence_keeps_history_and_reports_diverged():
    X, y = blobs(200)
    t = make_trainer(optimizer={"name": "sgd", "learning_rate": 1e3}, epochs=20,
                     model={"hidden_layers": 2, "neurons": 16, "activation": "relu"}).fit(X, y)
    assert t.status == "diverged" and t.stop_reason == "diverged"
    assert t.epoch < 20 and len(t.history) == t.epoch


def test_early_stopping_restores_the_best_weights():
    X, y = blobs(200)
    best = {}

    class Spy:
        def on_epoch_end(self, trainer, logs):
            if trainer.early_stopping.best_epoch == trainer.epoch:
                best["params"] = trainer.network.params.copy()

    t = make_trainer(optimizer={"name": "adam", "learning_rate": 0.05}, epochs=200, callbacks=[Spy()],
                     early_stopping={"patience": 3, "min_delta": 0.0, "monitor": "val_loss", "restore_best": True})
    t.fit(X[:100], y[:100], X[100:], y[100:])
    assert t.stop_reason == "early_stopping"
    best_epoch = t.early_stopping.best_epoch
    assert len(t.history) == best_epoch + 3
    assert min(r["val_loss"] for r in t.history) == t.history[best_epoch - 1]["val_loss"]
    np.testing.assert_array_equal(t.network.params, best["params"])


def test_clip_norm_differs_from_global_clip_norm_on_a_network():
    X, y = blobs(64)
    per_tensor = make_trainer(optimizer={"name": "sgd", "learning_rate": 0.1, "clip_norm": 0.05},
                              batch_size="full", epochs=1)
    global_ = make_trainer(optimizer={"name": "sgd", "learning_rate": 0.1, "global_clip_norm": 0.05},
                           batch_size="full", epochs=1)
    start = per_tensor.network.params.copy()
    per_tensor.fit(X, y)
    global_.fit(X, y)
    step_a = per_tensor.network.params - start
    step_b = global_.network.params - start
    # each tensor's step norm is at most lr * c under clip_norm; the whole step under global_clip_norm
    net = per_tensor.network
    bounds = list(net.segments) + [net.params.size]
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        assert np.linalg.norm(step_a[lo:hi]) <= 0.1 * 0.05 * (1 + 1e-9)
    assert np.linalg.norm(step_b) == pytest.approx(0.1 * 0.05, rel=1e-9)
    assert np.linalg.norm(step_a) > np.linalg.norm(step_b) * 1.1


@pytest.mark.parametrize("schedule", ["constant", {"name": "plateau", "patience": 1},
                                      {"name": "one_cycle", "max_lr": 0.05}])
@pytest.mark.parametrize("optimizer", ["nadam", "momentum"])
def test_state_restored_mid_run_continues_bit_identically(schedule, optimizer):
    X, y = blobs(200)
    kw = dict(optimizer={"name": optimizer, "learning_rate": 0.01}, schedule=schedule, epochs=6,
              model={"hidden_layers": 2, "neurons": 8, "activation": "rrelu", "dropout": 0.2},
              early_stopping={"patience": 50, "monitor": "val_loss", "restore_best": True})
    straight = make_trainer(**kw).fit(X[:150], y[:150], X[150:], y[150:])

    class StopAt3:
        def on_epoch_end(self, trainer, logs):
            if trainer.epoch == 3:
                trainer.request_stop("interrupted")

    first = make_trainer(**kw, callbacks=[StopAt3()]).fit(X[:150], y[:150], X[150:], y[150:])
    assert first.status == "interrupted" and first.epoch == 3
    meta, arrays = first.state()
    import json

    meta = json.loads(json.dumps(meta))  # the checkpoint goes through JSON
    second = make_trainer(**kw, seed=99)  # different init and streams: everything must come from the state
    second.load_state(meta, arrays)
    second.fit(X[:150], y[:150], X[150:], y[150:])
    assert second.status == "completed" and second.epoch == 6
    np.testing.assert_array_equal(second.network.params, straight.network.params)
    assert [r["train_loss"] for r in second.history] == [r["train_loss"] for r in straight.history]


def test_float32_training_stays_float32():
    X, y = blobs(100)
    t = make_trainer(dtype="float32", epochs=2).fit(X, y)
    assert t.network.params.dtype == np.float32 and t.network.grads.dtype == np.float32
    assert t.optimizer.slots[0]["m"].dtype == np.float32


def test_batches_are_the_slices_of_the_shuffled_order_whatever_the_gather_block(monkeypatch):
    import importlib

    loop = importlib.import_module("mlrun.training.trainer")  # the module (the package attribute is the train() API)
    X, y = blobs(n=150)
    order = np.random.default_rng(5).permutation(150)
    want = [(X[order[i:i + 16]], y[order[i:i + 16]]) for i in range(0, 150, 16)]
    for block_bytes in (1, 16 * X[:1].nbytes * 2, 10**9):  # one batch, two batches, all rows per block
        monkeypatch.setattr(loop, "GATHER_BYTES", block_bytes)
        got = list(loop._batches(X, y, order, 16))
        assert len(got) == len(want) == 10
        for (xg, yg), (xw, yw) in zip(got, want):
            np.testing.assert_array_equal(xg, xw)
            np.testing.assert_array_equal(yg, yw)
    (x_all, y_all), = loop._batches(X, y, None, 150)
    assert x_all is X and y_all is y
