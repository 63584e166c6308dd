"""How the training loop wires its parts together, observed through real ``fit`` calls: the schedule's
per-epoch hook, ``batch_size: full``, the L2 term of val_loss, the divergence rule, one-cycle's
momentum as the optimizer used it, early stopping in max mode and ``restore_best``."""

import numpy as np
import pytest
from specs import model_section

import mlrun
from mlrun.lr_finder.range_test import range_test
from mlrun.nn.network import Network, expand_model, output_spec
from mlrun.optim.schedules import build_schedule
from mlrun.registry import build
from mlrun.spec.loading import load_config
from mlrun.training.early_stopping import EarlyStopping
from mlrun.training.setup import build_setup, load_data
from mlrun.training.trainer import DIVERGENCE_FACTOR, Trainer, batches_per_epoch

# η so small that every update underflows against the weights: the network never changes, so each
# epoch's losses tie exactly
FROZEN_LR = 1e-300


def blobs(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    return rng.standard_normal((n, 4)) + y[:, None], y


def network(specs=None, n_in=4, seed=0):
    specs = specs or expand_model(model_section(hidden_layers=1, neurons=6, activation="tanh")) + [output_spec(3)]
    return Network(specs, n_in, "float64", np.random.default_rng(seed), np.random.default_rng(seed + 1))


def trainer(optimizer, schedule="constant", *, epochs, n_rows=60, batch_size="full", loss="cross_entropy",
            net=None, **kw):
    opt = build("optimizer", optimizer)
    sched, _ = build_schedule(schedule, opt.learning_rate, epochs * batches_per_epoch(n_rows, batch_size))
    return Trainer(net or network(), build("loss", loss), opt, sched, epochs=epochs, batch_size=batch_size,
                   shuffle_rng=np.random.default_rng(7), **kw)


class StepLog:
    """Per optimizer step: the η and momentum the step used, the raw gradient, the weights after it."""

    def __init__(self):
        self.lrs, self.momenta, self.grads, self.params = [], [], [], []

    def on_batch_end(self, trainer, logs):
        self.lrs.append(trainer.optimizer.learning_rate)
        self.momenta.append(trainer.optimizer.get_momentum())
        self.grads.append(trainer.network.grads.copy())
        self.params.append(trainer.network.params.copy())


# -- the schedule's per-epoch hook ----------------------------------------------------------------
def test_plateau_lowers_the_rate_during_fit_and_a_tie_is_no_improvement():
    """Frozen weights: every epoch ties the first one's val_loss. With min_delta 0 a tie is no
    improvement (Keras's np.less), so patience 2 halves η after epochs 3 and 5."""
    X, y = blobs()
    log = StepLog()
    t = trainer({"name": "sgd", "learning_rate": FROZEN_LR},
                {"name": "plateau", "patience": 2, "factor": 0.5, "min_delta": 0.0}, epochs=6, callbacks=[log])
    t.fit(X, y, X, y)
    assert len({r["val_loss"] for r in t.history}) == 1  # the ties really are ties
    expected = [FROZEN_LR * f for f in (1, 1, 1, 0.5, 0.5, 0.25)]
    assert log.lrs == expected  # what each step's update used
    assert [r["learning_rate"] for r in t.history] == expected


def test_plateau_keeps_the_rate_while_the_monitored_loss_improves():
    X, y = blobs()
    t = trainer({"name": "sgd", "learning_rate": 0.05},
                {"name": "plateau", "patience": 1, "min_delta": 0.0, "monitor": "train_loss"}, epochs=8,
                net=network(expand_model(model_section(hidden_layers=0)) + [output_spec(3)]))
    t.fit(X, y, X, y)
    losses = [r["train_loss"] for r in t.history]
    assert all(b < a for a, b in zip(losses, losses[1:]))  # convex, small full-batch steps
    assert [r["learning_rate"] for r in t.history] == [0.05] * 8


# -- batch_size: full -----------------------------------------------------------------------------
FULL = {"name": "full", "seed": 1, "data": {"dataset": "iris"},
        "model": {"hidden_layers": 1, "neurons": 6, "activation": "tanh"},
        "optimizer": {"name": "momentum", "learning_rate": 0.01},
        "training": {"epochs": 8, "batch_size": "full", "dtype": "float64"}}


def _full(schedule):
    cfg = load_config({**FULL, "schedule": schedule})
    return cfg, load_data(cfg)


def test_full_batch_is_one_step_per_epoch_in_the_trainer():
    X, y = blobs()
    t = trainer({"name": "sgd", "learning_rate": 0.1}, epochs=3).fit(X, y)
    assert t.step == 3 and t.batches_per_epoch(len(X)) == 1


def test_full_batch_one_cycle_runs_its_whole_cycle():
    cfg, data = _full({"name": "one_cycle", "max_lr": 0.1})
    setup = build_setup(cfg, data)
    assert setup.resolved["total_steps"] == 8  # what run.json records
    setup.trainer.fit(data.X_train, data.y_train, data.X_val, data.y_val)
    assert setup.trainer.step == 8
    lrs = [r["learning_rate"] for r in setup.trainer.history]
    assert lrs == [setup.schedule(t) for t in range(8)]
    assert lrs[-1] == pytest.approx(0.1 / 10 / 1000)  # the cycle ends at max_lr/div/final_div
    assert max(lrs) < 0.1  # T = 8: the peak step pct_start·T - 1 = 2.6 falls between steps


def test_full_batch_exponential_decays_over_the_whole_run():
    cfg, data = _full({"name": "exponential"})
    setup = build_setup(cfg, data)
    assert setup.resolved["decay_steps"] == 8
    setup.trainer.fit(data.X_train, data.y_train, data.X_val, data.y_val)
    assert setup.trainer.history[-1]["learning_rate"] == pytest.approx(0.01 * 0.1 ** (7 / 8))


def test_full_batch_range_test_covers_its_whole_ramp():
    cfg, data = _full("constant")
    res = range_test(cfg, data, start=1e-4, end=1e-1, steps=12)
    assert len(res.lrs) == 12 and res.stop_reason == "steps_done"
    assert res.lrs[0] == pytest.approx(1e-4) and res.lrs[-1] == pytest.approx(1e-1)


# -- L2 in val_loss -------------------------------------------------------------------------------
def test_val_loss_carries_the_same_l2_term_as_the_training_loss():
    """(λ/2)·ΣW² over the dense weights only, on the validation loss as on the training loss."""
    X, y = blobs()
    specs = [{"name": "dense", "units": 5, "activation": "tanh"}, {"name": "batch_norm"},
             {"name": "dense", "units": 3}]
    t = trainer({"name": "sgd", "learning_rate": FROZEN_LR}, epochs=1, l2=0.3, net=network(specs))
    net = t.network
    weights = np.concatenate([layer.params["W"].ravel() for layer in net.layers if "W" in layer.params])
    penalty = 0.5 * 0.3 * float(weights @ weights)
    assert penalty > 0.1 * t.loss.value(y, net.predict_output(X))  # large enough to matter
    t.fit(X, y, X[:30], y[:30])
    # after the epoch: batch norm's moving statistics moved (the weights did not)
    expected = t.loss.value(y[:30], net.predict_output(X[:30])) + penalty
    assert t.history[0]["val_loss"] == pytest.approx(expected, rel=1e-12)


# -- divergence -----------------------------------------------------------------------------------
def _linear(n_rows=200, scale=1.0, seed=0):
    """A bias-free linear model on X = scale·Z with targets 0: loss = mean((X W)²) ∝ scale²."""
    rng = np.random.default_rng(seed)
    X = scale * rng.standard_normal((n_rows, 4))
    net = network([{"name": "dense", "units": 1, "use_bias": False, "initializer": "glorot_uniform"}])
    return X, np.zeros((n_rows, 1)), net


def test_divergence_is_relative_to_the_first_batch_loss():
    """Baseline ~1e-6: SGD past its stability limit multiplies the loss by about 4 a step; the run
    stops at the first batch above 1e4 × baseline, long before any loss reaches 1e4."""
    X, y, net = _linear(scale=1e-3)
    log = StepLog()
    t = trainer({"name": "sgd", "learning_rate": 1.5e6}, epochs=40, loss="mse", net=net, n_rows=200,
                callbacks=[log])
    t.fit(X, y)
    assert t.stop_reason == "diverged" and t.status == "diverged"
    losses = [t.loss.value(y, X @ p.reshape(4, 1)) for p in log.params]  # loss before each next batch
    assert t.baseline == pytest.approx(t.loss.value(y, X @ network(
        [{"name": "dense", "units": 1, "use_bias": False, "initializer": "glorot_uniform"}]).params.reshape(4, 1)))
    assert t.baseline < 1e-5
    assert all(v <= DIVERGENCE_FACTOR * t.baseline for v in losses[:-1])
    stopped_at = losses[-1]  # the loss of the batch that stopped the run (it took no step)
    assert DIVERGENCE_FACTOR * t.baseline < stopped_at < 1.0
    assert t.step == len(log.params) < 40


def test_a_large_first_loss_is_no_divergence():
    """Baseline ~1e6 (> 1e4 itself): a run whose loss only falls completes."""
    X, y, net = _linear(scale=1.0)
    y = y + 1e3
    t = trainer({"name": "sgd", "learning_rate": 0.05}, epochs=5, loss="mse", net=net, n_rows=200).fit(X, y)
    assert t.baseline > 1e5 and t.status == "completed" and t.stop_reason == "max_epochs"
    assert t.history[-1]["train_loss"] < t.history[0]["train_loss"]


# -- one-cycle momentum through fit -----------------------------------------------------------------
ONE_CYCLE = {"name": "one_cycle", "max_lr": 0.05, "base_momentum": 0.8, "max_momentum": 0.95}


def test_one_cycle_cycles_momentum_as_the_sgd_update_used_it():
    """Replaying m = μ_t m - η_t g; θ += m with the schedule's μ_t and η_t gives the trainer's weights
    after every step (batches of 20 over 60 rows, 4 epochs = 12 steps)."""
    X, y = blobs()
    log = StepLog()
    t = trainer({"name": "momentum", "learning_rate": 0.01}, ONE_CYCLE, epochs=4, batch_size=20,
                callbacks=[log])
    theta, m = t.network.params.copy(), np.zeros_like(t.network.params)
    t.fit(X, y)
    sched = t.schedule
    assert t.step == 12
    assert log.momenta == [sched.momentum(s) for s in range(12)]
    assert len(set(log.momenta)) > 6 and min(log.momenta) < 0.85  # it really cycles
    for s in range(12):
        m = sched.momentum(s) * m - sched(s) * log.grads[s]
        theta = theta + m
        np.testing.assert_allclose(log.params[s], theta, rtol=1e-12, atol=1e-15)
    assert [r["momentum"] for r in t.history] == [sched.momentum(s) for s in (2, 5, 8, 11)]


def test_one_cycle_cycles_adam_beta_1_with_torch_bias_correction():
    """Adam under one-cycle: β1_t from the schedule, bias correction 1 - β1_t^t (as torch)."""
    X, y = blobs()
    log = StepLog()
    t = trainer({"name": "adam", "learning_rate": 0.01}, ONE_CYCLE, epochs=10, callbacks=[log])
    theta = t.network.params.copy()
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    t.fit(X, y)
    sched = t.schedule
    for s in range(10):
        b1, g, k = sched.momentum(s), log.grads[s], s + 1
        m = b1 * m + (1 - b1) * g
        v = 0.999 * v + 0.001 * g * g
        theta = theta - sched(s) * (m / (1 - b1 ** k)) / (np.sqrt(v / (1 - 0.999 ** k)) + 1e-7)
        np.testing.assert_allclose(log.params[s], theta, rtol=1e-10, atol=1e-13)
    assert log.momenta == [sched.momentum(s) for s in range(10)]


# -- early stopping -------------------------------------------------------------------------------
def test_early_stopping_in_max_mode_counts_epochs_without_a_higher_score():
    es = EarlyStopping(patience=2, min_delta=0.05, monitor="val_accuracy")
    assert not es.mode_min
    seen = [es.update(v, e) for e, v in enumerate([0.5, 0.6, 0.64, 0.66, 0.2, 0.7], start=1)]
    # 0.64 is not 0.05 above 0.6; 0.66 is; 0.2 and 0.7 (0.04 above) are not: stop at epoch 6
    assert seen == [(True, False), (True, False), (False, False), (True, False), (False, False),
                    (False, True)]
    assert es.best == 0.66 and es.best_epoch == 4
    tie = EarlyStopping(patience=1, min_delta=0.0, monitor="val_accuracy")
    assert tie.update(0.8, 1) == (True, False) and tie.update(0.8, 2) == (False, True)  # strict, as Keras


def test_early_stopping_on_val_accuracy_through_fit_keeps_the_most_accurate_weights():
    X, y = blobs(120)
    snapshots = {}

    class Snap:
        def on_epoch_end(self, trainer, logs):
            snapshots[trainer.epoch] = trainer.network.params.copy()

    t = trainer({"name": "adam", "learning_rate": 0.2}, epochs=60, n_rows=60, batch_size=10,
                callbacks=[Snap()], val_metrics=lambda yv, out: {"accuracy": float(np.mean(out.argmax(1) == yv))},
                early_stopping={"patience": 4, "min_delta": 0.0, "monitor": "val_accuracy"})
    t.fit(X[:60], y[:60], X[60:], y[60:])
    accuracy = [r["val_accuracy"] for r in t.history]
    best = int(np.argmax(accuracy)) + 1  # first epoch with the highest accuracy
    assert t.stop_reason == "early_stopping" and t.early_stopping.best_epoch == best
    assert len(t.history) == best + 4 and max(accuracy) > accuracy[0]
    assert all(a <= accuracy[best - 1] for a in accuracy[best:])
    np.testing.assert_array_equal(t.network.params, snapshots[best])


def test_best_weights_are_restored_when_the_run_ends_by_max_epochs():
    X, y = blobs(120)
    snapshots = {}

    class Snap:
        def on_epoch_end(self, trainer, logs):
            snapshots[trainer.epoch] = trainer.network.params.copy()

    t = trainer({"name": "sgd", "learning_rate": 2.0}, epochs=12, callbacks=[Snap()],
                early_stopping={"patience": 50, "monitor": "val_loss"})
    t.fit(X[:60], y[:60], X[60:], y[60:])
    assert t.stop_reason == "max_epochs"
    best = int(np.argmin([r["val_loss"] for r in t.history])) + 1
    assert best < 12  # a rate this high overshoots: the last epoch is not the best
    np.testing.assert_array_equal(t.network.params, snapshots[best])


def test_best_weights_are_restored_when_the_run_diverges():
    """However the run ends: a diverging run hands back its best epoch's weights (the first here)."""
    X, y, net = _linear(scale=1e-3)
    snapshots = {}

    class Snap:
        def on_epoch_end(self, trainer, logs):
            snapshots[trainer.epoch] = trainer.network.params.copy()

    t = trainer({"name": "sgd", "learning_rate": 1.5e6}, epochs=40, loss="mse", net=net, n_rows=200,
                callbacks=[Snap()], early_stopping={"patience": 100, "monitor": "val_loss"})
    t.fit(X[:150], y[:150], X[150:], y[150:])
    assert t.status == "diverged" and t.early_stopping.best_epoch == 1 and len(snapshots) > 2
    np.testing.assert_array_equal(t.network.params, snapshots[1])


def test_restore_best_is_the_default_through_the_python_api(tmp_path):
    """early_stopping without restore_best: the metrics are those of the best epoch's weights."""
    spec = {"name": "es", "seed": 0, "data": {"dataset": "iris"},
            "model": {"hidden_layers": 1, "neurons": 8, "activation": "tanh"},
            "optimizer": {"name": "adam", "learning_rate": 0.3},
            "training": {"epochs": 80, "batch_size": 8, "dtype": "float64",
                         "early_stopping": {"patience": 3}}}
    assert load_config(spec).training.early_stopping.restore_best is True
    run = mlrun.train(spec, runs_dir=tmp_path)
    val_losses = [r["val_loss"] for r in run.history]
    assert run.stop_reason == "early_stopping"
    assert val_losses[-1] > min(val_losses)
    assert run.metrics["validation"]["log_loss"] == pytest.approx(min(val_losses), rel=1e-9)
