"""The spec loader: defaults, YAML floats, overrides, round trips, flatten, and one-line errors."""

from __future__ import annotations

import json
import pickle

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from mlrun.cli.app import cli
from mlrun.spec.errors import ConfigError
from mlrun.spec.loading import Config, flatten, load_config
from mlrun.spec.schema import json_schema
from mlrun.spec.yaml_text import dump_yaml, parse_yaml

DEFAULTS = {
    "name": "run",
    "seed": 0,
    "data": {"dataset": "digits", "params": {}, "path": None, "target": None, "test_size": 0.2,
             "validation_size": 0.1, "stratify": True, "scale": "standard", "split_seed": None,
             "positive_class": None},
    "task": "auto",
    "model": {"hidden_layers": 2, "neurons": 64, "activation": {"name": "elu", "alpha": 1.0},
              "initializer": "auto", "batch_norm": False, "dropout": 0.0, "layers": None, "mtp": None, "bitwise": None},
    "loss": "auto",
    "optimizer": {"name": "nadam", "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
                  "clip_value": None, "clip_norm": None, "global_clip_norm": None},
    "schedule": {"name": "constant", "initial_learning_rate": None},
    "training": {"epochs": 50, "batch_size": 32, "tolerance": None, "early_stopping": None, "l2": 0.0,
                 "dtype": "float32", "threads": None, "diagnostics": {"every": "auto", "probe_rows": 512}},
    "metrics": "auto",
    "sweep": None,
}


