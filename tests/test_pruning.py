"""Pruned sweeps: the rungs, ASHA's and the median rule's decisions, rung-by-rung training, the records."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from mlrun import sweep as sweep_api
from mlrun.runs.files import read_json, write_json
from mlrun.runs.history import read_history
from mlrun.spec.loading import load_config
from mlrun.sweeps.driver import resume_sweep
from mlrun.sweeps.executors import run_trial
from mlrun.sweeps.plan import SweepError
from mlrun.sweeps.pruning import Pruner, rung_epochs
from mlrun.sweeps.segments import run_segment

MOONS = {"name": "moons", "data": {"dataset": "make_moons", "params": {"n_samples": 160, "noise": 0.25}},
         "model": {"hidden_layers": 1, "neurons": 6}, "training": {"epochs": 9, "batch_size": 32},
         "optimizer": {"name": "sgd", "learning_rate": 0.1}}
RATES = [0.001, 0.01, 0.1, 0.3, 1.0, 3.0]


def history(values: dict[int, float], metric: str = "val_loss") -> list[dict]:
    """A per-epoch history holding ``values`` at their (1-based) epochs."""
    return [{"epoch": e, metric: values.get(e)} for e in range(1, max(values) + 1)]


# -- the rungs ------------------------------------------------------------------------------------------
def test_rungs_are_ray_tunes_milestones_below_max_epochs():
    # Ray Tune's _Bracket: MAX_RUNGS = int(log(max_t / min_t) / log(rf) + 1), milestones min_t * rf**k
    assert rung_epochs(1, 4, 100) == [1, 4, 16, 64]
    assert rung_epochs(1, 3, 27) == [1, 3, 9]  # 27 = max_t: the trial is done there anyway
    assert rung_epochs(2, 3, 50) == [2, 6, 18]
    assert rung_epochs(1, 2, 10) == [1, 2, 4, 8]
    pruner = Pruner("asha", max_epochs=27, reduction_factor=3)
    assert [pruner.next_stop(done, 27) for done in (0, 1, 3, 9)] == [1, 3, 9, 27]
    assert pruner.next_stop(0, 2) == 1 and pruner.next_stop(1, 2) == 2  # a shorter trial stops at its end


# -- ASHA ---------------------------------------------------------------------------------------------
def test_asha_follows_ray_tunes_documented_bracket_example():
    # ray/tune/schedulers/async_hyperband.py, _Bracket's docstring (mode max, rf = 2):
    # on_result(trial1, 1, 2) CONTINUE; on_result(trial2, 1, 4) CONTINUE; cutoff == 3.0; trial3 at 1 -> STOP
    pruner = Pruner("asha", metric="val_accuracy", max_epochs=10, reduction_factor=2)
    acc = "val_accuracy"
    assert not pruner.decide("t1", history({1: 2.0}, acc), 1).stop
    assert not pruner.decide("t2", history({1: 4.0}, acc), 1).stop
    third = pruner.decide("t3", history({1: 1.0}, acc), 1)
    assert third.stop and third.cutoff == pytest.approx(3.0)


def test_asha_hand_worked_example_on_a_loss():
    """eta = 3: cutoff = the 66.7th percentile (linear) of the negated losses recorded before the arrival.

    rung 1, arrivals A .5, B .4, C .6, D .3, E .45, F .7:
      A: nothing recorded -> on; B: cutoff .5 -> on; C: [.5 .4] -> cutoff .4333, .6 worse -> pruned;
      D: [.5 .4 .6] -> .4667 -> on; E: [.5 .4 .6 .3] -> .4 -> pruned; F: 5 values -> .4167 -> pruned.
    rung 3, arrivals A .45, B .5, D .25: A on; B: cutoff .45 -> pruned; D: [.45 .5] -> .4667 -> on.
    """
    pruner = Pruner("asha", max_epochs=9, reduction_factor=3)
    first = {k: pruner.decide(k, history({1: v}), 1) for k, v in
             zip("ABCDEF", (0.5, 0.4, 0.6, 0.3, 0.45, 0.7))}
    assert {k for k, d in first.items() if d.stop} == {"C", "E", "F"}
    cutoffs = [first[k].cutoff for k in "ABCDEF"]
    assert cutoffs[0] is None
    assert cutoffs[1:] == pytest.approx([0.5, 0.5 - 0.1 * 2 / 3, 0.5 - 0.1 / 3, 0.4, 0.45 - 0.05 * 2 / 3])
    third = {k: pruner.decide(k, history({1: 0.0, 3: v}), 3) for k, v in zip("ABD", (0.45, 0.5, 0.25))}
    assert [third[k].stop for k in "ABD"] == [False, True, False]
    assert third["D"].cutoff == pytest.approx(0.5 - 0.05 * 2 / 3)
    # a rerun after --resume reaching a rung it is recorded at continues, and the table does not move
    assert not pruner.decide("C", history({1: 0.9}), 1).stop and pruner.rungs[1]["C"] == 0.6
    assert Pruner.from_dict(json.loads(json.dumps(pruner.to_dict()))).rungs == pruner.rungs


def test_a_non_finite_value_is_pruned_once_there_is_a_cutoff():
    pruner = Pruner("asha", max_epochs=9, reduction_factor=3)
    assert not pruner.decide("a", history({1: float("nan")}), 1).stop  # no cutoff yet (Ray: continue)
    assert not pruner.decide("b", history({1: 0.5}), 1).stop
    assert pruner.decide("c", history({1: float("inf")}), 1).stop


# -- the median rule ----------------------------------------------------------------------------------
def test_median_rule_is_optunas():
    """Optuna's MedianPruner: nothing before n_startup_trials completed; then prune when the trial's best
    value so far is worse than the median of the completed trials' values at the same step."""
    pruner = Pruner("median", max_epochs=9, reduction_factor=3, n_startup_trials=2)
    pruner.finished("done1", history({1: 0.8, 2: 0.7, 3: 0.6, 9: 0.3}))
    assert not pruner.decide("x", history({1: 5.0}), 1).stop  # one completed trial < n_startup_trials
    pruner.finished("done2", history({1: 0.6, 2: 0.5, 3: 0.4, 9: 0.2}))
    assert pruner.completed["done2"] == {1: 0.6, 3: 0.4}
    worse = pruner.decide("y", history({1: 0.75}), 1)
    assert worse.stop and worse.cutoff == pytest.approx(0.7)
    assert not pruner.decide("z", history({1: 0.65}), 1).stop
    # the best value so far counts, not the last: 0.45 at epoch 2 beats the median 0.5 at epoch 3
    assert not pruner.decide("w", history({1: 0.9, 2: 0.45, 3: 0.9}), 3).stop
    assert pruner.decide("v", history({1: 0.9, 2: 0.55, 3: 0.9}), 3).stop


