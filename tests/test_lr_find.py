"""lr-find: the ramp, the smoothing, each suggestion rule on curves with a known answer, early stop,
the run directory, the CLI, and 1cycle's ``max_lr: auto``."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import mlrun
from mlrun.cli.app import cli
from mlrun.experiment.outcome import resolve_max_lr
from mlrun.lr_finder.range_test import auto_max_lr, check_range, range_test
from mlrun.lr_finder.suggestions import (
    EMA,
    longest_valley,
    ramp,
    smooth,
    suggest_minimum,
    suggest_steepest,
    suggest_valley,
    suggestions,
    window,
)
from mlrun.spec.errors import ConfigError
from mlrun.spec.loading import load_config
from mlrun.training import setup as experiment

SPEC = {"name": "lrf", "seed": 3, "data": {"dataset": "digits"},
        "model": {"hidden_layers": 1, "neurons": 16, "activation": "relu"},
        "optimizer": {"name": "sgd", "learning_rate": 0.01}, "training": {"batch_size": 64}}


@pytest.fixture(scope="module")
def cfg():
    return load_config(SPEC)


@pytest.fixture(scope="module")
def dataset(cfg):
    return experiment.load_data(cfg)


# -- the ramp and the smoothing -----------------------------------------------------------------
def test_ramp_is_the_notes_geometric_progression():
    lrs = ramp(1e-5, 10.0, 500)
    t = np.arange(500)
    np.testing.assert_allclose(lrs, 1e-5 * (1e6) ** (t / 499), rtol=1e-12)
    assert lrs[0] == pytest.approx(1e-5) and lrs[-1] == pytest.approx(10.0)
    # the note: multiply by a constant factor each iteration, exp(log(10^6)/499) here (500 points)
    np.testing.assert_allclose(lrs[1:] / lrs[:-1], math.exp(math.log(1e6) / 499), rtol=1e-10)


def test_range_test_records_the_ramp_step_by_step(cfg, dataset):
    res = range_test(cfg, dataset, 1e-4, 1e-2, 40)
    assert res.stop_reason == "steps_done" and res.status == "completed" and len(res.lrs) == 40
    np.testing.assert_allclose(res.lrs, 1e-4 * 100.0 ** (np.arange(40) / 39), rtol=1e-12)
    np.testing.assert_allclose(res.smoothed, smooth(res.losses), rtol=1e-12)
    # 40 steps of batch 64 over 1258 rows: the ramp cycled into a second epoch
    assert res.epochs == 1


def test_smoothing_is_bias_corrected_ema():
    # hand-derived: a1 = 0.02, s1 = 1; a2 = 0.98*0.02 + 0.02*2 = 0.0596, s2 = 0.0596 / (1 - 0.98^2)
    np.testing.assert_allclose(smooth([1.0, 2.0]), [1.0, 0.0596 / 0.0396], rtol=1e-12)
    x = np.random.default_rng(0).normal(2.0, 0.5, 300)
    avg, hand = 0.0, []
    for t, v in enumerate(x, start=1):
        avg = 0.98 * avg + 0.02 * v
        hand.append(avg / (1 - 0.98 ** t))
    np.testing.assert_allclose(smooth(x), hand, rtol=1e-12)
    np.testing.assert_allclose(smooth(np.full(50, 3.5)), 3.5, rtol=1e-12)  # no start-up bias
    ema = EMA()
    assert [ema.update(1.0), ema.update(2.0)] == pytest.approx([1.0, 0.0596 / 0.0396])


# -- suggestion rules ---------------------------------------------------------------------------
LRS = ramp(1e-5, 10.0, 500)
U = np.log10(LRS)


def test_minimum_rule_is_a_tenth_of_the_argmin():
    y = (U + 2.0) ** 2  # minimum at index 250 (log10 lr = -2 at t = 249.5: the nearer grid point)
    k = int(np.argmin(y))
    assert suggest_minimum(LRS, y) == pytest.approx(LRS[k] / 10)
    assert LRS[k] == pytest.approx(1e-2, rel=0.02)


def test_steepest_rule_finds_the_inflection_on_a_log_axis():
    k = 200  # tanh drop centred on a grid point; a quadratic rise starts 1.5 decades later
    y = 2.0 - np.tanh((U - U[k]) / 0.4) + 4.0 * np.maximum(U - U[k] - 1.5, 0) ** 2
    assert suggest_steepest(LRS, y) == pytest.approx(LRS[k])


def test_steepest_rule_ignores_falls_after_the_minimum():
    y = 2.0 - np.tanh((U + 3.0) / 0.8) + 3.0 * np.maximum(U + 1.0, 0)  # minimum near 1e-1 ...
    floor = y[:400].min() + 0.5
    y[400:] = np.maximum(y[399] + 5.0 - 20.0 * (U[400:] - U[400]), floor)  # then a steeper cliff, above it
    assert np.argmin(y) < 400
    assert suggest_steepest(LRS, y) == pytest.approx(1e-3, rel=0.03)


def test_steepest_rule_on_a_curve_that_rises_from_its_first_points():
    """No fall anywhere: nothing is steeper than the lowest point, which is the window's first."""
    y = 1.0 + (U - U[0]) ** 2
    part = window(y, 500)
    assert part == slice(50, 495)
    got = suggestions(LRS, y, 500)
    assert got["steepest"] == LRS[50] and got["minimum"] == LRS[50] / 10
    assert all(np.isfinite(v) for v in got.values())
    assert suggest_steepest(LRS[:8], y[:8]) == LRS[0]  # a curve too short to trim: the whole of it
    assert suggest_steepest(LRS[:1], y[:1]) == LRS[0]


