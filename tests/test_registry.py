"""The registry: parameters read along the class hierarchy, values checked as before, new parts seen
everywhere (names, the JSON schema, ``mlrun registry``, the spec)."""

import inspect
import json
import subprocess
import sys
import types

import pytest
from click.testing import CliRunner

from mlrun import registry
from mlrun.nn.activations import Activation, LeakyReLU
from mlrun.registry import RegistryError, build, names, parameters, register
from mlrun.spec.loading import load_config
from mlrun.spec.schema import json_schema

REJECT = object()


class Probe(Activation):
    """A throwaway part with one parameter of each annotated type."""

    def __init__(self, f: float = 1.0, i: int = 1, b: bool = False, s: str = "x", maybe: float | None = None,
                 either: float | str | None = None, count: int | None = None, ints: list[int] | None = None,
                 floats: list[float] | None = None, spec: str | dict = "relu", table: dict | None = None,
                 free=None) -> None:
        super().__init__()


class Gained(LeakyReLU):
    """Leaky ReLU with a gain (a throwaway part: its own parameter, then the inherited alpha)."""

    def __init__(self, gain: float = 2.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.gain = gain


@pytest.fixture
def throwaway():
    """Register the throwaway parts under unique names; remove them afterwards."""
    added = {"probe_part_for_tests": Probe, "gained_relu_for_tests": Gained}
    for name, cls in added.items():
        register("activation", name)(cls)
    yield added
    for name in added:
        registry._REGISTRIES["activation"].pop(name)


VALUES = [
    ("f", 1, 1.0), ("f", 1.5, 1.5), ("f", "1e-3", 0.001), ("f", "abc", REJECT), ("f", True, REJECT),
    ("f", None, REJECT), ("f", [1], REJECT),
    ("i", 3, 3), ("i", 3.0, 3), ("i", 3.5, REJECT), ("i", True, REJECT), ("i", "3", REJECT),
    ("b", True, True), ("b", 1, REJECT), ("b", "true", REJECT),
    ("s", "a", "a"), ("s", 1, REJECT), ("s", None, REJECT),
    ("maybe", None, None), ("maybe", 2, 2.0), ("maybe", "x", REJECT),
    ("either", "auto", "auto"), ("either", "1e-3", 0.001), ("either", 1, 1.0), ("either", None, None),
    ("either", [1], REJECT),
    ("count", None, None), ("count", 2.0, 2), ("count", False, REJECT),
    ("ints", [1, 2], [1, 2]), ("ints", (1, 2), [1, 2]), ("ints", [1.0], [1]), ("ints", "12", REJECT),
    ("ints", {"a": 1}, REJECT), ("ints", 5, REJECT), ("ints", [True], REJECT), ("ints", [1.5], REJECT),
    ("floats", [1, "2"], [1.0, 2.0]), ("floats", [None], REJECT),
    ("spec", "relu", "relu"), ("spec", {"name": "relu"}, {"name": "relu"}), ("spec", 1, REJECT),
    ("spec", types.MappingProxyType({"name": "elu"}), {"name": "elu"}),
    ("table", {"a": 1}, {"a": 1}), ("table", types.MappingProxyType({"a": 1}), {"a": 1}),
    ("table", [("a", 1)], REJECT),
    ("free", object, object), ("free", "anything", "anything"),
]


@pytest.mark.parametrize(("key", "value", "expected"), VALUES)
def test_values_are_checked_and_coerced_by_annotation(throwaway, key, value, expected):
    spec = {"name": "probe_part_for_tests", key: value}
    if expected is REJECT:
        with pytest.raises(RegistryError, match=f"activation 'probe_part_for_tests': '{key}' must be .*; got"):
            registry.validate("activation", spec)
        return
    _, params = registry.validate("activation", spec)
    assert params[key] == expected and type(params[key]) is type(expected)
    if isinstance(expected, list):
        assert [type(v) for v in params[key]] == [type(v) for v in expected]


def test_the_error_names_the_type_and_echoes_the_value(throwaway):
    with pytest.raises(RegistryError) as err:
        registry.validate("activation", {"name": "probe_part_for_tests", "maybe": "x"})
    assert str(err.value) == "activation 'probe_part_for_tests': 'maybe' must be float | None; got 'x'"


# -- parameters along the class hierarchy --------------------------------------------------------------
def test_a_subclass_lists_its_own_parameters_then_the_inherited(throwaway):
    assert list(parameters("activation", "gained_relu_for_tests")) == ["gain", "alpha"]
    act = build("activation", {"name": "gained_relu_for_tests", "gain": 3, "alpha": 0.1})
    assert (act.gain, act.alpha) == (3.0, 0.1)
    assert act.config() == {"name": "gained_relu_for_tests", "gain": 3.0, "alpha": 0.1}


def test_the_walk_stops_at_an_init_without_kwargs():
    assert list(parameters("activation", "leaky_relu")) == ["alpha"]  # Activation/Layer take nothing
    assert list(parameters("optimizer", "nesterov")) == ["learning_rate", "momentum", "clip_value",
                                                         "clip_norm", "global_clip_norm"]


@pytest.mark.parametrize("name", names("optimizer"))
def test_the_clip_options_are_declared_once_in_the_base_optimizer(name):
    from mlrun.optim.base import Optimizer

    clip = ["clip_value", "clip_norm", "global_clip_norm"]
    cls = registry.get_class("optimizer", name)
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if klass is not Optimizer and init is not None:
            assert not set(clip) & set(inspect.signature(init).parameters), klass
    params = parameters("optimizer", name)
    assert list(params)[0] == "learning_rate" and list(params)[-3:] == clip
    assert all(params[c].default is None and params[c].annotation == (float | None) for c in clip)
    opt = build("optimizer", {"name": name, "clip_norm": 1})
    assert opt.clip_norm == 1.0 and opt.config()["clip_norm"] == 1.0
    with pytest.raises(RegistryError, match="at most one of clip_value, clip_norm, global_clip_norm"):
        build("optimizer", {"name": name, "clip_norm": 1.0, "clip_value": 1.0})


def test_the_clip_options_reach_the_schema_and_the_spec():
    variants = {v["properties"]["name"]["const"]: v["properties"]
                for v in json_schema()["properties"]["optimizer"]["anyOf"][1:]}
    assert set(variants) == set(names("optimizer"))
    for props in variants.values():
        assert props["global_clip_norm"] == {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "null"}],
                                             "default": None}
    cfg = load_config({"optimizer": {"name": "adam", "global_clip_norm": 5}})
    assert cfg.optimizer == {"name": "adam", "learning_rate": 0.001, "global_clip_norm": 5.0}


