"""The studies' shared helpers (scripts/studies): docs/studies.md's marker sections, the fair-comparison
arithmetic (best rate on validation, paired differences, verdicts), and the variant specs."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from studies import analysis as A  # noqa: E402
from studies.core import variant_spec  # noqa: E402
from studies.markers import replace_section, sections  # noqa: E402

DOC = """# Studies

intro

<!-- study:one -->
old one
<!-- /study:one -->

between, by hand

<!-- study:bitwise -->
someone else's \\1 text
<!-- /study:bitwise -->
"""


def test_a_section_is_rewritten_between_its_markers_only():
    out = replace_section(DOC, "one", "new one\nwith \\1 and \\g<0>")
    assert "new one\nwith \\1 and \\g<0>\n<!-- /study:one -->" in out
    assert "old one" not in out
    assert out.replace("new one\nwith \\1 and \\g<0>", "old one") == DOC  # nothing else moved
    assert sections(out) == ["one", "bitwise"]


def test_a_new_section_is_appended_with_its_markers():
    out = replace_section(DOC, "glorot", "table")
    assert out.startswith(DOC.rstrip("\n"))
    assert out.endswith("<!-- study:glorot -->\ntable\n<!-- /study:glorot -->\n")
    assert replace_section(out, "glorot", "again") == out.replace("table", "again")


def test_a_doubled_section_is_refused():
    with pytest.raises(ValueError, match="more than one"):
        replace_section(DOC + "<!-- study:one -->\nx\n<!-- /study:one -->\n", "one", "y")


def trial(lr, seed, val, test, status="completed", **overrides):
    return A.Trial({"optimizer.learning_rate": str(lr), **overrides}, seed, status,
                   {"validation.accuracy": val, "test.accuracy": test}, Path("."))


def test_the_rate_is_chosen_on_validation_never_on_test():
    trials = [trial(0.1, 0, 0.9, 0.1), trial(0.1, 1, 0.8, 0.1),  # best validation, worst test
              trial(1.0, 0, 0.5, 0.99), trial(1.0, 1, 0.5, 0.99)]
    choice = A.best_rate(trials, "validation.accuracy")
    assert choice.lr == 0.1 and choice.validation == pytest.approx(0.85)
    assert A.test_values(choice, "test.accuracy") == {0: 0.1, 1: 0.1}


def test_a_diverged_seed_disqualifies_its_rate_and_scores_zero():
    trials = [trial(0.1, 0, 0.7, 0.7), trial(0.1, 1, 0.7, 0.7),
              trial(1.0, 0, 0.99, 0.99), trial(1.0, 1, None, None, status="diverged")]
    assert A.best_rate(trials, "validation.accuracy").lr == 0.1
    only_high = A.best_rate(trials[2:], "validation.accuracy")
    assert A.test_values(only_high, "test.accuracy") == {0: 0.99, 1: 0.0}


def test_arms_keep_their_own_rates():
    trials = [trial(lr, s, v, v, **{"model.activation": act}) for act, best in (("relu", 0.1), ("tanh", 1.0))
              for lr in (0.1, 1.0) for s in (0, 1) for v in [0.9 if lr == best else 0.5]]
    chosen = A.arms(trials, lambda t: t.value("model.activation"), "validation.accuracy")
    assert {a: c.lr for a, c in chosen.items()} == {"relu": 0.1, "tanh": 1.0}


def test_paired_differences_match_a_hand_computation():
    d = A.paired({0: 0.9, 1: 0.8, 2: 0.7}, {0: 0.8, 1: 0.8, 2: 0.5, 3: 0.1})  # seed 3 is unpaired
    assert d.diffs == pytest.approx([0.1, 0.0, 0.2])
    assert d.mean == pytest.approx(0.1) and d.std == pytest.approx(0.1) and d.wins == 2
    # t = 0.1 / (0.1 / sqrt 3) = sqrt 3 on 2 degrees of freedom: two-sided p = 1 - sqrt(3 / 5) = 0.2254
    assert d.p == pytest.approx(0.22540333, rel=1e-6)
    assert A.verdict(d) == "cannot be told apart"


def test_verdicts_from_clear_differences():
    up = A.paired({s: 0.9 + 0.01 * s for s in range(5)}, {s: 0.8 for s in range(5)})
    down = A.paired({s: 0.8 for s in range(5)}, {s: 0.9 + 0.01 * s for s in range(5)})
    assert (A.verdict(up), A.verdict(down)) == ("holds", "does not hold here")
    assert A.verdict(A.paired({0: 0.5}, {0: 0.5})) == "cannot be told apart"
    assert A.overall({"digits": "holds", "mnist1d": "holds"}) == "holds"
    assert A.overall({"digits": "cannot be told apart", "mnist1d": "holds"}) == "holds only on mnist1d"
    assert A.overall({"a": "does not hold here", "b": "cannot be told apart"}) == "does not hold here"
    assert math.isnan(A.paired({}, {0: 1.0}).mean)


def test_trials_are_read_from_a_sweep_manifest(tmp_path):
    manifest = {"trials": {
        "a": {"overrides": ["model.activation={name: leaky_relu, alpha: 0.2}", "optimizer.learning_rate=0.01"],
              "seed": 3, "status": "completed", "run": "r0", "metrics": {"test.accuracy": 0.5}},
        "b": {"overrides": [], "seed": 0, "status": "failed", "run": "r1", "metrics": None}}}
    (tmp_path / "sweep.json").write_text(json.dumps(manifest))
    (t,) = A.load_trials(tmp_path)
    assert (t.seed, t.run, t.value(A.LR)) == (3, tmp_path / "r0", 0.01)
    assert A.part_label(t.value("model.activation")) == "leaky_relu(alpha=0.2)"
    assert A.part_label([96, 48, 24]) == "96-48-24"


def test_a_variant_changes_only_its_keys_and_its_name():
    raw = variant_spec("selu.yaml", "he", {"model.initializer": "he_normal", "training.diagnostics.every": 2})
    assert raw["name"] == "study-selu-he"
    assert raw["model"]["initializer"] == "he_normal" and raw["model"]["activation"] == "selu"
    assert raw["training"]["diagnostics"] == {"every": 2, "probe_rows": 256}
    import mlrun

    assert mlrun.load_config(raw).model.initializer == "he_normal"


def test_outliers_move_exactly_the_share_asked_for_and_score_against_the_clean_target(tmp_path):
    import numpy as np
    from studies.outliers import clean_scores, contaminate, write_dataset

    y = np.arange(200, dtype=float)
    dirty, mask = contaminate(y, 0.1, np.random.default_rng(0))
    assert mask.sum() == 20 and np.array_equal(dirty[~mask], y[~mask])
    lift = (dirty[mask] - y[mask]) / y.std()
    assert lift.min() >= 5.0 and lift.max() <= 10.0
    assert np.array_equal(contaminate(y, 0.0, np.random.default_rng(0))[0], y)
    with pytest.raises(ValueError):
        contaminate(y, 1.0, np.random.default_rng(0))
    write_dataset(tmp_path / "d.csv", np.ones((2, 2)), np.array([0.5, 1.5]))
    assert (tmp_path / "d.csv").read_text().splitlines() == ["x0,x1,y", "1.0,1.0,0.5", "1.0,1.0,1.5"]
    (tmp_path / "p.csv").write_text("row,y_true,y_pred\n3,99.0,4.0\n1,99.0,0.0\n")  # y_true dirty
    scores = clean_scores(tmp_path / "p.csv", np.array([0.0, 2.0, 0.0, 1.0]))
    assert scores == {"rmse": pytest.approx(np.sqrt((9 + 4) / 2)), "mae": pytest.approx(2.5)}


def test_adagrads_effective_rate_is_the_rate_over_the_root_of_its_summed_squares():
    import numpy as np
    from studies.effective_rate import EffectiveRateLog, effective_rates

    from mlrun import registry

    opt = registry.build("optimizer", {"name": "adagrad", "learning_rate": 0.5, "epsilon": 0.1})
    params = [np.zeros(3)]
    for _ in range(4):
        opt.step(params, [np.array([2.0, 1.0, 0.5])])  # s = 16, 4, 1: sqrt(s) = 4, 2, 1; eps outside the root
    a, b, c = 0.5 / 4.1, 0.5 / 2.1, 0.5 / 1.1
    assert effective_rates(opt) == pytest.approx([a, b, c], rel=1e-12)

    class Trainer:
        optimizer, epoch = opt, 1

    log = EffectiveRateLog()
    log.on_epoch_end(Trainer(), {})
    # numpy's linear interpolation over three values: p10 = a + 0.2 (b - a), p90 = b + 0.8 (c - b)
    assert log.rows == [{"epoch": 1, "median": pytest.approx(b, rel=1e-12),
                         "p10": pytest.approx(a + 0.2 * (b - a), rel=1e-12),
                         "p90": pytest.approx(b + 0.8 * (c - b), rel=1e-12)}]
