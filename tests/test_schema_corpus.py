"""`mlrun schema` against `mlrun validate` on a corpus of valid and invalid specs, with a real JSON
Schema validator (jsonschema, draft 2020-12): an editor must mark red exactly what validate refuses.

The schema is generated from the rules validate applies (spec/schema.py, spec/part_schema.py,
spec/ranges.py), so the corpus covers every section and every part kind. Rules a JSON Schema cannot
express stay validate-only (VALIDATE_ONLY, and the schema's description lists them); EDITOR_STRICTER
is the one leniency of validate the schema does not copy.
"""

from __future__ import annotations

import copy
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

jsonschema = pytest.importorskip("jsonschema")

from mlrun import registry  # noqa: E402
from mlrun.cli.app import cli  # noqa: E402
from mlrun.spec import ranges  # noqa: E402
from mlrun.spec.schema import VALIDATE_ONLY as VALIDATE_ONLY_RULES  # noqa: E402

BASE = {"data": {"dataset": "iris"}}
CSV = str(Path(__file__).resolve().parents[1] / "configs" / "examples" / "penguins_small.csv")


def spec(**keys) -> dict:
    return {**copy.deepcopy(BASE), **keys}


def layers(*items) -> dict:
    return spec(model={"layers": list(items)})


VALID = {
    "minimal": BASE,
    "sections_null": {"data": None, "model": None, "training": None},
    "epochs_int": spec(training={"epochs": 2}),
    # 2.0 is 2: JSON Schema's "integer" cannot tell them apart, so validate reads it as 2 too
    "epochs_float_whole": spec(training={"epochs": 2.0}),
    "activation_mapping": spec(model={"activation": {"name": "leaky_relu", "alpha": 0.2}}),
    "activation_rrelu": spec(model={"activation": {"name": "rrelu", "lower": 0.1, "upper": 0.2}}),
    "initializer_mapping": spec(model={"initializer": {"name": "random_normal", "stddev": 0.5}}),
    "neurons_list": spec(model={"neurons": [64, 32]}),
    "layers_long_form": layers({"name": "dense", "units": 16, "activation": "relu"}, {"name": "batch_norm"},
                               {"name": "dropout", "rate": 0.1},
                               {"name": "dense", "units": 8, "initializer": "he_normal",
                                "activation": {"name": "leaky_relu", "alpha": 0.1}}),
    "layers_empty": spec(model={"layers": []}),
    "one_cycle_auto": spec(schedule={"name": "one_cycle", "max_lr": "auto", "pct_start": 0.3}),
    "schedule_bare_name": spec(schedule="exponential"),
    "piecewise_complete": spec(schedule={"name": "piecewise", "boundaries": [100], "values": [0.01, 0.001]}),
    "plateau": spec(schedule={"name": "plateau", "factor": 0.2, "monitor": "train_loss"}),
    "loss_auto": spec(loss="auto"),
    "loss_mapping": spec(loss={"name": "huber", "delta": 2.0}),
    "optimizer_bare_name": spec(optimizer="adam"),
    "optimizer_without_name_is_nadam": spec(optimizer={"learning_rate": 0.01, "beta_2": 0.99}),
    "optimizer_one_clip": spec(optimizer={"name": "sgd", "clip_norm": 1.0, "clip_value": None}),
    "metrics_list": spec(metrics=["accuracy", "f1"]),
    "metrics_one_name": spec(metrics="accuracy", task="classification"),
    "name_2024": spec(name=2024),
    "name_dashes": spec(name="my_run-1"),
    "early_stopping_true": spec(training={"early_stopping": True}),
    "early_stopping_mapping": spec(training={"early_stopping": {"patience": 3, "monitor": "val_accuracy",
                                                                "min_delta": 0.001}}),
    "diagnostics_off": spec(training={"diagnostics": False}),
    "diagnostics_mapping": spec(training={"diagnostics": {"every": 2, "probe_rows": 64}}),
    "training_full": spec(training={"batch_size": "full", "tolerance": 1e-6, "l2": 1e-4, "dtype": "float64",
                                    "threads": 1}),
    "model_empty": spec(model=None),
    "optimizer_empty": spec(optimizer=None),
    "generator_params": {"data": {"dataset": "make_moons", "params": {"n_samples": 200, "noise": 0.1}}},
    "mnist1d_params": {"data": {"dataset": "mnist1d", "params": {"num_samples": 500, "split": "fixed"}}},
    "bitwise_true": {"model": {"bitwise": True}},
    "bitwise_options": {"model": {"bitwise": {"beta": 0.2, "input_bits": 2}, "activation": "tanh"}},
    "sequence_mtp": {"data": {"dataset": "sequence", "params": {"source": "ar", "window": 8, "horizon": 2}},
                     "model": {"mtp": {"depth": 2, "weight": 0.3, "heads": "parallel"}}},
    # the values are the generator's to check, when the data is loaded (validate --data, train)
    "generator_parameter_value": {"data": {"dataset": "make_moons", "params": {"n_samples": "many"}}},
    "default_dataset_params": {"data": {"params": {"n_class": 5}}},
    "csv": {"data": {"dataset": "csv", "path": CSV, "target": "species", "scale": "minmax", "split_seed": 3}},
    "sweep_section": spec(sweep={"method": "grid", "parameters": {"optimizer.learning_rate": {"values": [0.01, 0.1]}}}),
    "baselines": spec(baselines=["logistic_regression", {"name": "svm", "params": {"C": 10}, "multiclass": "ovo",
                                                         "label": "svm_c10"}]),
}
INVALID = {
    "bitwise_beta_1": {"model": {"bitwise": {"beta": 1.0}}},
    "sequence_param_unknown": {"data": {"dataset": "sequence", "params": {"windw": 8}}},
    "mtp_heads_unknown": {"data": {"dataset": "sequence"}, "model": {"mtp": {"heads": "tree"}}},
    "activation_unknown": spec(model={"activation": "relux"}),
    "dropout_above_1": spec(model={"dropout": 1.5}),
    "unknown_top_key": spec(modle={}),
    "batch_size_0": spec(training={"batch_size": 0}),
    "batch_size_text": spec(training={"batch_size": "half"}),
    "scale_unknown": spec(data={"dataset": "iris", "scale": "robust"}),
    "dataset_unknown": spec(data={"dataset": "irs"}),
    "seed_text": spec(seed="zero"),
    "optimizer_without_name": spec(optimizer={"momentum": 0.9}),
    "schedule_without_name": spec(schedule={"decay_steps": 1000}),
    "piecewise_without_its_parameters": spec(schedule={"name": "piecewise"}),
    "name_with_a_space": spec(name="my run"),
    "name_true": spec(name=True),
    "name_fraction": spec(name=20.5),
    "monitor_unknown": spec(training={"early_stopping": {"monitor": "val_los"}}),
    "learning_rate_negative": spec(optimizer={"name": "adam", "learning_rate": -0.01}),
    "beta_1_above_1": spec(optimizer={"name": "adam", "beta_1": 1.5}),
    "epochs_fraction": spec(training={"epochs": 2.5}),
    "generator_parameter_unknown": spec(data={"dataset": "make_moons", "params": {"n_sample": 10}}),
    "two_clip_options": spec(optimizer={"name": "sgd", "clip_norm": 1.0, "clip_value": 0.5}),
    "layer_unknown": layers({"name": "conv", "units": 4}),
    "dense_without_units": layers({"name": "dense"}),
    "dense_units_0": layers({"name": "dense", "units": 0}),
    "dense_activation_misspelt": layers({"name": "dense", "units": 4, "activation": "rleu"}),
    "dropout_layer_rate_1": layers({"name": "dropout", "rate": 1.0}),
    "huber_delta_0": spec(loss={"name": "huber", "delta": 0}),
    "initializer_unknown_parameter": spec(model={"initializer": {"name": "he_normal", "gain": 2}}),
    "neurons_0_in_list": spec(model={"neurons": [64, 0]}),
    "pct_start_above_half": spec(schedule={"name": "one_cycle", "pct_start": 0.6}),
    "max_lr_text": spec(schedule={"name": "one_cycle", "max_lr": "big"}),
    "plateau_monitors_no_loss": spec(schedule={"name": "plateau", "monitor": "val_accuracy"}),
    "patience_negative": spec(training={"early_stopping": {"patience": -1}}),
    "early_stopping_text": spec(training={"early_stopping": "yes"}),
    "diagnostics_every_0": spec(training={"diagnostics": {"every": 0}}),
    "metric_unknown": spec(metrics=["acc"]),
    "dtype_float16": spec(training={"dtype": "float16"}),
    "task_unknown": spec(task="clustering"),
    "test_size_1": spec(data={"dataset": "iris", "test_size": 1.0}),
    "csv_without_target": {"data": {"dataset": "csv", "path": CSV}},
    "sweep_not_a_mapping": spec(sweep=5),
    "baseline_unknown": spec(baselines=["xgboost"]),
    "baseline_strategy_unknown": spec(baselines=[{"name": "svm", "multiclass": "ova"}]),
    "baselines_not_a_list": spec(baselines="svm"),
}
# cross-field rules no JSON Schema keyword states: the schema passes these, validate refuses them
VALIDATE_ONLY = {
    "split_sizes_sum_to_1": spec(data={"dataset": "iris", "test_size": 0.6, "validation_size": 0.5}),
    "csv_file_missing": {"data": {"dataset": "csv", "path": "/nonexistent/x.csv", "target": "y"}},
    "hidden_layers_against_neurons": spec(model={"hidden_layers": 3, "neurons": [8, 8]}),
    "layers_and_neurons": spec(model={"layers": [{"name": "dense", "units": 4}], "neurons": 8}),
    "metric_of_the_other_task": spec(task="classification", metrics=["r2"]),
    "val_monitor_without_validation": spec(data={"dataset": "iris", "validation_size": 0},
                                           training={"early_stopping": True}),
    "rrelu_lower_above_upper": spec(model={"activation": {"name": "rrelu", "lower": 0.5, "upper": 0.2}}),
    "piecewise_value_count": spec(schedule={"name": "piecewise", "boundaries": [10, 20], "values": [0.1, 0.01]}),
    "baseline_parameter_unknown": spec(baselines=[{"name": "svm", "params": {"nonsense": 1}}]),
    "baseline_label_twice": spec(baselines=["svm", "svm"]),
}
# validate reads a number in a string as the number for part parameters (Python callers); the schema
# asks for a number, as a YAML editor would write it
EDITOR_STRICTER = {"learning_rate_as_text": spec(optimizer={"name": "adam", "learning_rate": "1e-3"})}


