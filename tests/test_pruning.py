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


def configuration(key: str) -> str:
    """A trial key's configuration (seed-aware pruning's unit): the key without its seed."""
    return key.rsplit("; seed=", 1)[0]


def check_pruned_sweep(res, eta=3) -> dict:
    """sweep.json's decisions replayed on its rung table of configurations; every seed of a pruned
    configuration pruned at the same rung with the same record, whose value is the seeds' mean."""
    man = read_json(res.path / "sweep.json")
    assert man["pruning"]["rule"] == "asha" and man["pruning"]["metric"] == "val_loss"
    pruned = {(configuration(k), t["pruning"]["rung"]) for k, t in man["trials"].items()
              if t["status"] == "pruned"}
    assert pruned and pruned == replay_asha(man["pruning"]["rungs"], eta)
    by_config: dict = {}
    for key, trial in man["trials"].items():
        by_config.setdefault(configuration(key), []).append((key, trial))
    for seeds in by_config.values():
        assert len({json.dumps(t.get("pruning"), sort_keys=True) for _, t in seeds}) == 1
        if seeds[0][1]["status"] == "pruned":
            rung = seeds[0][1]["pruning"]["rung"]
            losses = [read_history(res.path / t["run"] / "history.csv")[rung - 1]["val_loss"] for _, t in seeds]
            assert seeds[0][1]["pruning"]["value"] == pytest.approx(np.mean(losses), rel=1e-12)
            assert seeds[0][1]["pruning"]["seeds"] == len(seeds)
    for key, trial in man["trials"].items():
        info = read_json(res.path / trial["run"] / "run.json")
        rows = read_history(res.path / trial["run"] / "history.csv")
        if trial["status"] == "pruned":
            rung = trial["pruning"]["rung"]
            assert info["status"] == "pruned" and info["stop_reason"] == "pruned" and info["epochs"] == rung
            assert info["pruning"] == trial["pruning"] and len(rows) == rung
            assert trial["pruning"]["value"] == man["pruning"]["rungs"][str(rung)][configuration(key)]
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
    seeded = runner.invoke(cli, ["sweep", str(spec), "--grid", "optimizer.learning_rate=0.001,0.1", "--seeds", "2",
                                 "--prune", "asha", "-j", "1", "--runs-dir", str(tmp_path / "seeded")])
    assert seeded.exit_code == 0 and seeded.output.count("seeds) behind") == 2, seeded.output
    for args, words in ((["--prune", "asha", "--grace-period", "10"], "--grace-period must be in [1, 9]"),
                        (["--grace-period", "2"], "go with --prune") ,
                        (["--prune", "asha", "--prune-metric", "loss"], "--prune-metric must be")):
        bad = runner.invoke(cli, ["sweep", str(spec), "--runs-dir", str(tmp_path / "r2"), *args])
        assert bad.exit_code == 2 and words in bad.output and len(bad.output.splitlines()) == 1, bad.output
    resumed = runner.invoke(cli, ["sweep", "--resume", str(tmp_path), "--prune", "median"])
    assert resumed.exit_code == 2 and "--resume keeps the sweep's own pruning" in resumed.output


def test_a_pruned_sweep_submits_its_trials_in_a_seeded_shuffle(tmp_path):
    from mlrun.sweeps.plan import submission_order

    assert submission_order(list(range(6)), 6, seed=0, seeds=2) == \
        [p * 2 + j for p in np.random.default_rng([0x5357, 0]).permutation(3) for j in range(2)]
    order = submission_order(list(range(12)), 12, seed=0)
    assert sorted(order) == list(range(12)) and order != list(range(12))
    assert order == [int(i) for i in np.random.default_rng([0x5357, 0]).permutation(12)]
    assert submission_order([1, 5, 7, 11], 12, seed=0) == [i for i in order if i in (1, 5, 7, 11)]  # --resume
    assert submission_order(list(range(12)), 12, seed=1) != order
    res = sweep_api(MOONS, grid={"optimizer.learning_rate": RATES}, jobs=1, runs_dir=tmp_path,
                    prune="asha")
    arrivals = list(read_json(res.path / "sweep.json")["pruning"]["rungs"]["1"])
    order = submission_order(list(range(6)), 6, seed=0)
    assert arrivals == [res.trials[i].key for i in order]  # one worker: rung 1 sees them in submission order


