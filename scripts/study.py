"""`make study`: do the note's activation and optimizer rankings hold? Run both studies, print tables.

    python scripts/study.py [--jobs J] [--runs-dir runs/studies]     # run the sweeps, then report
    python scripts/study.py --report runs/studies/study-*/            # report on finished sweeps only

Fair learning rates: every activation / optimizer gets the same learning-rate grid (in the study
spec) and keeps its own best rate, the one with the best mean validation accuracy over the seeds.
The tables give the test accuracy (mean ± std over the seeds) at that rate; the test split never
chooses anything. A diverged seed counts as accuracy 0 when the rate is chosen.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ACTIVATION_CLAIM = ["selu", "elu", "leaky_relu", "relu", "tanh", "sigmoid"]
OPTIMIZER_CLAIM = ["rmsprop", "nadam", "adamax", "adam", "nesterov", "momentum", "sgd", "gd"]


def progress(event, result, trial=None) -> None:
    if event == "start":
        print(f"{result.name}: {len(result.to_run)} trials on {result.executor} -> {result.path}", flush=True)
    elif event == "trial":
        done = sum(t.status != "pending" for t in result.trials)
        if trial.status == "failed":
            print(f"  failed {trial.key}: {trial.error}", flush=True)
        elif done % 25 == 0 or done == len(result.trials):
            print(f"  {done}/{len(result.trials)} done", flush=True)


def run_studies(jobs: int | None, runs_dir: str) -> list[Path]:
    from mlrun.sweeps.driver import sweep

    studies = [
        (ROOT / "configs/studies/activations.yaml", None),
        (ROOT / "configs/studies/optimizers.yaml", None),
        # GD = full-batch sgd, on the same rate grid, data, network and epochs
        (ROOT / "configs/studies/optimizers.yaml", ["optimizer={name: sgd}", "training.batch_size=full"]),
    ]
    paths = []
    for spec, grid in studies:
        started = time.time()
        result = sweep(spec, grid=grid, jobs=jobs, runs_dir=runs_dir, on_event=progress,
                       command=["scripts/study.py"])
        print(f"  {result.counts} in {time.time() - started:.0f} s", flush=True)
        paths.append(result.path)
    return paths


# -- analysis over sweep.json manifests ----------------------------------------------------------------
def _part_name(text: str) -> str:
    from mlrun.spec.yaml_text import parse_yaml

    value = parse_yaml(text, "override")
    return value["name"] if isinstance(value, dict) else value


def factor(overrides: dict) -> tuple[str, str] | None:
    """(study, setting) of a trial: the activation, or the optimizer (full-batch sgd is "gd")."""
    if "model.activation" in overrides:
        return "activations", _part_name(overrides["model.activation"])
    if "optimizer" in overrides:
        name = _part_name(overrides["optimizer"])
        full = overrides.get("training.batch_size") == "full"
        return "optimizers", "gd" if full and name == "sgd" else name
    return None


def collect(paths) -> dict:
    """{(study, dataset): {setting: {lr: [(val, test, status), ...]}}} from the sweeps' manifests."""
    from mlrun.sweeps.records import load_manifest

    table: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for path in paths:
        for trial in load_manifest(path)["trials"].values():
            overrides = dict(o.split("=", 1) for o in trial["overrides"])
            found = factor(overrides)
            if found is None or trial["status"] not in ("completed", "diverged"):
                continue
            m = trial["metrics"]
            lr = float(overrides.get("optimizer.learning_rate", "nan"))
            table[(found[0], overrides.get("data.dataset", "?"))][found[1]][lr].append(
                (m.get("validation.accuracy"), m.get("test.accuracy"), trial["status"]))
    return table


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def best_rate(by_lr: dict) -> tuple[float, list]:
    """The rate with the best mean validation accuracy (diverged or missing counts 0) and its seeds."""
    def score(lr):
        return statistics.fmean([0.0 if s == "diverged" or v is None else v for v, _, s in by_lr[lr]])

    lr = max(sorted(by_lr), key=score)
    return lr, by_lr[lr]


def ranking(settings: dict) -> list[dict]:
    rows = []
    for name, by_lr in settings.items():
        lr, seeds = best_rate(by_lr)
        tests = [0.0 if s == "diverged" or t is None else t for _, t, s in seeds]
        mean, std = _mean_std(tests)
        rows.append({"setting": name, "lr": lr, "mean": mean, "std": std, "n": len(seeds),
                     "diverged": sum(s == "diverged" for *_, s in seeds)})
    rows.sort(key=lambda r: -r["mean"])
    return rows


def markdown(study: str, dataset: str, rows: list[dict]) -> str:
    claim = ACTIVATION_CLAIM if study == "activations" else OPTIMIZER_CLAIM
    lines = [f"**{study}, {dataset}** (test accuracy, mean ± std over {rows[0]['n']} seeds, at each "
             "setting's best learning rate by validation)", "",
             "| measured rank | note's rank | setting | best lr | test accuracy | diverged seeds |",
             "|---:|---:|---|---:|---|---:|"]
    for i, r in enumerate(rows, 1):
        noted = claim.index(r["setting"]) + 1 if r["setting"] in claim else "-"
        lines.append(f"| {i} | {noted} | {r['setting']} | {r['lr']:g} | {r['mean']:.4f} ± {r['std']:.4f} "
                     f"| {r['diverged']} |")
    ranked = [r["setting"] for r in rows if r["setting"] in claim]
    if len(ranked) > 2:
        from scipy.stats import spearmanr

        rho = spearmanr(range(len(ranked)), [claim.index(s) for s in ranked]).statistic
        lines += ["", f"Spearman rank correlation with the note's order: {rho:+.2f}"]
    return "\n".join(lines)


def report(paths) -> str:
    table = collect(paths)
    parts = [markdown(study, dataset, ranking(table[(study, dataset)]))
             for study, dataset in sorted(table)]
    return "\n\n".join(parts) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: the cores)")
    parser.add_argument("--runs-dir", default="runs/studies")
    parser.add_argument("--report", nargs="+", metavar="SWEEP_DIR", help="only report on these sweeps")
    parser.add_argument("--out", default=None, help="also write the tables here (default: RUNS_DIR/study.md)")
    args = parser.parse_args(argv)
    paths = args.report or run_studies(args.jobs, args.runs_dir)
    text = report(paths)
    out = Path(args.out or Path(args.runs_dir) / "study.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)
    print(f"tables written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
