"""Claim 13 of the note (issue 22): prefer the PR curve when the positive class is rare. ROC AUC and PR
AUC of the network and baselines as the positive class goes from 50% to 1%, beside a useless classifier."""

from __future__ import annotations

import csv
import statistics

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from studies import analysis as A

MINUTES = 2
SPEC = "pr_curve.yaml"


def run(ctx) -> None:
    ctx.sweep(SPEC)


def useless(run_dir, seed: int) -> tuple[float, float, float]:
    """(prevalence, ROC AUC, PR AUC) of random scores on the run's own test rows."""
    with (run_dir / "predictions.csv").open(newline="", encoding="utf-8") as f:
        y = np.array([r["y_true"] == "1" for r in csv.DictReader(f)])
    scores = np.random.default_rng(seed).random(len(y))
    return float(y.mean()), float(roc_auc_score(y, scores)), float(average_precision_score(y, scores))


def section(ctx) -> str:
    trials = A.load_trials(ctx.latest(SPEC))
    lines = [
        "## Claim 13: the PR curve when the positive class is rare (issue 22)", "",
        "> you should prefer the PR curve whenever the positive class is rare or when you care more about "
        "the false positives than the false negatives. Otherwise, use the ROC curve. (the note)", "",
        "`make_classification` (5000 rows, 20 features, 4 informative, 2% label noise) with the positive",
        "class at 50%, 10% and 1% of the rows; 5 seeds; a 2 × 32 ELU network (Nadam 1e-3, 20 epochs) and",
        "three baselines on the same split. *Useless* gives every test row a random score. Test split,",
        "mean ± std over seeds; PR AUC is average precision.", "",
        f"Run time: {ctx.measured()}.", "",
        "| positives | model | ROC AUC | PR AUC | precision | recall |", "|---:|---|---|---|---|---|",
    ]
    facts = {}
    for weights in sorted({tuple(t.value("data.params.weights")) for t in trials}):
        group = [t for t in trials if tuple(t.value("data.params.weights")) == weights]
        rand = [useless(t.run, t.seed) for t in group]
        share = f"{statistics.fmean(r[0] for r in rand):.1%}"
        rows = {"network": [A.read_json(t.run, "metrics.json")["test"] for t in group]}
        for t in group:
            for label, splits in A.read_json(t.run, "metrics.json").get("baselines", {}).items():
                rows.setdefault(label, []).append(splits["test"])
        for label, ms in rows.items():
            lines.append(f"| {share} | {label} | {A.mean_std([m['roc_auc'] for m in ms], 3)} "
                         f"| {A.mean_std([m['pr_auc'] for m in ms], 3)} "
                         f"| {A.mean_std([m['precision'] for m in ms], 3)} "
                         f"| {A.mean_std([m['recall'] for m in ms], 3)} |")
        lines.append(f"| {share} | useless (random scores) | {A.mean_std([r[1] for r in rand], 3)} "
                     f"| {A.mean_std([r[2] for r in rand], 3)} | - | - |")
        facts[share] = (statistics.fmean(m["roc_auc"] for m in rows["network"]),
                        statistics.fmean(m["pr_auc"] for m in rows["network"]),
                        statistics.fmean(r[0] for r in rand))
    rare = min(facts, key=lambda s: facts[s][2])
    roc, pr, prev = facts[rare]
    gap = {s: f[0] - f[1] for s, f in facts.items()}
    lines += ["", "**Verdict.** " + (
        f"**Holds.** With {rare} positives the network's ROC AUC is {roc:.3f} while its PR AUC is {pr:.3f}: the "
        f"gap between them grows as positives get rarer ({', '.join(f'{s}: {g:.3f}' for s, g in gap.items())}). "
        "For a useless classifier ROC AUC stays at 0.5 whatever the balance, so a ROC AUC of 0.9 says little "
        "about how many flagged rows are real; PR AUC falls to the positive share itself "
        f"({prev:.1%} here), which is the baseline a rare-class classifier must beat."
        if roc - pr > 0.2 else
        f"**Does not hold here**: with {rare} positives the network's ROC AUC ({roc:.3f}) and PR AUC ({pr:.3f}) "
        "tell the same story."),
        "", "Caveats: with 1% positives the test split holds about 10 positive rows, so PR AUC varies a lot "
        "by seed; one generator."]
    return "\n".join(lines)