# -- seed-aware pruning -------------------------------------------------------------------------------
def test_a_configuration_is_judged_on_the_mean_over_its_seeds():
    # eta 2: the cutoff is the median of the configurations recorded before; A = 0.3, B = 1.0, C = 0.2
    pruner = Pruner("asha", max_epochs=4, grace_period=1, reduction_factor=2)
    a = pruner.decide_group("A", [history({1: 0.2}), history({1: 0.4})], 1)
    b = pruner.decide_group("B", [history({1: 0.9}), history({1: 1.1})], 1)
    c = pruner.decide_group("C", [history({1: 0.1}), history({1: 0.3})], 1)
    assert (a.stop, b.stop, c.stop) == (False, True, False)
    assert pruner.rungs[1] == pytest.approx({"A": 0.3, "B": 1.0, "C": 0.2})
    assert b.to_dict() == pytest.approx({"rule": "asha", "rung": 1, "metric": "val_loss", "value": 1.0,
                                         "cutoff": 0.3, "seeds": 2})
    assert c.cutoff == pytest.approx(0.65)  # the median of 0.3 and 1.0


class _Outcome:
    def __init__(self, history, stop_reason, status="completed"):
        self.history, self.stop_reason, self.status = history, stop_reason, status
        self.epochs, self.advice = len(history), []


class TablePool:
    """A pool whose trials follow a table of losses (index -> per-epoch val_loss; None: diverged
    there), in submission order; it records what was submitted (index, epoch trained to)."""

    def __init__(self, losses: dict[int, list]) -> None:
        from collections import deque

        self.losses, self.calls, self.submitted = losses, deque(), []

    share = staticmethod(lambda text: text)

    def submit(self, fn, index, cfg, text, stop_at, resume=None):
        self.submitted.append((index, stop_at))
        self.calls.append((index, cfg.training.epochs, stop_at))

    def next_done(self):
        from mlrun.sweeps.segments import SegmentResult

        index, epochs, stop_at = self.calls.popleft()
        rows = [{"epoch": e, "val_loss": v} for e, v in enumerate(self.losses[index][:stop_at], 1)]
        if rows[-1]["val_loss"] is None:
            return SegmentResult(index, _Outcome(rows, "diverged", "diverged"), None)
        if stop_at < epochs:
            return SegmentResult(index, _Outcome(rows, "rung"), None, state=({"epoch": stop_at}, {}, {}))
        return SegmentResult(index, _Outcome(rows, None), None)

    def close(self):
        pass


def test_seeds_wait_for_each_other_at_a_rung_and_a_configuration_is_pruned_whole():
    from types import SimpleNamespace

    from mlrun.sweeps.segments import pruned_results

    # configurations A (trials 0, 1), B (2, 3), C (4, 5) x 2 seeds, 4 epochs, eta 2: rungs at 1 and 2.
    # A leads; B's mean at epoch 1 (1.0) is behind A's (0.3): pruned; C's seed 4 diverges at epoch 1,
    # so C is judged on seed 5 alone (0.2): kept.
    losses = {0: [0.2, 0.2, 0.1, 0.1], 1: [0.4, 0.3, 0.2, 0.2], 2: [0.9, 0.8, 0.7, 0.6],
              3: [1.1, 1.0, 0.9, 0.8], 4: [None], 5: [0.2, 0.1, 0.1, 0.1]}
    cfg = SimpleNamespace(training=SimpleNamespace(epochs=4))
    tasks = [(i, cfg, None) for i in range(6)]
    pool = TablePool(losses)
    pruner = Pruner("asha", max_epochs=4, grace_period=1, reduction_factor=2)
    groups = ["A", "A", "B", "B", "C", "C"]
    finals = list(pruned_results(tasks, [str(i) for i in range(6)], pool, 1, pruner, groups=groups))
    status = {r.index: r.outcome.status for r in finals}
    assert status == {0: "completed", 1: "completed", 2: "pruned", 3: "pruned", 4: "diverged", 5: "completed"}
    prunings = [r.pruning for r in finals if r.index in (2, 3)]
    assert prunings[0] == prunings[1] == pytest.approx(
        {"rule": "asha", "rung": 1, "metric": "val_loss", "value": 1.0, "cutoff": 0.3, "seeds": 2})
    assert all(len(r.outcome.history) == 1 for r in finals if r.index in (2, 3))
    assert "(mean of 2 seeds)" in next(r for r in finals if r.index == 2).outcome.advice[0]
    # seed 0 waits at epoch 1 for seed 1 before either goes on; continuations go first
    assert pool.submitted[:6] == [(0, 1), (1, 1), (0, 2), (1, 2), (0, 4), (1, 4)]
    assert pruner.rungs[1] == pytest.approx({"A": 0.3, "B": 1.0, "C": 0.2})
    assert pruner.rungs[2] == pytest.approx({"A": 0.25, "C": 0.1})
    assert pruner.completed["A"] == pytest.approx({1: 0.3, 2: 0.25})
