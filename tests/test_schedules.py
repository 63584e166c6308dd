"""Learning-rate schedules against docs/contract.md: hand formulas at chosen steps, build_schedule(), state."""

import json
import math

import numpy as np
import pytest
from golden import torch_reference

from mlrun.optim.schedules import build_schedule
from mlrun.registry import RegistryError, build, names


def _sched(spec, lr=0.1, total_steps=1000):
    return build_schedule(spec, lr, total_steps)[0]


def _derived(spec, lr, total_steps):
    return build_schedule(spec, lr, total_steps)[1]


def test_registered_schedules():
    assert names("schedule") == ["constant", "exponential", "power", "piecewise", "plateau", "one_cycle",
                                 "lr_range"]


@pytest.mark.parametrize("name", ["constant", "exponential", "power", "plateau", "one_cycle"])
def test_calling_an_incomplete_schedule_is_a_clear_error(name):
    s = build("schedule", name)
    with pytest.raises(RuntimeError, match=r"build_schedule\(spec, initial_learning_rate, total_steps\)"):
        s(0)


@pytest.mark.parametrize("name", names("schedule"))
def test_returns_python_floats(name):
    spec = {"name": name, "boundaries": [5], "values": [0.1, 0.01]} if name == "piecewise" else name
    s = _sched(spec)
    for t in (0, 1, 7, 999, 5000):
        assert type(s(t)) is float


def test_constant():
    s, derived = build_schedule("constant", 0.03, 10)
    assert derived == {"initial_learning_rate": 0.03}
    assert s(0) == s(10**6) == 0.03


def test_explicit_values_are_kept_and_derived_values_follow_the_run():
    spec = {"name": "exponential", "initial_learning_rate": 0.5}
    assert _derived(spec, 0.1, 200) == {"decay_steps": 200}
    s, derived = build_schedule(spec, 0.1, 400)
    assert derived == {"decay_steps": 400}  # from the run's total, η0 kept
    assert spec == {"name": "exponential", "initial_learning_rate": 0.5}  # the spec is not changed
    assert s(400) == pytest.approx(0.05, rel=1e-14)


def test_exponential():
    s, derived = build_schedule("exponential", 0.1, 100)
    assert derived == {"initial_learning_rate": 0.1, "decay_steps": 100}
    assert s(0) == 0.1
    assert s(50) == pytest.approx(0.1 * 0.1**0.5, rel=1e-14)
    assert s(100) == pytest.approx(0.01, rel=1e-14)
    s = _sched({"name": "exponential", "decay_steps": 10}, lr=2.0)
    assert s(30) == pytest.approx(2e-3, rel=1e-13)


def test_power():
    s, derived = build_schedule("power", 0.1, 1000)
    assert derived == {"initial_learning_rate": 0.1, "decay_steps": 100}
    assert s(100) == pytest.approx(0.05, rel=1e-14)
    assert s(300) == pytest.approx(0.025, rel=1e-14)
    s = _sched({"name": "power", "decay_steps": 10, "power": 2.0}, lr=0.9)
    assert s(20) == pytest.approx(0.9 / 9.0, rel=1e-14)
    assert _derived("power", 0.1, 5) == {"initial_learning_rate": 0.1, "decay_steps": 1}  # max(1, 5 // 10)


def test_piecewise():
    s = build("schedule", {"name": "piecewise", "boundaries": [10, 20], "values": [1.0, 0.5, 0.1]})
    got = [s(t) for t in (0, 9, 10, 11, 19, 20, 21, 10**6)]
    assert got == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.1, 0.1]  # Keras: the boundary step keeps the earlier value
    with pytest.raises(RegistryError, match="one more value than boundaries"):
        build("schedule", {"name": "piecewise", "boundaries": [10, 20], "values": [1.0, 0.5]})
    with pytest.raises(RegistryError, match="increasing"):
        build("schedule", {"name": "piecewise", "boundaries": [20, 10], "values": [1.0, 0.5, 0.1]})


def test_lr_range():
    s = build("schedule", {"name": "lr_range", "start": 1e-4, "end": 1.0, "steps": 101})
    assert s(0) == pytest.approx(1e-4, rel=1e-14)
    assert s(100) == pytest.approx(1.0, rel=1e-14)
    assert s(50) == pytest.approx(1e-2, rel=1e-12)
    ratios = [s(t + 1) / s(t) for t in range(100)]
    np.testing.assert_allclose(ratios, 10 ** (4 / 100), rtol=1e-12)
    default = build("schedule", "lr_range")
    assert (default(0), default(499)) == (pytest.approx(1e-5), pytest.approx(10.0))