def test_bad_pruning_settings_are_one_line_sweep_errors():
    with pytest.raises(SweepError, match="--prune must be one of asha, median; got 'hyperband'"):
        Pruner("hyperband")
    with pytest.raises(SweepError, match="--prune-metric must be .*val_loss.*got 'val_f1'"):
        Pruner("asha", metric="val_f1")
    with pytest.raises(SweepError, match=r"--grace-period must be in \[1, 9\].*got 12"):
        sweep_api(MOONS, grid={"optimizer.learning_rate": [0.1]}, prune={"rule": "asha", "grace_period": 12},
                  dry_run=True)
    with pytest.raises(SweepError, match="--reduction-factor must be > 1; got 1"):
        Pruner("asha", reduction_factor=1)


# -- rung by rung -------------------------------------------------------------------------------------
@pytest.mark.parametrize("extra", [{}, {"optimizer": {"name": "adam", "learning_rate": 0.01},
                                        "training": {"epochs": 9, "early_stopping": {"patience": 50}}}])
def test_rung_by_rung_is_bit_identical_to_one_training(extra):
    cfg = load_config({**MOONS, **extra})
    whole = run_trial(0, cfg).outcome
    res = run_segment(0, cfg, None, 1)
    assert res.outcome.epochs == 1 and res.outcome.stop_reason == "rung" and res.outcome.metrics == {}
    for stop_at in (3, 9):
        res = run_segment(0, cfg, None, stop_at, res.state)
    parts = res.outcome
    assert parts.status == whole.status == "completed" and parts.stop_reason == "max_epochs"
    for key, value in whole.model_arrays.items():
        np.testing.assert_array_equal(parts.model_arrays[key], value, err_msg=key)
    drop = ("seconds",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in parts.history] == \
        [{k: v for k, v in r.items() if k not in drop} for r in whole.history]
    assert parts.metrics == whole.metrics


# -- sweeps -------------------------------------------------------------------------------------------
def replay_asha(rungs: dict, eta: float) -> set[str]:
    """Ray Tune's rule replayed on sweep.json's rung table (arrival order is the JSON order)."""
    pruned = set()
    for epoch in sorted(rungs, key=int):
        seen = []
        for key, loss in rungs[epoch].items():
            if seen and -loss < np.percentile([-v for v in seen], (1 - 1 / eta) * 100):
                pruned.add((key, int(epoch)))
            seen.append(loss)
    return pruned


