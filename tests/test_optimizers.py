"""Optimizers against docs/contract.md: formulas re-derived here element by element, golden values,
dtype, state round-trips, validation, and torch itself: live when PyTorch happens to be installed, and
always against torch's numbers frozen in tests/golden/torch_reference.json."""

import copy
import inspect
import json
import math
import types

import numpy as np
import pytest
from golden import torch_reference

from mlrun.optim import optimizers as O
from mlrun.registry import build, names, parameters

# non-default hyper-parameters, so that a swapped or ignored argument changes the numbers
HP = {
    "momentum": 0.8, "rho": 0.85, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-3,
    "initial_accumulator_value": 0.1,
}
THETA0 = [0.5, -1.5, 2.0, 0.0]
GRADS = [[0.3, -1.2, 2.5, 0.0], [-0.4, -0.7, 1.0, 0.2], [0.9, 0.1, -3.0, -0.5], [0.2, 0.6, 0.4, 1.1]]
LRS = [0.1, 0.05, 0.2, 0.01]  # the learning rate changes between steps (schedules, lr-find)


# -- references: the contract's table, one element at a time -------------------------------------
def _ref_sgd(x, g, lr, st, t, hp):
    return x - lr * g


def _ref_momentum(x, g, lr, st, t, hp):
    st["m"] = hp["momentum"] * st.get("m", 0.0) - lr * g
    return x + st["m"]


def _ref_nesterov(x, g, lr, st, t, hp):
    st["m"] = hp["momentum"] * st.get("m", 0.0) - lr * g
    return x + hp["momentum"] * st["m"] - lr * g


def _ref_adagrad(x, g, lr, st, t, hp):
    st["s"] = st.get("s", hp["initial_accumulator_value"]) + g * g
    return x - lr * g / (math.sqrt(st["s"]) + hp["epsilon"])


def _ref_rmsprop(x, g, lr, st, t, hp):
    st["s"] = hp["rho"] * st.get("s", 0.0) + (1 - hp["rho"]) * g * g
    return x - lr * g / (math.sqrt(st["s"]) + hp["epsilon"])


def _moments(g, st, hp):
    b1, b2 = hp["beta_1"], hp["beta_2"]
    st["m"] = b1 * st.get("m", 0.0) + (1 - b1) * g
    st["s"] = b2 * st.get("s", 0.0) + (1 - b2) * g * g


def _ref_adam(x, g, lr, st, t, hp):
    _moments(g, st, hp)
    m_hat = st["m"] / (1 - hp["beta_1"] ** t)
    s_hat = st["s"] / (1 - hp["beta_2"] ** t)
    return x - lr * m_hat / (math.sqrt(s_hat) + hp["epsilon"])


def _ref_adamax(x, g, lr, st, t, hp):
    b1 = hp["beta_1"]
    st["m"] = b1 * st.get("m", 0.0) + (1 - b1) * g
    st["u"] = max(hp["beta_2"] * st.get("u", 0.0), abs(g))
    return x - lr / (1 - b1**t) * st["m"] / (st["u"] + hp["epsilon"])


def _ref_nadam(x, g, lr, st, t, hp):
    b1 = hp["beta_1"]

    def mu(i):
        return b1 * (1 - 0.5 * 0.96 ** (0.004 * i))

    prod_t = math.prod(mu(i) for i in range(1, t + 1))
    prod_next = prod_t * mu(t + 1)
    _moments(g, st, hp)
    s_hat = st["s"] / (1 - hp["beta_2"] ** t)
    num = mu(t + 1) * st["m"] / (1 - prod_next) + (1 - mu(t)) * g / (1 - prod_t)
    return x - lr * num / (math.sqrt(s_hat) + hp["epsilon"])


REFERENCES = {
    "sgd": _ref_sgd, "momentum": _ref_momentum, "nesterov": _ref_nesterov, "adagrad": _ref_adagrad,
    "rmsprop": _ref_rmsprop, "adam": _ref_adam, "adamax": _ref_adamax, "nadam": _ref_nadam,
}


def reference(name, theta, grads, lrs, hp):
    """Parameters after each step, by plain Python loops over steps and elements."""
    theta, states, history = list(theta), [{} for _ in theta], []
    for t, (g, lr) in enumerate(zip(grads, lrs), start=1):
        theta = [REFERENCES[name](x, gi, lr, st, t, hp) for x, gi, st in zip(theta, g, states)]
        history.append(theta)
    return np.array(history)