# -- one_cycle -------------------------------------------------------------------------------------
def _one_cycle_by_hand(t, max_lr=1.0, T=100):
    """Phase formulas for T = 100, pct_start 0.45: phase ends 44, 88, 99."""
    lo, final = max_lr / 10, max_lr / 10 / 1000
    if t <= 44:
        return lo + (max_lr - lo) * t / 44, 0.95 - 0.10 * t / 44
    if t <= 88:
        return max_lr + (lo - max_lr) * (t - 44) / 44, 0.85 + 0.10 * (t - 44) / 44
    t = min(t, 99)
    return lo + (final - lo) * (t - 88) / 11, 0.95


def test_one_cycle_phases():
    s = build("schedule", {"name": "one_cycle", "max_lr": 2.0, "total_steps": 100})  # complete as built
    assert s(0) == pytest.approx(0.2, rel=1e-14)
    assert s(44) == pytest.approx(2.0, rel=1e-14)
    assert s(88) == pytest.approx(0.2, rel=1e-14)
    assert s(99) == pytest.approx(2e-4, rel=1e-12)
    assert [s.momentum(t) for t in (0, 44, 88, 99)] == pytest.approx([0.95, 0.85, 0.95, 0.95], rel=1e-14)
    for t in (1, 10, 43, 45, 60, 87, 89, 95, 98):
        lr, mom = _one_cycle_by_hand(t, max_lr=2.0)
        assert s(t) == pytest.approx(lr, rel=1e-12), t
        assert s.momentum(t) == pytest.approx(mom, rel=1e-12), t


def test_one_cycle_stays_final_after_the_end():
    s = build("schedule", {"name": "one_cycle", "max_lr": 1.0, "total_steps": 100})
    assert s(100) == s(500) == s(99)
    assert s.momentum(1000) == 0.95


def test_one_cycle_fractional_phase_ends_as_torch():
    """T = 10: phase ends 3.5, 7.0 and 9 (torch's float end steps)."""
    s = build("schedule", {"name": "one_cycle", "max_lr": 1.0, "total_steps": 10})
    assert s(3) == pytest.approx(0.1 + 0.9 * 3 / 3.5, rel=1e-14)
    assert s(4) == pytest.approx(1.0 - 0.9 * 0.5 / 3.5, rel=1e-14)
    assert s(7) == pytest.approx(0.1, rel=1e-14)
    assert s(8) == pytest.approx(0.1 + (1e-4 - 0.1) * 1 / 2, rel=1e-14)
    assert s.momentum(4) == pytest.approx(0.85 + 0.1 * 0.5 / 3.5, rel=1e-14)


def test_one_cycle_derived_values():
    s, filled = build_schedule({"name": "one_cycle", "div": 5.0, "final_div": 100.0}, 0.3, 200)
    assert filled == {"initial_learning_rate": 0.3, "max_lr": 0.3, "total_steps": 200,
                      "start_lr": pytest.approx(0.06), "final_lr": pytest.approx(6e-4)}
    assert s(0) == pytest.approx(0.06) and s(199) == pytest.approx(6e-4)
    given, filled = build_schedule({"name": "one_cycle", "max_lr": 1.0, "total_steps": 50}, 0.3, 200)
    assert set(filled) == {"start_lr", "final_lr"}  # explicit values untouched
    assert given.total_steps == 50 and given.max_lr == 1.0


def test_one_cycle_auto_and_bad_max_lr():
    with pytest.raises(ValueError, match="'auto'"):
        build_schedule({"name": "one_cycle", "max_lr": "auto"}, 0.1, 100)
    with pytest.raises(RegistryError, match="max_lr"):
        build("schedule", {"name": "one_cycle", "max_lr": "fast"})
    with pytest.raises(RegistryError, match="pct_start"):
        build("schedule", {"name": "one_cycle", "pct_start": 0.7})


def test_one_cycle_without_momentum_cycling():
    s = _sched({"name": "one_cycle", "cycle_momentum": False})
    assert s.momentum(10) is None
    assert build("schedule", "constant").momentum(3) is None


# torch's OneCycleLR set to mlrun's one_cycle defaults, and the SGD whose param group it drives
TORCH_SGD = {"lr": 0.1, "momentum": 0.9}
TORCH_ONE_CYCLE = {
    "max_lr": 0.5, "total_steps": 37, "pct_start": 0.45, "anneal_strategy": "linear", "div_factor": 10.0,
    "final_div_factor": 1000.0, "three_phase": True, "base_momentum": 0.85, "max_momentum": 0.95,
}


def _one_cycle_as_torch():
    return build("schedule", {"name": "one_cycle", "max_lr": TORCH_ONE_CYCLE["max_lr"],
                              "total_steps": TORCH_ONE_CYCLE["total_steps"]})