def test_steepest_rule_reads_nothing_past_the_minimum():
    """The window's first point is the minimum; a steep fall comes later, above it: steepest is that
    first point (the window before the minimum holds it alone)."""
    y = np.concatenate([np.linspace(3.0, 1.0, 51),     # the warm-up the window drops, down to 1.0 at 50
                        np.linspace(1.1, 5.0, 200),    # a rise ...
                        np.linspace(5.0, 2.0, 50),     # ... a steep fall that stays above 1.0 ...
                        np.linspace(2.0, 6.0, 199)])   # ... and the climb
    part = window(y, 500)
    assert part.start == 50 and int(np.argmin(y[part])) == 0
    assert suggestions(LRS, y, 500)["steepest"] == LRS[50]


def test_a_range_test_rising_from_its_first_step_still_suggests(cfg, dataset):
    """η from 10 up: the loss rises from the first step and explodes at the third; every rule answers
    (and so ``max_lr: auto``, which computes them all, does not crash)."""
    res = range_test(cfg, dataset, 10.0, 1e3, 40)
    assert res.stop_reason == "loss_exploded" and len(res.losses) == 3
    assert np.all(np.diff(res.smoothed) > 0)
    assert res.suggestions == {"minimum": 1.0, "steepest": 10.0, "valley": 10.0}
    assert auto_max_lr(cfg, dataset, 10.0, 1e3, 40)["max_lr"] == 10.0


def test_valley_rule_two_thirds_down_the_longest_valley():
    y = np.concatenate([np.linspace(1.0, 1.5, 100),        # rising plateau below the valley's top
                        np.linspace(3.0, 0.5, 300),        # the valley: indices 100..399
                        np.linspace(0.6, 4.0, 100)])       # the climb
    assert longest_valley(y) == (99, 399)  # fastai's start = end - length
    # sections = 300/3 = 100: idx = 99 + 100 + 50
    assert suggest_valley(LRS, y) == LRS[249]


def _fastai_valley_index(losses):
    """fastai's ``valley`` (fastai/callback/schedule.py), written out as a reference."""
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if (losses[i] < losses[j]) and (lds[i] < lds[j] + 1):
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    return max_start + int(sections) + int(sections / 2)


@settings(deadline=None, max_examples=60)
@given(st.lists(st.integers(0, 12), min_size=2, max_size=40))
def test_valley_matches_fastai_reference(values):
    y = np.array(values, dtype=np.float64)
    lrs = np.arange(1, len(y) + 1, dtype=np.float64)
    idx = min(max(_fastai_valley_index(list(y)), 0), len(y) - 1)
    assert suggest_valley(lrs, y) == lrs[idx]


@pytest.mark.parametrize("seed", range(4))
def test_noisy_curve_log_axis_slope_is_robust_where_a_linear_one_fails(seed):
    clean = 2.3 - np.tanh((U + 2.5) / 0.6) + 3.0 * np.maximum(U + 0.5, 0) ** 2  # inflection at 10^-2.5
    noisy = clean + np.random.default_rng(seed).normal(0.0, 0.15, U.size)
    expected = suggestions(LRS, smooth(clean), 500)["steepest"]  # the EMA lags: known from the clean curve
    s = smooth(noisy)
    got = suggestions(LRS, s, 500)["steepest"]
    assert abs(math.log10(got / expected)) < 0.1
    assert abs(math.log10(got) + 2.5) < 0.5  # the EMA's lag is under half a decade on this ramp
    part = window(s, 500)
    x, y = LRS[part], s[part]
    linear_pick = int(np.argmin(np.gradient(y, x)))  # d loss / d lr: Lightning's failure mode
    assert linear_pick < 5 and x[linear_pick] < 1e-4


