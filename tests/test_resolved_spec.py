"""config.yaml and `validate --show` list every part's parameters with their defaults, `auto` kept as
written, and run.json's ``resolved`` says what each auto became: a run replays from its config.yaml
even when a later version changes a default (issue 12, item 2)."""

from __future__ import annotations

import inspect
import json

import pytest
import yaml
from click.testing import CliRunner

import mlrun
from mlrun import registry
from mlrun.cli.app import cli
from mlrun.spec.loading import load_config
from mlrun.spec.part_schema import nested_kind
from mlrun.spec.yaml_text import dump_yaml

REQUIRED = {("schedule", "piecewise"): {"boundaries": [5], "values": [0.1, 0.01]}, ("layer", "dense"): {"units": 4},
            ("layer", "bitwise_dense"): {"units": 4}}


def _placed(kind: str, spec):
    """A spec with the part in its place, and the path to read it back from the resolved spec."""
    where = {"optimizer": (["optimizer"], {"optimizer": spec}), "schedule": (["schedule"], {"schedule": spec}),
             "loss": (["loss"], {"loss": spec}),
             "activation": (["model", "activation"], {"model": {"activation": spec}}),
             "initializer": (["model", "initializer"], {"model": {"initializer": spec}}),
             "layer": (["model", "layers", 0], {"model": {"layers": [spec]}})}
    return where[kind]


def _expected(kind: str, name: str, given: dict):
    empty = inspect.Parameter.empty
    full = {p: given.get(p, info.default) for p, info in registry.parameters(kind, name).items()
            if p in given or info.default is not empty}
    full = {p: list(v) if isinstance(v, tuple) else v for p, v in full.items()}
    for p, v in full.items():  # a nested part named by default (bitwise_dense's initializer) is filled too
        if nested_kind(p) and isinstance(v, str) and v != "auto":
            full[p] = _expected(nested_kind(p), v, {})
    return {"name": name, **full} if full else name


PARTS = [(kind, name) for kind in registry.KINDS for name in registry.names(kind)]


@pytest.mark.parametrize("kind, name", PARTS, ids=[f"{k}-{n}" for k, n in PARTS])
def test_the_resolved_spec_lists_every_parameter_of_every_part_with_its_default(kind, name):
    given = REQUIRED.get((kind, name), {})
    path, spec = _placed(kind, {"name": name, **given} if given else name)
    written = yaml.safe_load(dump_yaml(load_config(spec).to_dict()))  # config.yaml's text, read back
    for key in path:
        written = written[key]
    assert written == _expected(kind, name, given)
    again = load_config(_placed(kind, written)[1]).to_dict()
    assert again == load_config(spec).to_dict()  # stable: resolving the resolved spec changes nothing


def test_nested_parts_of_a_layer_are_filled_and_auto_is_kept():
    cfg = load_config({"model": {"layers": [{"name": "dense", "units": 3, "activation": "leaky_relu"},
                                            {"name": "activation", "activation": "elu"}]}})
    layers = cfg.to_dict()["model"]["layers"]
    assert layers == [{"name": "dense", "units": 3, "activation": {"name": "leaky_relu", "alpha": 0.2},
                       "initializer": "auto", "use_bias": True},
                      {"name": "activation", "activation": {"name": "elu", "alpha": 1.0}}]
    assert load_config({"schedule": {"name": "one_cycle", "max_lr": "auto"}}).to_dict()["schedule"]["max_lr"] == "auto"


def test_replace_applies_overrides_to_the_parts_as_given():
    """optimizer.name=sgd on a nadam spec: sgd, not sgd with nadam's betas."""
    cfg = load_config({"optimizer": "nadam"}).replace(["optimizer.name=sgd"])
    assert cfg.to_dict()["optimizer"] == _expected("optimizer", "sgd", {"learning_rate": 0.001})


SPEC = {"name": "replay", "data": {"dataset": "make_moons", "params": {"n_samples": 200, "noise": 0.2}},
        "model": {"hidden_layers": 1, "neurons": 8, "activation": "elu"},
        "optimizer": "nadam", "schedule": "one_cycle", "training": {"epochs": 3, "diagnostics": False}}
PATCHED = [("optimizer", "nadam", "beta_1", 0.5), ("activation", "elu", "alpha", 0.3),
           ("schedule", "one_cycle", "pct_start", 0.2)]


def _patch_default(monkeypatch, kind, name, param, value):
    """As if a later version changed the default of ``param`` (in the class that declares it)."""
    for klass in registry.get_class(kind, name).__mro__:
        init = vars(klass).get("__init__")
        if init is not None and param in inspect.signature(init).parameters:
            names = [p for p in inspect.signature(init).parameters.values()
                     if p.default is not inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
            defaults = [value if p.name == param else p.default for p in names]
            monkeypatch.setattr(init, "__defaults__", tuple(defaults))
            assert registry.parameters(kind, name)[param].default == value
            return
    raise AssertionError(f"{kind} {name} has no parameter {param}")


def test_a_run_replays_from_its_config_yaml_when_defaults_change(tmp_path, monkeypatch):
    first = mlrun.train(SPEC, runs_dir=tmp_path / "a", smoke=True)  # smoke: no figures, same rules
    config = first.path / "config.yaml"
    for kind, name, param, value in PATCHED:
        _patch_default(monkeypatch, kind, name, param, value)
    replayed = mlrun.train(config, runs_dir=tmp_path / "b", smoke=True)
    assert replayed.metrics == first.metrics
    assert (replayed.path / "history.csv").read_text().split("\n")[1].split(",")[:6] == \
        (first.path / "history.csv").read_text().split("\n")[1].split(",")[:6]
    changed = mlrun.train(SPEC, runs_dir=tmp_path / "c", smoke=True)  # the spec as written follows the new defaults
    assert changed.metrics != first.metrics


def test_config_yaml_equals_validate_show_and_run_json_records_each_auto(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    run = mlrun.train(spec, runs_dir=tmp_path / "runs", smoke=True)
    written = (run.path / "config.yaml").read_text()
    shown = CliRunner().invoke(cli, ["validate", "--show", str(spec)])
    assert shown.exit_code == 0 and shown.stdout == f"ok: {spec}\n{written}"
    assert yaml.safe_load(written)["schedule"]["max_lr"] is None  # as written: derived at run time
    resolved = json.loads((run.path / "run.json").read_text())["resolved"]
    assert resolved["task"] == "classification" and resolved["loss"] == "cross_entropy"
    assert resolved["model.initializer"] == "he_normal"  # auto for elu
    assert resolved["schedule.max_lr"] == resolved["schedule.initial_learning_rate"] == 0.001
    assert resolved["schedule.total_steps"] == resolved["total_steps"]
    assert resolved["metrics"][0] == "accuracy"


def test_max_lr_auto_stays_auto_and_its_value_is_resolved():
    from mlrun.training.setup import build_setup, load_data

    cfg = load_config({**SPEC, "schedule": {"name": "one_cycle", "max_lr": "auto"}})
    assert yaml.safe_load(dump_yaml(cfg.to_dict()))["schedule"]["max_lr"] == "auto"
    setup = build_setup(cfg, load_data(cfg), resolved={"max_lr": 0.02})  # as the range test (or resume) gives
    assert setup.resolved["schedule.max_lr"] == 0.02 == setup.schedule.max_lr