# -- a new part is seen everywhere -----------------------------------------------------------------------
def test_a_registered_part_is_seen_by_names_schema_cli_and_spec(throwaway):
    from mlrun.cli.app import cli

    assert "gained_relu_for_tests" in names("activation")
    schema = json_schema()["$defs"]["ModelSpec"]["properties"]["activation"]["anyOf"]
    assert "gained_relu_for_tests" in schema[0]["enum"]
    variant = next(v for v in schema[1:] if v["properties"]["name"]["const"] == "gained_relu_for_tests")
    assert variant["properties"]["gain"] == {"type": "number", "default": 2.0}
    assert variant["properties"]["alpha"] == {"type": "number", "default": 0.2}
    result = CliRunner().invoke(cli, ["registry", "activation"], terminal_width=200)
    assert result.exit_code == 0 and "gained_relu_for_tests" in result.output
    assert "gain=2.0, alpha=0.2" in result.output
    cfg = load_config({"model": {"activation": {"name": "gained_relu_for_tests", "gain": 3}}})
    assert cfg.model.activation == {"name": "gained_relu_for_tests", "gain": 3.0}
    with pytest.raises(Exception, match="has no parameter 'gian' \\(did you mean 'gain'\\?\\); it takes: gain, alpha"):
        load_config({"model": {"activation": {"name": "gained_relu_for_tests", "gian": 3}}})


def test_the_throwaway_parts_are_gone_afterwards():
    assert not {"probe_part_for_tests", "gained_relu_for_tests"} & set(names("activation"))


# -- building needs no pydantic ------------------------------------------------------------------------
def _fresh(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout


def test_build_sees_every_part_without_pydantic():
    out = _fresh("import json, sys; from mlrun.registry import KINDS, build, names; build('optimizer', 'adam'); "
                 "assert 'pydantic' not in sys.modules, 'pydantic imported'; "
                 "print(json.dumps({k: names(k) for k in KINDS}))")
    assert json.loads(out) == {k: names(k) for k in registry.KINDS}


def test_rebuilding_a_saved_network_needs_no_pydantic():
    _fresh("import sys; import numpy as np; from mlrun.nn.network import Network; "
           "specs = [{'name': 'dense', 'units': 4, 'activation': {'name': 'leaky_relu', 'alpha': 0.1}}, "
           "{'name': 'batch_norm'}, {'name': 'dropout', 'rate': 0.5}, {'name': 'dense', 'units': 2}]; "
           "net = Network.from_arrays(Network(specs, 3).to_arrays()); "
           "assert net.layers[0].config()['activation'] == {'name': 'leaky_relu', 'alpha': 0.1}; "
           "assert 'pydantic' not in sys.modules, 'pydantic imported'")


def test_schema_json_is_plain_json():
    json.dumps(json_schema())


def test_load_model_needs_no_pydantic(tmp_path):
    import mlrun

    cfg = load_config({"data": {"dataset": "iris"}, "training": {"epochs": 1},
                       "model": {"activation": {"name": "leaky_relu", "alpha": 0.1}, "batch_norm": True}})
    run = mlrun.train(cfg, runs_dir=tmp_path)
    out = _fresh(f"import sys, mlrun; model = mlrun.load_model({str(run.path)!r}); "
                 "print(len(model.predict([[5.1, 3.5, 1.4, 0.2]]))); "
                 "assert 'pydantic' not in sys.modules, 'pydantic imported'")
    assert out.strip() == "1"
