"""Non-finite numbers (.inf, -.inf, .nan) are refused at validation, wherever they stand in a spec,
with one line and exit 2, before any run directory exists (issue 11, item 7)."""

from __future__ import annotations

import math

import pytest
from click.testing import CliRunner

from mlrun import registry
from mlrun.cli.app import cli
from mlrun.spec.errors import ConfigError
from mlrun.spec.loading import load_config
from mlrun.spec.models import Spec

BAD = (".inf", "-.inf", ".nan")
# (base spec, --set key): a field of every kind of place a number can stand
FIELDS = [
    ({}, "optimizer.learning_rate"),
    ({"optimizer": "adam"}, "optimizer.beta_1"),
    ({"optimizer": "sgd"}, "optimizer.clip_norm"),
    ({"optimizer": "sgd"}, "optimizer.global_clip_norm"),
    ({}, "training.l2"),
    ({}, "training.tolerance"),
    ({"training": {"early_stopping": {"patience": 3}}}, "training.early_stopping.min_delta"),
    ({}, "data.test_size"),
    ({}, "data.validation_size"),
    ({"data": {"dataset": "make_moons"}}, "data.params.noise"),
    ({}, "data.positive_class"),
    ({"schedule": "one_cycle"}, "schedule.max_lr"),
    ({"schedule": "one_cycle"}, "schedule.pct_start"),
    ({"schedule": "plateau"}, "schedule.min_lr"),
    ({"schedule": {"name": "piecewise", "boundaries": [5], "values": [0.1, 0.01]}}, "schedule.values.1"),
    ({"model": {"activation": "leaky_relu"}}, "model.activation.alpha"),
    ({"model": {"initializer": "random_normal"}}, "model.initializer.stddev"),
    ({"model": {"layers": [{"name": "dense", "units": 4}, {"name": "dropout", "rate": 0.1}]}},
     "model.layers.1.rate"),
    ({"model": {"dropout": 0.1}}, "model.dropout"),
    ({"loss": "huber"}, "loss.delta"),
]
IDS = [key for _, key in FIELDS]


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("base, key", FIELDS, ids=IDS)
def test_every_field_refuses_inf_and_nan_with_its_key_path(base, key, value):
    with pytest.raises(ConfigError) as info:
        load_config(base, [f"{key}={value}"])
    message = str(info.value)
    assert message == (f"{key}: must be a finite number; got {value} "
                       "(.inf, -.inf and .nan are not values a run can use)")


@pytest.mark.parametrize("base, key", FIELDS, ids=IDS)
def test_the_same_fields_accept_a_finite_number_so_the_refusal_is_about_finiteness(base, key):
    finite = {"data.test_size": 0.3, "data.validation_size": 0.2, "model.dropout": 0.2,
              "optimizer.beta_1": 0.8, "schedule.pct_start": 0.3, "model.layers.1.rate": 0.2,
              "data.positive_class": 1}
    load_config(base, [f"{key}={finite.get(key, 0.5)}"])  # no error


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_python_callers_are_refused_too(value):
    spec = {"optimizer": {"name": "adam", "learning_rate": value}, "data": {"params": {}}}
    with pytest.raises(ConfigError, match=r"^optimizer.learning_rate: must be a finite number"):
        load_config(spec)
    with pytest.raises(ConfigError, match=r"^sweep.grid.training.l2.0: must be a finite number"):
        load_config({"sweep": {"grid": {"training.l2": [value, 0.1]}}})


@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "Infinity"])
def test_text_that_converts_to_a_non_finite_number_is_refused_by_the_registry(text):
    """YAML 1.1 reads a bare ``inf`` as text; the registry turns number text into a float, then checks it."""
    with pytest.raises(registry.RegistryError, match="'learning_rate' must be a finite number"):
        registry.validate("optimizer", {"name": "adam", "learning_rate": text})
    with pytest.raises(ConfigError, match="'alpha' must be a finite number"):
        load_config({"model": {"activation": {"name": "elu", "alpha": text}}})
    with pytest.raises(registry.RegistryError, match="'values' must be a finite number"):
        registry.validate("schedule", {"name": "piecewise", "boundaries": [1], "values": [0.1, text]})


def test_the_models_refuse_non_finite_floats_without_load_config():
    with pytest.raises(ValueError, match="finite number"):
        Spec.model_validate({"training": {"l2": math.inf}})


def _invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _one_line_exit_2(result, key):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and key in lines[0], result.output
    assert "must be a finite number" in lines[0]


CLI_FIELDS = ["optimizer.learning_rate", "training.l2", "training.tolerance",
              "training.early_stopping.min_delta", "data.params.noise"]


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("key", CLI_FIELDS)
def test_validate_and_train_refuse_with_one_line_and_leave_no_run_directory(tmp_path, key, value):
    spec = tmp_path / "spec.yaml"
    spec.write_text("data: {dataset: make_moons}\ntraining: {epochs: 1, early_stopping: {patience: 3}}\n")
    _one_line_exit_2(_invoke("validate", spec, "--set", f"{key}={value}"), key)
    runs = tmp_path / "runs"
    _one_line_exit_2(_invoke("train", spec, "--set", f"{key}={value}", "--runs-dir", runs), key)
    assert not runs.exists() or not any(runs.iterdir())


@pytest.mark.parametrize("value", BAD)
def test_a_spec_file_with_inf_is_refused(tmp_path, value):
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"optimizer:\n  name: sgd\n  learning_rate: {value}\n")
    _one_line_exit_2(_invoke("validate", spec), "optimizer.learning_rate")


@pytest.mark.parametrize("value", BAD)
def test_sweep_grid_values_are_refused_before_any_trial_runs(tmp_path, value):
    spec = tmp_path / "spec.yaml"
    spec.write_text("data: {dataset: make_moons}\ntraining: {epochs: 1}\n")
    runs = tmp_path / "runs"
    result = _invoke("sweep", spec, "--grid", f"optimizer.learning_rate=0.01,{value}", "--runs-dir", runs)
    _one_line_exit_2(result, "optimizer.learning_rate")
    assert not runs.exists() or not any(runs.iterdir())
    spec.write_text(f"data: {{dataset: make_moons}}\nsweep:\n  grid:\n    training.l2: [0.0, {value}]\n")
    _one_line_exit_2(_invoke("sweep", spec, "--runs-dir", runs), "sweep.grid.training.l2.1")
    assert not runs.exists() or not any(runs.iterdir())