def write(tmp_path, text, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# -- defaults and YAML -------------------------------------------------------------------------------
def test_defaults_are_filled_in():
    cfg = load_config({})
    assert cfg.to_dict() == DEFAULTS
    assert cfg.source is None and cfg.warnings == []
    assert cfg.model.activation == "elu" and cfg.training.epochs == 50 and cfg.optimizer["name"] == "nadam"


def test_a_numeric_name_is_a_name():
    assert load_config({"name": 2024}).name == "2024"


def test_name_defaults_to_the_sanitised_file_stem(tmp_path):
    cfg = load_config(write(tmp_path, "seed: 1\n", "my spec.v2.yaml"))
    assert cfg.name == "my-spec-v2" and cfg.source == tmp_path / "my spec.v2.yaml"


@pytest.mark.parametrize("kind, lr", [("sgd", 0.01), ("momentum", 0.01), ("adam", 0.001), ("nadam", 0.001)])
def test_learning_rate_default_comes_from_the_optimizer(kind, lr):
    cfg = load_config({"optimizer": kind})  # a bare name is accepted and becomes a mapping
    assert cfg.optimizer == {"name": kind, "learning_rate": lr}


def test_exponent_floats_from_file_and_override(tmp_path):
    path = write(tmp_path, "optimizer:\n  learning_rate: 1e-3\n  epsilon: 1E-9\ntraining:\n  l2: 5e+2\n")
    cfg = load_config(path, ["optimizer.beta_1=8.5e-1"])
    assert cfg.optimizer == {"name": "nadam", "learning_rate": 0.001, "epsilon": 1e-9, "beta_1": 0.85}
    assert type(cfg.optimizer["learning_rate"]) is float and cfg.training.l2 == 500.0
    assert parse_yaml("[1e3, 1, 1.5, e5, 1e, 0x1F]", "x") == [1000.0, 1, 1.5, "e5", "1e", 31]


@settings(deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_float_in_exponent_form_loads_as_that_float(x):
    assert parse_yaml(f"{x:e}", "x") == float(f"{x:e}")
    assert parse_yaml(repr(x), "x") == x


def test_duplicate_keys_and_python_tags_are_rejected(tmp_path):
    with pytest.raises(ConfigError, match=r"spec.yaml:3:1: duplicate key 'seed'"):
        load_config(write(tmp_path, "seed: 1\nname: a\nseed: 2\n"))


# -- overrides ---------------------------------------------------------------------------------------
def test_mapping_override_replaces_the_whole_key():
    spec = {"schedule": {"name": "exponential", "decay_steps": 100}}
    assert load_config(spec, ["schedule={name: constant}"]).schedule == {"name": "constant"}
    changed = load_config(spec, ["schedule.decay_steps=50"])
    assert changed.schedule == {"name": "exponential", "decay_steps": 50}


def test_sub_key_of_a_bare_part_name_makes_a_mapping():
    cfg = load_config({}, ["model.activation=leaky_relu", "model.activation.alpha=0.3", "loss=huber",
                           "loss.delta=2"])
    assert cfg.model.activation == {"name": "leaky_relu", "alpha": 0.3}
    assert cfg.loss == {"name": "huber", "delta": 2.0}  # int coerced to the parameter's float


def test_overrides_reach_list_items_and_null():
    cfg = load_config({"training": {"early_stopping": {"patience": 3}}},
                      ["model.neurons=[8, 4]", "model.neurons.1=2", "training.early_stopping=", "seed=7"])
    assert cfg.model.neurons == [8, 2] and cfg.model.hidden_layers == 2
    assert cfg.training.early_stopping is None and cfg.seed == 7


def test_overrides_do_not_touch_the_callers_dict():
    spec = {"model": {"activation": "leaky_relu"}}
    cfg = load_config(spec, ["model.activation.alpha=1"])
    assert cfg.model.activation == {"name": "leaky_relu", "alpha": 1.0}
    assert spec == {"model": {"activation": "leaky_relu"}}


# -- resolution rules --------------------------------------------------------------------------------
def test_neurons_list_sets_hidden_layers_and_long_form_clears_the_short_form():
    assert load_config({"model": {"neurons": [32, 16, 8]}}).model.hidden_layers == 3
    cfg = load_config({"model": {"layers": ["batch_norm", {"name": "dense", "units": 5, "activation":
                                                           {"name": "leaky_relu", "alpha": 1}}]}})
    model = cfg.to_dict()["model"]
    assert model["hidden_layers"] is None and model["neurons"] is None
    assert model["layers"] == [{"name": "batch_norm", "momentum": 0.99, "epsilon": 0.001},
                               {"name": "dense", "units": 5, "activation": {"name": "leaky_relu", "alpha": 1.0},
                                "initializer": "auto", "use_bias": True}]
    assert load_config({"model": {"layers": []}}).model.hidden_layers == 0


def test_early_stopping_true_means_the_defaults():
    stop = load_config({"training": {"early_stopping": True}}).to_dict()["training"]["early_stopping"]
    assert stop == {"patience": 10, "min_delta": 0.0, "monitor": "val_loss", "restore_best": True}


def test_relative_csv_path_is_resolved_against_the_spec_folder(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "t.csv").write_text("a,y\n1,0\n2,1\n")
    spec = write(tmp_path, "data:\n  dataset: csv\n  path: data/t.csv\n  target: y\n")
    cfg = load_config(spec)
    assert cfg.data.path == str((tmp_path / "data" / "t.csv").resolve())
    assert load_config(cfg.to_dict()) == cfg


def test_short_form_keys_beside_layers_are_a_warning():
    layers = [{"name": "dense", "units": 4}]
    assert load_config({"model": {"layers": layers, "activation": "elu", "dropout": 0.0}}).warnings == []
    cfg = load_config({"model": {"layers": layers, "activation": "relu", "batch_norm": True}})
    assert cfg.warnings == ["model.layers is given: model.activation, model.batch_norm (short form) are ignored"]


def test_selu_misuse_is_a_warning_not_an_error():
    cfg = load_config({"model": {"activation": "selu", "batch_norm": True}, "data": {"scale": "minmax"}})
    assert len(cfg.warnings) == 2
    assert "standardised" in cfg.warnings[0] and "batch" in cfg.warnings[1]
    assert load_config({"model": {"activation": "selu"}}).warnings == []


# -- round trips -------------------------------------------------------------------------------------
SAMPLE = {
    "name": "digits-leaky",
    "seed": 3,
    "data": {"dataset": "make_moons", "params": {"n_samples": 300, "noise": 0.2}, "validation_size": 0.15},
    "task": "classification",
    "model": {"neurons": [32, 16], "activation": {"name": "leaky_relu", "alpha": 0.1}, "dropout": 0.1},
    "optimizer": {"name": "adam", "learning_rate": 0.01, "clip_norm": 1.0},
    "schedule": {"name": "exponential", "decay_steps": 100},
    "training": {"epochs": 5, "batch_size": "full", "early_stopping": {"patience": 2}},
    "metrics": ["accuracy", "f1"],
}


def test_round_trip_through_dict_yaml_pickle_and_replace(tmp_path):
    cfg = load_config(SAMPLE)
    assert load_config(cfg.to_dict()) == cfg
    assert load_config(write(tmp_path, dump_yaml(cfg.to_dict()))) == cfg
    assert pickle.loads(pickle.dumps(cfg)) == cfg
    assert json.loads(json.dumps(cfg.to_dict())) == cfg.to_dict()
    changed = cfg.replace(["training.epochs=9"])
    assert changed.training.epochs == 9 and changed != cfg
    assert load_config(cfg, ["training.epochs=9"]) == changed


def test_flatten_gives_dotted_keys_with_part_defaults():
    flat = flatten(load_config(SAMPLE).to_dict())
    assert flat == {
        "name": "digits-leaky", "seed": 3,
        "data.dataset": "make_moons", "data.params.n_samples": 300, "data.params.noise": 0.2,
        "data.path": None, "data.target": None, "data.test_size": 0.2, "data.validation_size": 0.15,
        "data.stratify": True, "data.scale": "standard", "data.split_seed": None, "data.positive_class": None,
        "task": "classification",
        "model.hidden_layers": 2, "model.neurons": [32, 16],
        "model.activation": "leaky_relu", "model.activation.alpha": 0.1,
        "model.initializer": "auto", "model.batch_norm": False, "model.dropout": 0.1, "model.layers": None,
        "model.mtp": None,
        "model.bitwise": None,
        "loss": "auto",
        "optimizer": "adam", "optimizer.learning_rate": 0.01, "optimizer.beta_1": 0.9,
        "optimizer.beta_2": 0.999, "optimizer.epsilon": 1e-7, "optimizer.clip_value": None,
        "optimizer.clip_norm": 1.0, "optimizer.global_clip_norm": None,
        "schedule": "exponential", "schedule.initial_learning_rate": None, "schedule.decay_steps": 100,
        "training.epochs": 5, "training.batch_size": "full", "training.tolerance": None,
        "training.early_stopping.patience": 2, "training.early_stopping.min_delta": 0.0,
        "training.early_stopping.monitor": "val_loss", "training.early_stopping.restore_best": True,
        "training.l2": 0.0, "training.dtype": "float32", "training.threads": None,
        "training.diagnostics.every": "auto", "training.diagnostics.probe_rows": 512,
        "metrics": ["accuracy", "f1"], "sweep": None,
    }
    flat = flatten({"model": {"activation": "elu"}})
    assert flat == {"model.activation": "elu", "model.activation.alpha": 1.0}


def test_json_schema_lists_registry_names():
    schema = json_schema()
    json.dumps(schema)
    model = schema["$defs"]["ModelSpec"]["properties"]
    assert "leaky_relu" in model["activation"]["anyOf"][0]["enum"]
    assert "auto" in model["initializer"]["anyOf"][0]["enum"]
    assert "nadam" in schema["properties"]["optimizer"]["anyOf"][0]["enum"]
    assert schema["$defs"]["DataSpec"]["properties"]["dataset"]["enum"][-1] == "csv"
    assert schema["$defs"]["TrainingSpec"]["additionalProperties"] is False


# -- bad inputs: one line, key path, a hint ----------------------------------------------------------
BAD = [  # id, spec (dict, or YAML text), overrides, substrings the message must contain
    ("unknown-top-key", {"foo": 1}, [], ["unknown key 'foo'", "valid keys: name, seed"]),
    ("misplaced-key", {"epochs": 3}, [], ["unknown key 'epochs' (did you mean 'training.epochs'?)"]),
    ("positive-class-list", {"data": {"positive_class": [1]}}, [],
     ["data.positive_class must be a string, a number, true or false or null; got [1]"]),
    ("unknown-nested-key", {"model": {"activaton": "relu"}}, [],
     ["unknown key 'model.activaton'", "did you mean 'activation'?"]),
    ("unknown-activation", {"model": {"activation": "rleu"}}, [],
     ["model.activation: unknown activation 'rleu'", "did you mean 'relu'?", "valid names: sigmoid, tanh"]),
    ("unknown-optimizer-param", {"optimizer": {"name": "adam", "momentum": 0.9}}, [],
     ["optimizer: optimizer 'adam' has no parameter 'momentum'", "it takes: learning_rate, beta_1, beta_2"]),
    ("wrong-type", {"training": {"epochs": "ten"}}, [],
     ["training.epochs must be an integer >= 1; got 'ten'"]),
    ("bool-for-int", {"training": {"epochs": True}}, [],
     ["training.epochs must be an integer >= 1; got true"]),
    ("out-of-range", {"model": {"dropout": 1.0}}, [], ["model.dropout must be a number in [0, 1); got 1.0"]),
    ("yaml-syntax", "name: a\nmodel:\n  neurons: 3\n   activation: relu\n", [],
     ["spec.yaml:4:14: mapping values are not allowed"]),
    ("yaml-tab", "name: a\nmodel:\n\tneurons: 3\n", [], ["spec.yaml:3:1:", "spaces, not tabs"]),
    ("duplicate-key", "seed: 1\nseed: 2\n", [], ["spec.yaml:2:1: duplicate key 'seed'"]),
    ("top-level-list", "- 1\n- 2\n", [], ["spec.yaml: a spec is a mapping of sections", "got a list"]),
    ("empty-file", "", [], ["spec.yaml: a spec is a mapping", "got an empty file"]),
    ("missing-file", None, [], ["spec file not found:", "nowhere.yaml"]),
    ("bad-name", {"name": "my run!"}, [], ["name: only letters, digits, '-' and '_'", "try 'my-run'"]),
    ("csv-without-target", {"data": {"dataset": "csv", "path": "x.csv"}}, [],
     ["data.target: dataset csv needs data.target"]),
    ("csv-missing-file", {"data": {"dataset": "csv", "path": "x.csv", "target": "y"}}, [],
     ["data.path: CSV file not found:", "x.csv"]),
    ("negative-learning-rate", {"optimizer": {"name": "sgd", "learning_rate": -0.1}}, [],
     ["optimizer: optimizer 'sgd': learning_rate must be > 0; got -0.1"]),
    ("two-clip-options", {"optimizer": {"clip_value": 1.0, "global_clip_norm": 1.0}}, [],
     ["optimizer:", "at most one of clip_value, clip_norm, global_clip_norm"]),
    ("neurons-length-mismatch", {"model": {"hidden_layers": 2, "neurons": [64, 32, 16]}}, [],
     ["model.hidden_layers: is 2 but neurons lists 3 widths", "set hidden_layers: 3 or omit it"]),
    ("neurons-zero", {"model": {"neurons": [64, 0]}}, [], ["model.neurons must be", "got [64, 0]"]),
    ("layers-and-short-form", {"model": {"neurons": 8, "layers": [{"name": "dense", "units": 4}]}}, [],
     ["model.neurons: use either layers", "not both"]),
    ("layer-missing-param", {"model": {"layers": [{"name": "dense"}]}}, [],
     ["model.layers.0: layer 'dense' needs units"]),
    ("nested-layer-activation", {"model": {"layers": ["batch_norm", {"name": "dense", "units": 4,
                                                                     "activation": "rleu"}]}}, [],
     ["model.layers.1.activation: unknown activation 'rleu'", "did you mean 'relu'?"]),
    ("early-stopping-without-validation", {"data": {"validation_size": 0},
                                           "training": {"early_stopping": {"monitor": "val_loss"}}}, [],
     ["training.early_stopping.monitor: early stopping monitors 'val_loss' but data.validation_size is 0",
      "monitor one of: loss, train_loss"]),
    ("plateau-without-validation", {"data": {"validation_size": 0}}, ["schedule=plateau"],
     ["schedule.monitor: plateau watches 'val_loss' but data.validation_size is 0"]),
    ("unknown-dataset", {"data": {"dataset": "mnist"}}, [],
     ["data.dataset: unknown dataset 'mnist'", "offline", "no network", "iris, digits"]),
    ("network-dataset", {"data": {"dataset": "fetch_openml"}}, [], ["data.dataset:", "no network downloads"]),
    ("dataset-param", {"data": {"dataset": "make_moons", "params": {"n_sample": 100}}}, [],
     ["data.params.n_sample:", "did you mean 'n_samples'?"]),
    # what the spec checks, the data loader no longer checks again
    ("loader-param", {"data": {"dataset": "iris", "params": {"return_X_y": True}}}, [],
     ["data.params.return_X_y: iris has no parameter 'return_X_y'"]),
    ("misspelt-dataset", {"data": {"dataset": "irs"}}, [],
     ["data.dataset: unknown dataset 'irs' (did you mean 'iris'?)"]),
    ("misspelt-data-key", {"data": {"test_sze": 0.3}}, [],
     ["unknown key 'data.test_sze' (did you mean 'test_size'?); valid keys under data: dataset, params"]),
    ("unknown-scaler", {"data": {"scale": "robust"}}, [],
     ["data.scale must be one of standard, minmax, none; got 'robust'"]),
    ("unknown-task", {"task": "clustering"}, [],
     ["task must be one of auto, classification, regression; got 'clustering'"]),
    ("csv-without-path", {"data": {"dataset": "csv", "target": "y"}}, [],
     ["data.path: dataset csv needs data.path"]),
    ("batch-size-half", {"training": {"batch_size": "half"}}, [],
     ["training.batch_size must be an integer >= 1 or 'full'; got 'half'"]),
    ("dtype-float16", {"training": {"dtype": "float16"}}, [],
     ["training.dtype must be one of float32, float64; got 'float16'"]),
    ("unknown-metric", {"metrics": ["accuracy", "acuracy"]}, [],
     ["metrics.1: unknown metric 'acuracy'", "did you mean 'accuracy'?"]),
    ("metric-for-other-task", {"task": "regression", "metrics": ["accuracy"]}, [],
     ["metrics: accuracy do not apply to task regression", "mse"]),
    ("test-size-1.5", {"data": {"test_size": 1.5}}, [],
     ["data.test_size must be a number in (0, 1); got 1.5"]),
    ("sizes-leave-nothing", {"data": {"test_size": 0.6, "validation_size": 0.4}}, [],
     ["data.validation_size: test_size + validation_size must be < 1"]),
    ("unknown-monitor", {"training": {"early_stopping": {"monitor": "val_acc"}}}, [],
     ["training.early_stopping.monitor: unknown monitor 'val_acc'", "did you mean 'val_accuracy'?"]),
    ("schedule-range", {"schedule": {"name": "one_cycle", "pct_start": 0.9}}, [],
     ["schedule: schedule 'one_cycle': pct_start must be in (0, 0.5]"]),
    ("part-param-type", {"model": {"activation": {"name": "leaky_relu", "alpha": "big"}}}, [],
     ["model.activation: activation 'leaky_relu': 'alpha' must be float; got 'big'"]),
    ("override-without-equals", {}, ["optimizer.learning_rate"],
     ["--set 'optimizer.learning_rate'", "KEY=VALUE"]),
    ("override-into-scalar", {"seed": 0}, ["seed.x=1"], ["--set seed.<key>: seed is 0, not a mapping"]),
    ("override-bad-value", {}, ["model.neurons=[1, 2"],
     ["--set model.neurons=[1, 2 (a YAML value): ", "did not find expected"]),
]
IDS = [case[0] for case in BAD]


def _source(tmp_path, spec):
    if spec is None:
        return tmp_path / "nowhere.yaml"
    return write(tmp_path, spec if isinstance(spec, str) else yaml.safe_dump(spec))


@pytest.mark.parametrize("case, spec, overrides, expected", BAD, ids=IDS)
def test_bad_input_is_a_one_line_config_error(tmp_path, case, spec, overrides, expected):
    with pytest.raises(ConfigError) as info:
        load_config(_source(tmp_path, spec), overrides)
    message = str(info.value)
    assert "\n" not in message
    for text in expected:
        assert text in message, (text, message)


@pytest.mark.parametrize("case, spec, overrides, expected", BAD, ids=IDS)
def test_cli_validate_exits_2_without_traceback(tmp_path, case, spec, overrides, expected):
    args = ["validate", str(_source(tmp_path, spec))] + [f"--set={o}" for o in overrides]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception,
                                                                                       SystemExit)
    assert result.output.startswith("error: ") and len(result.output.strip().splitlines()) == 1
    assert expected[0] in result.output


def test_python_tag_never_executes(tmp_path):
    marker = tmp_path / "HACKED"
    spec = write(tmp_path, f'name: !!python/object/apply:os.system ["touch {marker}"]\n')
    with pytest.raises(ConfigError, match=r"spec.yaml:1:7: could not determine a constructor .*not allowed"):
        load_config(spec)
    result = CliRunner().invoke(cli, ["validate", str(spec)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    marker_text = f'!!python/object/apply:os.system ["touch {marker}"]'
    with pytest.raises(ConfigError):
        load_config({}, [f"name={marker_text}"])
    assert not marker.exists()


# -- CLI ---------------------------------------------------------------------------------------------
def test_cli_validate_ok_show_and_warnings(tmp_path):
    good = write(tmp_path, "model:\n  activation: selu\ndata:\n  scale: minmax\n", "good.yaml")
    result = CliRunner().invoke(cli, ["validate", str(good), "--set", "training.epochs=3", "--show"])
    assert result.exit_code == 0, result.output
    assert f"ok: {good}" in result.output and "warning:" in result.output
    assert "warning:" not in result.stdout  # warnings go to stderr, the YAML to stdout
    shown = result.stdout.split(f"ok: {good}\n", 1)[1]
    assert load_config(yaml.safe_load(shown)) == load_config(good, ["training.epochs=3"])


def test_cli_validate_many_specs_reports_each_and_fails_at_the_end(tmp_path):
    good = write(tmp_path, "seed: 1\n", "good.yaml")
    bad = write(tmp_path, "seed: -1\n", "bad.yaml")
    result = CliRunner().invoke(cli, ["validate", str(good), str(bad)])
    assert result.exit_code == 2
    assert f"ok: {good}" in result.output and f"{bad}: seed must be an integer >= 0; got -1" in result.output
    assert "1 of 2 specs are invalid" in result.output


def test_cli_validate_data_loads_and_summarises_the_data_or_fails_on_a_bad_csv(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a,b,kind\n" + "".join(f"{i},{i % 3},{'xy'[i % 2]}\n" for i in range(40)))
    spec = write(tmp_path, f"data:\n  dataset: csv\n  path: {table}\n  target: kind\n  test_size: 0.25\n"
                           "  validation_size: 0.1\n", "csv.yaml")
    result = CliRunner().invoke(cli, ["validate", "--data", str(spec)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"ok: {spec} (data: 26 train / 4 validation / 10 test rows, 2 features, "
                                    "2 classes (x, y))")
    table.write_text("a,b,kind\n1,2,x\n3,oops,y\n")
    assert CliRunner().invoke(cli, ["validate", str(spec)]).exit_code == 0  # the spec alone is fine
    result = CliRunner().invoke(cli, ["validate", "--data", str(spec)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip() == f"error: {spec}: {table}: column 'b' is not numeric (e.g. 'oops' on line 3)"


def test_dataset_summary_for_regression():
    from mlrun.data.sources import load_dataset

    dataset = load_dataset({"dataset": "make_regression", "params": {"n_samples": 100, "n_targets": 2}},
                           task="regression")
    assert dataset.summary().endswith("rows, 100 features, 2 regression targets")


def test_cli_schema_and_registry():
    runner = CliRunner()
    result = runner.invoke(cli, ["schema"])
    assert result.exit_code == 0 and json.loads(result.output)["title"] == "mlrun spec"
    result = runner.invoke(cli, ["registry", "optimizer"])
    assert result.exit_code == 0 and "nadam" in result.output and "learning_rate" in result.output
    result = runner.invoke(cli, ["registry"])
    assert result.exit_code == 0 and all(k in result.output for k in ("activation", "schedule", "one_cycle"))
    result = runner.invoke(cli, ["registry", "optimizers"])
    assert result.exit_code == 2 and "valid kinds" in result.output and "Traceback" not in result.output


def test_config_passes_through_load_config():
    cfg = load_config(SAMPLE)
    assert isinstance(cfg, Config) and load_config(cfg) == cfg and cfg.replace() == cfg
