"""Early stopping (and plateau) watch only what the trainer logs each epoch (issue 11, item 4): every
accepted monitor is logged and tracked in its own direction; every other one is refused at validation."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn import metrics as skm

from mlrun.cli.app import cli
from mlrun.metrics.epoch import classification_epoch, regression_epoch
from mlrun.metrics.names import EPOCH_METRICS, higher_is_better, logged_key, monitors
from mlrun.metrics.scores import classification_metrics, regression_metrics
from mlrun.spec.errors import ConfigError
from mlrun.spec.loading import load_config
from mlrun.training.setup import build_setup, load_data

TASK_DATA = {"classification": {"dataset": "make_moons", "params": {"n_samples": 160, "noise": 0.3}},
             "regression": {"dataset": "make_regression", "params": {"n_samples": 160, "n_features": 4}}}
ACCEPTED = [(task, m) for task in EPOCH_METRICS for m in monitors(task)]


def _setup(task, monitor, patience=100, min_delta=0.0, lr=0.01, epochs=4, validation_size=0.25):
    cfg = load_config({
        "data": {**TASK_DATA[task], "validation_size": validation_size},
        "model": {"hidden_layers": 1, "neurons": 8}, "optimizer": {"name": "adam", "learning_rate": lr},
        "training": {"epochs": epochs, "batch_size": 32, "diagnostics": False,
                     "early_stopping": {"monitor": monitor, "patience": patience, "min_delta": min_delta}}})
    return build_setup(cfg, load_data(cfg))


def _fit(setup):
    d = setup.dataset
    return setup.trainer.fit(d.X_train, d.y_train, d.X_val, d.y_val)


@pytest.mark.parametrize("task, monitor", ACCEPTED, ids=[f"{t}-{m}" for t, m in ACCEPTED])
def test_every_accepted_monitor_is_logged_each_epoch_and_tracked_in_its_direction(task, monitor):
    trainer = _fit(_setup(task, monitor))
    column = [row[logged_key(monitor)] for row in trainer.history]
    assert len(column) == 4 and all(np.isfinite(column)), column
    higher = higher_is_better(monitor)
    assert higher is not None  # every monitor has a direction in metrics.names
    best = max(column) if higher else min(column)
    es = trainer.early_stopping
    assert es.best == best and es.mode_min is not higher
    assert es.best_epoch == 1 + column.index(best)  # the first epoch that reached it (no min_delta)


@pytest.mark.parametrize("task, monitor", ACCEPTED, ids=[f"{t}-{m}" for t, m in ACCEPTED])
def test_a_stalled_monitor_stops_after_patience_epochs(task, monitor):
    """lr 1e-12: nothing moves by min_delta; epoch 1 is the best, epochs 2 and 3 wait, 3 stops."""
    trainer = _fit(_setup(task, monitor, patience=2, min_delta=0.1, lr=1e-12, epochs=10))
    assert trainer.stop_reason == "early_stopping" and trainer.epoch == 3
    assert trainer.early_stopping.best_epoch == 1


VAL_MONITORS = [(t, m) for t, m in ACCEPTED if m.startswith("val_") and m != "val_loss"]


class Scripted:
    """A validation metric that takes the values of ``values`` epoch by epoch (the rest of the
    run is real: network, trainer, early stopping, restore_best)."""

    def __init__(self, metric, values):
        self.metric, self.values = metric, list(values)

    def __call__(self, y, out):
        return {self.metric: self.values.pop(0)}


def _scripted_trainer(task, monitor, values, patience):
    from mlrun.training.trainer import Trainer

    setup = _setup(task, monitor, patience=patience, epochs=len(values))
    old = setup.trainer
    watch = Scripted(monitor[len("val_"):], values)
    weights = []
    record = type("Record", (), {"on_epoch_end": lambda self, t, logs: weights.append(t.network.get_weights())})
    trainer = Trainer(old.network, old.loss, old.optimizer, old.schedule, epochs=len(values), batch_size=32,
                      early_stopping=old.early_stopping, shuffle_rng=old.shuffle_rng, val_metrics=watch,
                      callbacks=[record()])
    d = setup.dataset
    return trainer.fit(d.X_train, d.y_train, d.X_val, d.y_val), weights


@pytest.mark.parametrize("task, monitor", VAL_MONITORS, ids=[f"{t}-{m}" for t, m in VAL_MONITORS])
def test_an_improving_monitor_keeps_going_and_a_worsening_one_stops_and_restores_its_best(task, monitor):
    sign = 1 if higher_is_better(monitor) else -1
    better = [sign * v for v in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)]  # better every epoch, in its direction
    trainer, _ = _scripted_trainer(task, monitor, better, patience=1)
    assert trainer.stop_reason == "max_epochs" and trainer.epoch == 6
    worse = [sign * v for v in (0.5, 0.9, 0.7, 0.6, 0.6, 0.6)]  # best at epoch 2, then patience 3 runs out
    trainer, weights = _scripted_trainer(task, monitor, worse, patience=3)
    assert trainer.stop_reason == "early_stopping" and trainer.epoch == 5
    assert trainer.early_stopping.best_epoch == 2
    assert np.array_equal(trainer.network.get_weights()["params"], weights[1]["params"])  # restore_best


# -- the per-epoch metrics equal scikit-learn's (metrics.json's) --------------------------------------
@pytest.mark.parametrize("k, positive", [(2, None), (2, 0), (3, None)])
def test_epoch_classification_metrics_equal_the_final_ones(k, positive):
    rng = np.random.default_rng(k)
    y = rng.integers(0, k, 300)
    logits = rng.standard_normal((300, k)) + 0.8 * np.eye(k)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    names = EPOCH_METRICS["classification"]
    final = classification_metrics(y, proba, positive_class=positive, names=names)
    assert classification_epoch(names, y, logits, positive) == pytest.approx(dict(final), rel=1e-9)


def test_epoch_classification_metrics_when_a_class_is_never_predicted():
    y, logits = np.array([0, 1, 2, 2]), np.array([[5.0, 0, 0], [5, 0, 0], [0, 0, 5], [0, 0, 5]])
    names = EPOCH_METRICS["classification"]
    expected = {"precision": skm.precision_score(y, logits.argmax(1), average="macro", zero_division=0),
                "f1_macro": skm.f1_score(y, logits.argmax(1), average="macro", zero_division=0)}
    got = classification_epoch(names, y, logits)
    assert {k: got[k] for k in expected} == pytest.approx(expected)


@pytest.mark.parametrize("targets", [1, 3])
def test_epoch_regression_metrics_equal_the_final_ones(targets):
    rng = np.random.default_rng(targets)
    y = rng.standard_normal((200, targets)) * 10
    pred = y + rng.standard_normal((200, targets))
    names = EPOCH_METRICS["regression"]
    assert regression_epoch(names, y, pred) == pytest.approx(dict(regression_metrics(y, pred, names)), rel=1e-9)
    constant = np.ones((5, 1))
    assert regression_epoch(["r2"], constant, constant) == {"r2": 1.0} == {"r2": skm.r2_score(constant, constant)}


# -- refused at validation: one line, exit 2 ---------------------------------------------------------
REFUSED = [
    # (spec, monitor, words in the one line)
    ({"data": {"dataset": "digits"}}, "val_roc_auc", ["computed once, after training", "val_log_loss"]),
    ({"data": {"dataset": "digits"}}, "val_pr_auc", ["computed once"]),
    ({"data": {"dataset": "digits"}}, "val_confusion_matrix", ["computed once"]),
    ({"data": {"dataset": "digits"}}, "val_rmse", ["not a classification metric"]),
    ({"data": {"dataset": "diabetes"}}, "val_accuracy", ["not a regression metric", "val_r2"]),
    ({"data": {"dataset": "diabetes"}}, "val_f1", ["not a regression metric"]),
    ({"task": "classification"}, "val_r2", ["not a classification metric"]),
    *[({"data": {"dataset": "digits", "validation_size": 0}}, m, ["validation_size is 0", "loss, train_loss"])
      for m in monitors("classification") if m.startswith("val_")],
    *[({"data": {"dataset": "diabetes", "validation_size": 0}}, m, ["validation_size is 0"])
      for m in monitors("regression") if m.startswith("val_")],
]


def _refused_ids():
    return [f"{s['data']['dataset'] if 'data' in s else s['task']}-{m}"
            f"{'-noval' if s.get('data', {}).get('validation_size') == 0 else ''}" for s, m, _ in REFUSED]


@pytest.mark.parametrize("spec, monitor, words", REFUSED, ids=_refused_ids())
def test_a_monitor_never_logged_is_refused_with_one_line_and_exit_2(tmp_path, spec, monitor, words):
    path = tmp_path / "spec.yaml"
    import yaml

    path.write_text(yaml.safe_dump({**spec, "training": {"early_stopping": {"monitor": monitor}}}))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: training.early_stopping.monitor: ")
    assert monitor in lines[0] and all(w in lines[0] for w in words), lines[0]


def test_plateau_is_held_to_the_same_rule():
    with pytest.raises(ConfigError, match=r"^schedule.monitor: plateau watches 'val_loss' but data.validation_"
                                          r"size is 0.*monitor one of: loss, train_loss$"):
        load_config({"data": {"validation_size": 0}, "schedule": {"name": "plateau"}})
    with pytest.raises(ConfigError, match=r"^schedule.monitor: plateau watches 'val_log_loss'.*not a regression"):
        load_config({"data": {"dataset": "diabetes"}, "schedule": {"name": "plateau", "monitor": "val_log_loss"}})
    load_config({"data": {"validation_size": 0}, "schedule": {"name": "plateau", "monitor": "loss"}})


def test_plateau_on_loss_watches_the_training_loss():
    cfg = load_config({"data": TASK_DATA["classification"], "model": {"hidden_layers": 1, "neurons": 8},
                       "schedule": {"name": "plateau", "monitor": "loss", "patience": 0, "min_delta": 1e9},
                       "training": {"epochs": 3, "diagnostics": False}})
    trainer = _fit(build_setup(cfg, load_data(cfg)))
    assert [row["learning_rate"] for row in trainer.history] == pytest.approx([0.001, 0.001, 0.0005])


def test_a_csv_with_task_auto_is_checked_once_its_task_is_known(tmp_path):
    """A CSV's task is known only from its target column: train refuses before any run directory."""
    csv = tmp_path / "data.csv"
    rng = np.random.default_rng(0)
    csv.write_text("a,b,y\n" + "".join(f"{a:.3f},{b:.3f},{a + b:.3f}\n" for a, b in rng.standard_normal((60, 2))))
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"data: {{dataset: csv, path: {csv}, target: y}}\n"
                    "training: {epochs: 1, early_stopping: {monitor: val_accuracy}}\n")
    runs = tmp_path / "runs"
    result = CliRunner().invoke(cli, ["train", str(spec), "--runs-dir", str(runs)])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [result.output.strip()]
    assert "val_accuracy" in result.output and "not a regression metric" in result.output
    assert not runs.exists() or not any(runs.iterdir())
    result = CliRunner().invoke(cli, ["validate", "--data", str(spec)])
    assert result.exit_code == 2 and "not a regression metric" in result.output
