"""The one-cycle study of configs/studies/one_cycle.yaml: range tests, trainings, a Markdown table.

The YAML is the base spec; its ``sweep:`` section gives the datasets (``data.dataset``) and the number
of seeds. For each dataset and seed, ``mlrun.lr_find`` on the base spec gives the ``minimum``
suggestion m. Each arm (ARMS below) then trains with its schedule and its learning rate as a multiple
of m (or with ``max_lr: auto``). Reported per arm: mean ± sample std over seeds of the test accuracy
and of the epochs needed to reach REACH x the final validation accuracy. Writes
runs/studies/one_cycle/results.{json,md}.

    python scripts/study_one_cycle.py [configs/studies/one_cycle.yaml] [--runs-dir runs/studies/one_cycle]
                                      [--table-only]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

import mlrun

LR_FIND = {"start": 1e-5, "end": 10.0, "steps": 500, "rule": "minimum"}
REACH = 0.95  # "epochs to 95%": first epoch whose val accuracy >= 0.95 x the run's final one
ARMS = {  # label: schedule, and the learning rate as a multiple of the minimum suggestion
    "constant @ minimum": {"schedule": "constant", "optimizer.learning_rate": 1},
    "1cycle max_lr auto": {"schedule": {"name": "one_cycle", "max_lr": "auto"}},
    "1cycle @ 3x minimum": {"schedule": "one_cycle", "schedule.max_lr": 3},
    "1cycle @ 10x minimum": {"schedule": "one_cycle", "schedule.max_lr": 10},
}


def load_study(path) -> dict:
    """The base spec (validated) and the study's grid: datasets, seeds, arms."""
    cfg = mlrun.load_config(path)
    base = cfg.to_dict()
    sweep = base.pop("sweep") or {}
    datasets = (sweep.get("parameters") or {}).get("data.dataset", [base["data"]["dataset"]])
    datasets = datasets["values"] if isinstance(datasets, dict) else datasets
    seeds = list(range(cfg.seed, cfg.seed + int(sweep.get("seeds") or 1)))
    return {"name": cfg.name, "spec": base, "datasets": list(datasets), "seeds": seeds, "arms": ARMS,
            "lr_find": LR_FIND, "reach": REACH}


def arm_spec(base: dict, arm: dict, lr_min: float) -> dict:
    """The base spec with an arm's schedule, multiples of the minimum suggestion turned into rates."""
    spec = copy.deepcopy(base)
    schedule = arm["schedule"]
    spec["schedule"] = dict(schedule) if isinstance(schedule, dict) else {"name": schedule}
    for key in ("optimizer.learning_rate", "schedule.max_lr"):
        if key in arm:
            section, name = key.split(".")
            spec[section][name] = float(arm[key]) * lr_min
    return spec


def peak_lr(spec: dict, resolved: dict) -> float:
    """The rate an arm trained at: its 1cycle peak (given, or resolved from auto), else its constant."""
    if spec["schedule"]["name"] == "one_cycle":
        return float(resolved.get("max_lr") or spec["schedule"]["max_lr"])
    return float(spec["optimizer"]["learning_rate"])


def epochs_to_reach(history: list[dict], fraction: float) -> int:
    """First epoch whose validation accuracy is at least ``fraction`` of the last epoch's."""
    acc = [row["val_accuracy"] for row in history]
    return next(row["epoch"] for row, a in zip(history, acc) if a >= fraction * acc[-1])


def run_study(study: dict, runs_dir: Path) -> list[dict]:
    rows = []
    finder = study["lr_find"]
    for dataset in study["datasets"]:
        for seed in study["seeds"]:
            base = copy.deepcopy(study["spec"])
            base.update(name=f"{study['name']}-{dataset}", seed=seed, data={"dataset": dataset})
            res = mlrun.lr_find(base, start=finder["start"], end=finder["end"], steps=finder["steps"],
                                runs_dir=runs_dir / dataset, rule=finder["rule"])
            for label, arm in study["arms"].items():
                spec = arm_spec(base, arm, res.suggestion)
                run = mlrun.train(spec, runs_dir=runs_dir / dataset)
                rows.append({"dataset": dataset, "seed": seed, "arm": label, "lr_minimum": res.suggestion,
                             "lr": peak_lr(spec, run.resolved), "status": run.status,
                             "test_accuracy": run.metrics["test"]["accuracy"],
                             "epochs_to_reach": epochs_to_reach(run.history, study["reach"]),
                             "run": str(run.path)})
                print(f"{dataset:14} seed {seed}  {label:22} test acc {rows[-1]['test_accuracy']:.4f}  "
                      f"epochs to {study['reach']:.0%}: {rows[-1]['epochs_to_reach']:2}", flush=True)
    return rows


def _mean_std(values: list[float], digits: int) -> str:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.{digits}f} ± {std:.{digits}f}"


def markdown(study: dict, rows: list[dict]) -> str:
    reach = f"{study['reach']:.0%}"
    lines = [f"| dataset | schedule | test accuracy | epochs to {reach} of final val accuracy "
             "| lr or peak lr (median) | diverged |", "|---|---|---|---|---|---|"]
    for dataset in study["datasets"]:
        for label in study["arms"]:
            group = [r for r in rows if r["dataset"] == dataset and r["arm"] == label]
            lrs = [r["lr"] for r in group]
            acc = _mean_std([r["test_accuracy"] for r in group], 4)
            epochs = _mean_std([r["epochs_to_reach"] for r in group], 1)
            bad = sum(r["status"] != "completed" for r in group)
            lines.append(f"| {dataset} | {label} | {acc} | {epochs} | {statistics.median(lrs):.3g} "
                         f"| {bad}/{len(group)} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", nargs="?", default="configs/studies/one_cycle.yaml")
    parser.add_argument("--runs-dir", default="runs/studies/one_cycle")
    parser.add_argument("--table-only", action="store_true", help="Re-render the table from results.json.")
    args = parser.parse_args()
    study = load_study(args.study)
    runs_dir = Path(args.runs_dir)
    if args.table_only:
        print(markdown(study, json.loads((runs_dir / "results.json").read_text())))
        return
    started = time.time()
    rows = run_study(study, runs_dir)
    table = markdown(study, rows)
    runs_dir.mkdir(parents=True, exist_ok=True)
    (runs_dir / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    (runs_dir / "results.md").write_text(table)
    epochs = study["spec"]["training"]["epochs"]
    print(f"\n{len(rows)} trainings in {time.time() - started:.0f} s "
          f"(mean ± sample std over seeds {study['seeds']}; {epochs} epochs each)\n")
    print(table)


if __name__ == "__main__":
    main()