def test_window_drops_warmup_tail_and_non_finite():
    s = np.linspace(3.0, 1.0, 200)
    assert window(s, 500) == slice(50, 195)
    s[120] = np.nan
    assert window(s, 500) == slice(50, 115)
    assert window(s[:30], 500) == slice(0, 30)  # too short for the trim: the whole finite part
    assert suggestions(LRS[:3], np.array([np.inf, 1.0, 1.0]), 500) == dict.fromkeys(
        ("minimum", "steepest", "valley"))


# -- stopping -----------------------------------------------------------------------------------
def test_stops_when_the_smoothed_loss_explodes(cfg, dataset):
    res = range_test(cfg, dataset, 1e-3, 1e4, 300)
    assert res.status == "completed" and res.stop_reason == "loss_exploded"
    assert 20 < len(res.losses) < 300 and not res.warnings
    best_before = np.minimum.accumulate(res.smoothed)
    assert res.smoothed[-1] > 4 * best_before[-2]  # the 4x rule fired at the last step, not before
    assert np.all(res.smoothed[:-1] <= 4 * best_before[:-1])
    assert res.suggestions["minimum"] < res.lrs[-1] / 10


def test_trainer_divergence_is_an_explosion_with_a_warning(cfg, dataset):
    res = range_test(cfg, dataset, 1e5, 1e8, 300)  # the second batch's loss is > 1e4 x the first
    assert res.status == "completed" and res.stop_reason == "loss_exploded" and len(res.losses) == 1
    assert "exploded after 1 of 300 steps" in res.warnings[0]


def test_bad_ranges_are_config_errors():
    for args, text in [((10.0, 1.0, 100), "below --end"), ((-1.0, 1.0, 100), "--start must be a positive"),
                       ((1e-5, 0.0, 100), "--end must be a positive"), ((1e-5, 1.0, 5), "--steps must be"),
                       ((1e-5, 1.0, 100, "lightning"), "--rule must be")]:
        with pytest.raises(ConfigError, match=text):
            check_range(*args)