def check_pruned_sweep(res, eta=3) -> dict:
    man = read_json(res.path / "sweep.json")
    assert man["pruning"]["rule"] == "asha" and man["pruning"]["metric"] == "val_loss"
    pruned = {(k, t["pruning"]["rung"]) for k, t in man["trials"].items() if t["status"] == "pruned"}
    assert pruned and pruned == replay_asha(man["pruning"]["rungs"], eta)
    for key, trial in man["trials"].items():
        info = read_json(res.path / trial["run"] / "run.json")
        rows = read_history(res.path / trial["run"] / "history.csv")
        if trial["status"] == "pruned":
            rung = trial["pruning"]["rung"]
            assert info["status"] == "pruned" and info["stop_reason"] == "pruned" and info["epochs"] == rung
            assert info["pruning"] == trial["pruning"] and len(rows) == rung
            assert trial["pruning"]["value"] == man["pruning"]["rungs"][str(rung)][key]
        else:
            assert trial["status"] == "completed" and info["epochs"] == 9 and len(rows) == 9
    return man


@pytest.mark.timeout(120)
def test_asha_sweep_records_and_resume_keeps_the_decisions(tmp_path):
    res = sweep_api(MOONS, grid={"optimizer.learning_rate": RATES}, seeds=2, jobs=1, runs_dir=tmp_path,
                    prune={"rule": "asha", "reduction_factor": 3})
    assert res.exit_code == 0 and set(res.counts) == {"completed", "pruned"}
    assert res.best().status == "completed"
    man = check_pruned_sweep(res)
    # a lost completed trial reruns; the pruned ones keep their decision and their directories
    done = next(k for k, t in man["trials"].items() if t["status"] == "completed")
    metrics = man["trials"][done]["metrics"]
    man["trials"][done]["status"] = "failed"
    write_json(res.path / "sweep.json", man)
    again = resume_sweep(res.path, jobs=1)
    assert again.to_run == [man["trials"][done]["index"]]
    after = read_json(res.path / "sweep.json")
    assert after["trials"][done]["status"] == "completed" and after["trials"][done]["metrics"] == metrics
    assert {k: t["status"] for k, t in after["trials"].items()} == \
        {k: ("completed" if k == done else t["status"]) for k, t in man["trials"].items()}
    assert after["pruning"]["rungs"] == man["pruning"]["rungs"]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_asha_on_loky_processes(tmp_path):
    res = sweep_api(MOONS, grid={"optimizer.learning_rate": RATES}, seeds=2, jobs=2, runs_dir=tmp_path,
                    prune={"rule": "asha", "reduction_factor": 3})
    assert res.workers == 2
    check_pruned_sweep(res)


def test_cli_prune(tmp_path):
    from mlrun.cli.app import cli

    spec = tmp_path / "moons.yaml"
    spec.write_text(json.dumps(MOONS))
    runner = CliRunner()
    out = runner.invoke(cli, ["sweep", str(spec), "--grid", "optimizer.learning_rate=0.001,0.1,1.0,3.0",
                              "--prune", "asha", "--reduction-factor", "3", "-j", "1",
                              "--runs-dir", str(tmp_path / "runs")])
    assert out.exit_code == 0, out.output
    assert "pruned" in out.output and "at epoch 1: val_loss" in out.output
    for args, words in ((["--prune", "asha", "--grace-period", "10"], "--grace-period must be in [1, 9]"),
                        (["--grace-period", "2"], "go with --prune") ,
                        (["--prune", "asha", "--prune-metric", "loss"], "--prune-metric must be")):
        bad = runner.invoke(cli, ["sweep", str(spec), "--runs-dir", str(tmp_path / "r2"), *args])
        assert bad.exit_code == 2 and words in bad.output and len(bad.output.splitlines()) == 1, bad.output
    resumed = runner.invoke(cli, ["sweep", "--resume", str(tmp_path), "--prune", "median"])
    assert resumed.exit_code == 2 and "--resume keeps the sweep's own pruning" in resumed.output


def test_a_pruned_sweep_submits_its_trials_in_a_seeded_shuffle(tmp_path):
    from mlrun.sweeps.plan import submission_order

    order = submission_order(list(range(12)), 12, seed=0)
    assert sorted(order) == list(range(12)) and order != list(range(12))
    assert order == [int(i) for i in np.random.default_rng([0x5357, 0]).permutation(12)]
    assert submission_order([1, 5, 7, 11], 12, seed=0) == [i for i in order if i in (1, 5, 7, 11)]  # --resume
    assert submission_order(list(range(12)), 12, seed=1) != order
    res = sweep_api(MOONS, grid={"optimizer.learning_rate": RATES}, seeds=2, jobs=1, runs_dir=tmp_path,
                    prune="asha")
    arrivals = list(read_json(res.path / "sweep.json")["pruning"]["rungs"]["1"])
    assert arrivals == [res.trials[i].key for i in order]  # one worker: rung 1 sees them in submission order