def _make(name, **kw):
    accepted = parameters("optimizer", name)
    return build("optimizer", {"name": name, **{k: v for k, v in {**HP, **kw}.items() if k in accepted}})


def _run(opt, grads, lrs, dtype=np.float64, theta=THETA0):
    p = np.array(theta, dtype=dtype)
    history = []
    for g, lr in zip(grads, lrs):
        opt.learning_rate = lr
        opt.step([p], [np.array(g, dtype=dtype)])
        history.append(p.copy())
    return np.array(history)


# -- the registry sees every optimizer, in the contract's order ------------------------------------
def test_all_design_optimizers_registered_in_order():
    assert names("optimizer") == list(REFERENCES)


@pytest.mark.parametrize("name", names("optimizer"))
def test_matches_design_formula_with_changing_learning_rate(name):
    got = _run(_make(name), GRADS, LRS)
    want = reference(name, THETA0, GRADS, LRS, HP)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", names("optimizer"))
def test_two_arrays_are_independent(name):
    """A list of arrays: each keeps its own slots (same numbers as two separate runs)."""
    opt = _make(name)
    a, b = np.array(THETA0[:2]), np.array(THETA0[2:])
    for g, lr in zip(GRADS, LRS):
        opt.learning_rate = lr
        opt.step([a, b], [np.array(g[:2]), np.array(g[2:])])
    want = reference(name, THETA0, GRADS, LRS, HP)[-1]
    np.testing.assert_allclose(np.concatenate([a, b]), want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", names("optimizer"))
def test_float32_stays_float32(name):
    opt = _make(name)
    got = _run(opt, GRADS, LRS, dtype=np.float32)
    assert got.dtype == np.float32
    assert all(s.dtype == np.float32 for slots in opt.slots for s in slots.values())
    np.testing.assert_allclose(got, reference(name, THETA0, GRADS, LRS, HP), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", names("optimizer"))
def test_state_round_trip_continues_identically(name):
    opt = _make(name, clip_norm=2.0)
    _run(opt, GRADS[:2], LRS[:2])
    state = copy.deepcopy(opt.state())
    json.dumps({k: v for k, v in state.items() if k != "slots"})  # scalars are JSON-able
    p0 = np.array([0.1, 0.2, 0.3, 0.4])
    a = _run(opt, GRADS[2:], LRS[2:], theta=p0)
    fresh = _make(name, clip_norm=2.0, learning_rate=0.5, beta_1=0.5, momentum=0.5)
    fresh.load_state(state)
    b = _run(fresh, GRADS[2:], LRS[2:], theta=p0)
    np.testing.assert_array_equal(a, b)
    assert fresh.iterations == opt.iterations == 4


@pytest.mark.parametrize("name", names("optimizer"))
def test_state_is_a_snapshot(name):
    opt = _make(name)
    _run(opt, GRADS[:1], LRS[:1])
    state = opt.state()
    before = copy.deepcopy(state)
    _run(opt, GRADS[1:], LRS[1:])
    for s0, s1 in zip(before["slots"], state["slots"]):
        for k in s0:
            np.testing.assert_array_equal(s0[k], s1[k])


@pytest.mark.parametrize("name", names("optimizer"))
def test_step_reads_but_never_writes_learning_rate(name):
    opt = _make(name, learning_rate=0.02)
    p = np.ones(3)
    opt.step([p], [np.full(3, 0.5)])
    assert opt.learning_rate == 0.02
    opt.learning_rate = 0.0  # η = 0: nothing may move (slots still update)
    before = p.copy()
    opt.step([p], [np.full(3, 0.5)])
    if name in ("momentum", "nesterov"):  # their velocity carries the previous step's η
        assert not np.array_equal(p, before)
    else:
        np.testing.assert_array_equal(p, before)


@pytest.mark.parametrize("name", names("optimizer"))
def test_at_most_one_clip_option(name):
    with pytest.raises(ValueError, match="at most one of clip_value, clip_norm, global_clip_norm"):
        build("optimizer", {"name": name, "clip_norm": 1.0, "global_clip_norm": 1.0})


@pytest.mark.parametrize("name", names("optimizer"))
def test_defaults_follow_design(name):
    defaults = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "momentum": 0.9, "rho": 0.9,
                "initial_accumulator_value": 0.0, "clip_value": None, "clip_norm": None,
                "global_clip_norm": None,
                "learning_rate": 0.01 if name in ("sgd", "momentum", "nesterov") else 0.001}
    params = parameters("optimizer", name)
    for key, p in params.items():
        assert key in defaults, key
        assert p.default == defaults[key], key
        assert p.annotation is not inspect.Parameter.empty, key
    opt = build("optimizer", name)
    assert opt.config() == {"name": name, **{k: defaults[k] for k in params}}
    assert build("optimizer", opt.config()).config() == opt.config()


def test_each_optimizer_takes_its_design_arguments():
    base = {"learning_rate", "clip_value", "clip_norm", "global_clip_norm"}
    extra = {
        "sgd": set(), "momentum": {"momentum"}, "nesterov": {"momentum"},
        "adagrad": {"initial_accumulator_value", "epsilon"}, "rmsprop": {"rho", "epsilon"},
        "adam": {"beta_1", "beta_2", "epsilon"}, "adamax": {"beta_1", "beta_2", "epsilon"},
        "nadam": {"beta_1", "beta_2", "epsilon"},
    }
    for name, keys in extra.items():
        assert set(parameters("optimizer", name)) == base | keys, name


@pytest.mark.parametrize(
    "name, key, value, message",
    [
        ("momentum", "momentum", 1.5, r"momentum must be in \[0, 1\); got 1.5"),
        ("nesterov", "momentum", -0.1, r"momentum must be in \[0, 1\); got -0.1"),
        ("rmsprop", "rho", 1.0, r"rho must be in \[0, 1\); got 1.0"),
        ("adam", "beta_1", 1.0, r"beta_1 must be in \[0, 1\); got 1.0"),
        ("nadam", "beta_2", 2.0, r"beta_2 must be in \[0, 1\); got 2.0"),
        ("adamax", "epsilon", 0.0, r"epsilon must be > 0; got 0.0"),
        ("adagrad", "initial_accumulator_value", -1.0, r"initial_accumulator_value must be >= 0; got -1.0"),
        ("sgd", "learning_rate", -0.1, r"learning_rate must be > 0; got -0.1"),
    ],
)
def test_invalid_hyperparameters_are_rejected(name, key, value, message):
    cls = {"sgd": O.SGD, "momentum": O.Momentum, "nesterov": O.Nesterov, "adagrad": O.Adagrad,
           "rmsprop": O.RMSprop, "adam": O.Adam, "adamax": O.Adamax, "nadam": O.Nadam}[name]
    with pytest.raises(ValueError, match=message):
        cls(**{key: value})


# -- golden values (computed once, independently, in float64) -------------------------------------
GOLD_THETA0 = [1.0, -2.0, 0.5]
GOLD_GRADS = [[0.5, -1.0, 2.0], [0.1, 0.3, -0.2]]


def _gold_run(name):
    opt = build("optimizer", {"name": name, "learning_rate": 0.1})
    return _run(opt, GOLD_GRADS, [0.1, 0.1], theta=GOLD_THETA0)


def test_adam_golden_values():
    np.testing.assert_allclose(_gold_run("adam"), [
        [0.900000019999996, -1.900000009999999, 0.40000000499999977],
        [0.8196959444343859, -1.8572151566462753, 0.3407351577454786],
    ], rtol=1e-13)


def test_nadam_golden_values():
    np.testing.assert_allclose(_gold_run("nadam"), [
        [0.8943548432934925, -1.8943548327289779, 0.3943548274467198],
        [0.8676667349291698, -1.9183550475932707, 0.3984821531839212],
    ], rtol=1e-13)


def test_adagrad_starts_from_initial_accumulator_value():
    opt = O.Adagrad(learning_rate=1.0, initial_accumulator_value=3.0, epsilon=1e-7)
    p = np.zeros(1)
    opt.step([p], [np.array([1.0])])  # s = 3 + 1 = 4: step = 1 / (2 + 1e-7)
    assert p[0] == pytest.approx(-1.0 / (2.0 + 1e-7), rel=1e-14)
    np.testing.assert_array_equal(opt.slots[0]["s"], [4.0])


def test_nadam_keeps_running_product_in_state():
    opt = O.Nadam()
    _run(opt, GOLD_GRADS, [0.1, 0.1], theta=GOLD_THETA0)
    mu1, mu2 = (0.9 * (1 - 0.5 * 0.96 ** (0.004 * t)) for t in (1, 2))
    assert opt.state()["scalars"] == {"mu_product": pytest.approx(mu1 * mu2, rel=1e-15)}


def test_cycled_beta_1_uses_current_value_in_bias_correction():
    """One-cycle sets beta_1 each step; m and 1 - beta_1^t both use the current beta_1 (as torch)."""
    opt = O.Adam(learning_rate=0.1, epsilon=1e-7)
    p, g1, g2 = np.array([1.0]), 0.5, -0.3
    opt.set_momentum(0.95)
    opt.step([p], [np.array([g1])])
    opt.set_momentum(0.85)
    opt.step([p], [np.array([g2])])
    m1, s1 = 0.05 * g1, 0.001 * g1**2
    x1 = 1.0 - 0.1 * (m1 / 0.05) / (math.sqrt(s1 / 0.001) + 1e-7)
    m2, s2 = 0.85 * m1 + 0.15 * g2, 0.999 * s1 + 0.001 * g2**2
    x2 = x1 - 0.1 * (m2 / (1 - 0.85**2)) / (math.sqrt(s2 / (1 - 0.999**2)) + 1e-7)
    assert p[0] == pytest.approx(x2, rel=1e-14)
    assert opt.get_momentum() == 0.85


def test_set_momentum_targets_momentum_or_beta_1():
    sgd_m, adam, rms = O.Momentum(), O.Adam(), O.RMSprop()
    sgd_m.set_momentum(0.5)
    adam.set_momentum(0.7)
    rms.set_momentum(0.3)
    assert (sgd_m.momentum, adam.beta_1, rms.get_momentum()) == (0.5, 0.7, None)


# -- PyTorch itself (live where installed; its frozen numbers always) ------------------------------
TORCH_CASES = {
    "sgd": lambda torch, p: torch.optim.SGD([p], lr=0.1),
    "momentum": lambda torch, p: torch.optim.SGD([p], lr=0.1, momentum=0.8),
    "adagrad": lambda torch, p: torch.optim.Adagrad([p], lr=0.1, eps=1e-3, initial_accumulator_value=0.1),
    "rmsprop": lambda torch, p: torch.optim.RMSprop([p], lr=0.1, alpha=0.85, eps=1e-3),
    "adam": lambda torch, p: torch.optim.Adam([p], lr=0.1, betas=(0.8, 0.95), eps=1e-3),
    "nadam": lambda torch, p: torch.optim.NAdam([p], lr=0.1, betas=(0.8, 0.95), eps=1e-3,
                                                momentum_decay=0.004),
}


@pytest.mark.parametrize("name", list(TORCH_CASES))
def test_matches_torch(name):
    torch = pytest.importorskip("torch")
    # torch keeps scalar state (NAdam's mu_product) in the default dtype: float64 for an exact match
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        p_t = torch.tensor(THETA0, dtype=torch.float64, requires_grad=True)
        opt_t = TORCH_CASES[name](torch, p_t)
        want = []
        for g in GRADS:
            p_t.grad = torch.tensor(g, dtype=torch.float64)
            opt_t.step()
            want.append(p_t.detach().numpy().copy())
    finally:
        torch.set_default_dtype(default)
    got = _run(_make(name, learning_rate=0.1), GRADS, [0.1] * len(GRADS))
    np.testing.assert_allclose(got, np.array(want), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", list(TORCH_CASES))
def test_matches_frozen_torch(name):
    """test_matches_torch without torch: its numbers from scripts/freeze_torch_goldens.py."""
    frozen = torch_reference("optimizers")
    assert frozen["inputs"] == {"theta0": THETA0, "grads": GRADS}  # else run the script again
    got = _run(_make(name, learning_rate=0.1), GRADS, [0.1] * len(GRADS))
    np.testing.assert_allclose(got, np.array(frozen["cases"][name]["params"]), rtol=1e-10, atol=1e-14)


class _RecordingOptim:
    """Stands in for torch.optim: torch.optim.Adam([p], **kw) gives ("torch.optim.Adam", kw)."""

    def __getattr__(self, cls):
        return lambda params, **kw: (f"torch.optim.{cls}", kw)


def test_frozen_torch_settings_are_the_live_tests():
    """The script froze every torch case, with the live test's settings (else run it again)."""
    cases = torch_reference("optimizers")["cases"]
    assert list(cases) == list(TORCH_CASES)
    for name, make in TORCH_CASES.items():
        cls, kw = make(types.SimpleNamespace(optim=_RecordingOptim()), None)
        kw = {k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()}
        assert (cases[name]["torch_class"], cases[name]["torch_kwargs"]) == (cls, kw), name