# -- the run directory --------------------------------------------------------------------------
def test_lr_find_writes_a_run_directory(tmp_path, cfg):
    res = mlrun.lr_find(cfg, start=1e-4, end=1.0, steps=80, runs_dir=tmp_path, rule="valley")
    assert res.path.parent == tmp_path and res.path.name.startswith("lrf-lr-find-")
    assert res.suggestion == res.suggestions["valley"] and set(res.suggestions) == {"minimum", "steepest",
                                                                                     "valley"}
    rows = (res.path / "lr_find.csv").read_text().splitlines()
    assert rows[0] == "step,learning_rate,loss,smoothed_loss" and len(rows) == len(res.losses) + 1
    table = np.loadtxt(res.path / "lr_find.csv", delimiter=",", skiprows=1, ndmin=2)
    np.testing.assert_array_equal(table[:, 0], np.arange(len(res.losses)))
    np.testing.assert_allclose(table[:, 1:], np.column_stack([res.lrs, res.losses, res.smoothed]))
    assert (res.path / "plots" / "lr_find.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    info = json.loads((res.path / "run.json").read_text())
    assert info["kind"] == "lr_find" and info["status"] == "completed"
    assert info["stop_reason"] in ("steps_done", "loss_exploded") and info["stop_reason"] == res.stop_reason
    assert info["suggestions"] == pytest.approx(res.suggestions) and info["rule"] == "valley"
    assert info["params"]["optimizer"] == "sgd" and info["seed"] == 3
    assert yaml.safe_load((res.path / "config.yaml").read_text())["model"]["neurons"] == 16


# -- the CLI ------------------------------------------------------------------------------------
@pytest.fixture()
def spec_file(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(SPEC))
    return path


def test_cli_lr_find_prints_curve_suggestions_and_command(tmp_path, spec_file):
    out_spec = tmp_path / "tuned.yaml"
    result = CliRunner().invoke(cli, ["lr-find", str(spec_file), "--steps", "60", "--start", "1e-4",
                                                "--end", "1", "--runs-dir", str(tmp_path / "runs"),
                                                "--write-spec", str(out_spec)])
    assert result.exit_code == 0, result.output
    assert "--set optimizer.learning_rate=" in result.output and "steepest" in result.output
    assert "•" in result.output  # the text plot
    lr = float(result.output.split("--set optimizer.learning_rate=")[1].split()[0])
    info = json.loads(next((tmp_path / "runs").glob("*/run.json")).read_text())
    assert lr == pytest.approx(info["suggestions"]["minimum"], rel=5e-3)  # --rule default: minimum
    assert load_config(out_spec).optimizer["learning_rate"] == lr


def test_cli_suggests_max_lr_for_one_cycle(tmp_path, spec_file):
    result = CliRunner().invoke(cli, ["lr-find", str(spec_file), "--steps", "30", "--rule", "valley",
                                                "--set", "schedule={name: one_cycle, max_lr: auto}",
                                                "--runs-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "--set schedule.max_lr=" in result.output
    assert "--set 'schedule={name: one_cycle, max_lr: auto}'" in result.output  # the command is exact


@pytest.mark.parametrize("args, message", [
    (["--start", "10", "--end", "1"], "--start must be below --end"),
    (["--start", "0"], "--start must be a positive number"),
    (["--end", "-2"], "--end must be a positive number"),
    (["--steps", "5"], "--steps must be an integer >= 10"),
])
def test_cli_bad_input_exits_2_without_traceback(tmp_path, spec_file, args, message):
    result = CliRunner().invoke(cli, ["lr-find", str(spec_file), "--runs-dir", str(tmp_path), *args])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output and not list(tmp_path.glob("*-lr-find-*"))


# -- 1cycle with max_lr: auto -------------------------------------------------------------------
AUTO = {**SPEC, "schedule": {"name": "one_cycle", "max_lr": "auto"},
        "training": {"batch_size": 64, "epochs": 2}}


def test_auto_max_lr_leaves_the_training_streams_untouched(cfg, dataset):
    auto, constant = load_config(AUTO), load_config({**AUTO, "schedule": {"name": "constant"}})
    with_test = experiment.build_setup(auto, dataset, resolved=resolve_max_lr(auto, dataset, None))
    without = experiment.build_setup(constant, dataset)
    np.testing.assert_array_equal(with_test.network.params, without.network.params)
    shuffle = (s.trainer.shuffle_rng.bit_generator.state for s in (with_test, without))
    assert next(shuffle) == next(shuffle)
    valley = range_test(auto, dataset, rule="valley").suggestion
    assert with_test.resolved["max_lr"] == valley == with_test.schedule.max_lr
    assert with_test.resolved["lr_find"]["rule"] == "valley"


def test_an_unresolved_auto_max_lr_is_refused(dataset):
    with pytest.raises(ValueError, match="resolve it first"):
        experiment.build_setup(load_config(AUTO), dataset)


def test_resolved_max_lr_is_reused_never_recomputed(dataset, monkeypatch):
    import sys

    def fail(*args, **kwargs):
        raise AssertionError("the range test ran again")

    monkeypatch.setattr(sys.modules["mlrun.experiment.outcome"], "auto_max_lr", fail)
    auto = load_config(AUTO)
    setup = experiment.build_setup(auto, dataset, resolved=resolve_max_lr(auto, dataset, {"max_lr": 0.0123}))
    assert setup.schedule.max_lr == 0.0123 and setup.schedule(0) == pytest.approx(0.00123)


def test_auto_max_lr_training_run_keeps_curve_and_auto(tmp_path, dataset):
    run = mlrun.train(AUTO, runs_dir=tmp_path)
    info = json.loads((run.path / "run.json").read_text())
    expected = auto_max_lr(load_config(AUTO), dataset)
    assert info["resolved"]["max_lr"] == pytest.approx(expected["max_lr"])
    assert info["resolved"]["lr_find"]["suggestions"] == pytest.approx(expected["lr_find"]["suggestions"])
    assert "lr_find_curve" not in info["resolved"]
    assert yaml.safe_load((run.path / "config.yaml").read_text())["schedule"]["max_lr"] == "auto"
    assert (run.path / "lr_find.csv").exists() and (run.path / "plots" / "lr_find.png").exists()
    assert run.history[0]["learning_rate"] <= expected["max_lr"]