def test_one_cycle_matches_torch():
    torch = pytest.importorskip("torch")
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], **TORCH_SGD)
    ref = torch.optim.lr_scheduler.OneCycleLR(opt, **TORCH_ONE_CYCLE)
    s = _one_cycle_as_torch()
    for t in range(TORCH_ONE_CYCLE["total_steps"]):
        assert s(t) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12)
        assert s.momentum(t) == pytest.approx(opt.param_groups[0]["momentum"], rel=1e-12)
        opt.step()
        ref.step()


def test_one_cycle_matches_frozen_torch():
    """test_one_cycle_matches_torch without torch: its numbers from scripts/freeze_torch_goldens.py."""
    frozen = torch_reference("one_cycle")
    assert (frozen["sgd_kwargs"], frozen["torch_kwargs"]) == (TORCH_SGD, TORCH_ONE_CYCLE)  # else run it again
    assert len(frozen["lr"]) == len(frozen["momentum"]) == TORCH_ONE_CYCLE["total_steps"]
    s = _one_cycle_as_torch()
    for t, (lr, momentum) in enumerate(zip(frozen["lr"], frozen["momentum"])):
        assert s(t) == pytest.approx(lr, rel=1e-12), t
        assert s.momentum(t) == pytest.approx(momentum, rel=1e-12), t


# -- plateau ---------------------------------------------------------------------------------------
def _plateau_lrs(losses, **kw):
    s = _sched({"name": "plateau", "patience": 2, "min_delta": 0.1} | kw, lr=1.0)
    lrs = []
    for loss in losses:
        s.on_epoch_end({"epoch": len(lrs), "val_loss": loss, "train_loss": 9.0})
        lrs.append(s(0))
    return lrs


def test_plateau_reduces_after_patience():
    # 0.95 is not better than 1.0 by min_delta 0.1: epochs 3, 5, 7 reach patience 2
    got = _plateau_lrs([1.0] + [0.95] * 6)
    assert got == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125]


def test_plateau_improvement_resets_the_wait():
    got = _plateau_lrs([1.0, 0.95, 0.85, 0.84, 0.8, 0.7])
    assert got == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5]  # 0.85 improved; 0.84 and 0.8 did not (by 0.1)


def test_plateau_cooldown():
    # cooldown 2: after a reduction two epochs are not counted (Keras's counting; cooldown 1 is a no-op)
    assert _plateau_lrs([1.0] + [0.95] * 8, cooldown=2) == [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25,
                                                            0.125]
    assert _plateau_lrs([1.0] + [0.95] * 6, cooldown=1) == _plateau_lrs([1.0] + [0.95] * 6)
    # patience 1: no reduction while cooling down, one at the epoch the cooldown ends
    assert _plateau_lrs([1.0] + [0.95] * 5, cooldown=2, patience=1) == [1.0, 0.5, 0.5, 0.25, 0.25, 0.125]


def test_plateau_min_lr():
    assert _plateau_lrs([1.0] + [0.95] * 10, min_lr=0.2) == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25] + [0.2] * 5


def test_plateau_factor_and_monitor():
    s = _sched({"name": "plateau", "factor": 0.1, "patience": 1, "monitor": "train_loss"}, lr=1.0)
    s.on_epoch_end({"train_loss": 1.0, "val_loss": 0.0})
    s.on_epoch_end({"train_loss": 1.0, "val_loss": 0.0})
    assert s(0) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="'val_loss'"):
        _sched("plateau").on_epoch_end({"train_loss": 1.0})
    with pytest.raises(RegistryError, match="factor"):
        build("schedule", {"name": "plateau", "factor": 1.5})


def test_plateau_state_round_trip_is_json():
    s = _sched({"name": "plateau", "patience": 2}, lr=1.0)
    assert json.loads(json.dumps(s.state(), allow_nan=False))["best"] is None  # no epoch yet
    for loss in (1.0, 1.0, 1.0, 1.0):  # reduced at the third epoch, then one more without improvement
        s.on_epoch_end({"val_loss": loss})
    state = json.loads(json.dumps(s.state(), allow_nan=False))
    assert state == {"best": 1.0, "wait": 1, "cooldown_counter": 0, "lr": 0.5}
    t = _sched({"name": "plateau", "patience": 2}, lr=1.0)
    t.load_state(state)
    for x in (s, t):
        x.on_epoch_end({"val_loss": 1.0})  # wait reaches 2: both reduce now
    assert s(0) == t(0) == 0.25
    assert math.isinf(_sched("plateau").best)


def test_only_what_shapes_the_rates_is_reported():
    piecewise = {"name": "piecewise", "boundaries": [3], "values": [0.1, 0.01]}
    assert _derived(piecewise, 0.5, 100) == {}
    assert _derived("lr_range", 0.5, 100) == {}
    with pytest.raises(ValueError, match="total_steps must be >= 1"):
        build_schedule("exponential", 0.1, 0)