@pytest.fixture(scope="module")
def schema_text() -> str:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def validator(schema_text):
    schema = json.loads(schema_text)
    jsonschema.Draft202012Validator.check_schema(schema)  # the metaschema it declares
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def validates(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")

    def run(value: dict) -> bool:
        path = folder / "spec.yaml"
        path.write_text(yaml.safe_dump(value, sort_keys=False))
        result = CliRunner().invoke(cli, ["validate", str(path)])
        assert result.exit_code in (0, 2) and "Traceback" not in result.output, result.output
        return result.exit_code == 0

    return run


def test_the_corpus_is_large_and_covers_every_section():
    corpus = {**VALID, **INVALID, **VALIDATE_ONLY}
    assert len(corpus) >= 50
    sections = {key for value in corpus.values() for key, v in value.items() if v not in (None, {"dataset": "iris"})}
    assert {"data", "model", "loss", "optimizer", "schedule", "training", "metrics", "name", "seed", "task",
            "sweep", "baselines"} <= sections


@pytest.mark.parametrize("value", VALID.values(), ids=VALID.keys())
def test_valid_specs_pass_both(validator, validates, value):
    assert validates(value)
    assert validator.is_valid(value), [e.message for e in validator.iter_errors(value)]


@pytest.mark.parametrize("value", INVALID.values(), ids=INVALID.keys())
def test_invalid_specs_fail_both(validator, validates, value):
    assert not validates(value)
    assert not validator.is_valid(value)


@pytest.mark.parametrize("value", VALIDATE_ONLY.values(), ids=VALIDATE_ONLY.keys())
def test_validate_only_rules(validator, validates, value):
    assert not validates(value) and validator.is_valid(value)


@pytest.mark.parametrize("value", EDITOR_STRICTER.values(), ids=EDITOR_STRICTER.keys())
def test_the_editor_is_stricter_only_here(validator, validates, value):
    assert validates(value) and not validator.is_valid(value)


def test_the_schema_lists_what_only_validate_checks(validator):
    description = validator.schema["description"]
    assert all(rule in description for rule in VALIDATE_ONLY_RULES)
    assert "test_size + validation_size < 1" in description


def test_the_schema_is_deterministic(schema_text):
    again = CliRunner().invoke(cli, ["schema"]).output
    fresh = subprocess.run([sys.executable, "-m", "mlrun", "schema"], check=True, capture_output=True,
                           text=True, env={"PYTHONHASHSEED": "123", "PATH": ""}, cwd=Path(__file__).parents[1]).stdout
    assert schema_text == again == fresh


# -- the ranges table against the parts' constructors --------------------------------------------------
PROBES = (-1e9, -1.5, -1, -0.5, 0, 1e-9, 0.25, 0.5, 0.75, 0.999, 1, 1.5, 2, 3, 1e9)
NEEDS = {"units": 4, "boundaries": [10], "values": [0.1, 0.01]}  # values for parameters without default
CROSS = {("activation", "rrelu", "lower"), ("activation", "rrelu", "upper"),
         ("schedule", "lr_range", "start"), ("schedule", "lr_range", "end"),
         ("schedule", "one_cycle", "base_momentum"), ("schedule", "one_cycle", "max_momentum"),
         ("schedule", "piecewise", "boundaries"), ("schedule", "piecewise", "values")}


def _numeric_parameters():
    for kind in registry.KINDS:
        for name in registry.names(kind):
            for param, info in registry.parameters(kind, name).items():
                members = set(getattr(info.annotation, "__args__", (info.annotation,)))
                if members & {int, float} and bool not in members:
                    yield kind, name, param, int in members and float not in members


@pytest.mark.parametrize("kind,name,param,integer", list(_numeric_parameters()),
                         ids=lambda v: v if isinstance(v, str) else None)
def test_the_ranges_table_agrees_with_the_constructor(kind, name, param, integer):
    required = {p: NEEDS[p] for p, info in registry.parameters(kind, name).items()
                if info.default is inspect.Parameter.empty and p != param}
    for value in PROBES:
        if integer and value != int(value):
            continue
        value = int(value) if integer else float(value)
        table_ok = ranges.problem(kind, name, param, value) is None
        try:
            registry.build(kind, {"name": name, **required, param: value})
            built = True
        except registry.RegistryError:
            built = False
        if (kind, name, param) in CROSS:  # a rule with another parameter may refuse more
            assert table_ok or not built, (value, "the table refuses what the constructor accepts")
        else:
            assert table_ok == built, (value, table_ok, built)
