"""The network against every classic classifier (issue 18), and native vs one-vs-rest vs one-vs-one
for logistic regression and the SVMs: accuracy, fit time, binary models fitted."""

from __future__ import annotations

import statistics

from studies import analysis as A

MINUTES = 4
DATASETS = ["digits", "breast_cancer", "mnist1d"]
SPEC = "baselines.yaml"
BASELINES = [
    "logistic_regression", {"name": "logistic_regression", "multiclass": "ovr"},
    {"name": "logistic_regression", "multiclass": "ovo"},
    "linear_svm", {"name": "linear_svm", "multiclass": "ovo"},
    "svm", {"name": "svm", "multiclass": "ovr"},
    "sgd", "random_forest", "naive_bayes", "knn",
]
ONE_RATE = {"method": "grid", "seeds": 5, "parameters": {"data.dataset": DATASETS}}  # at the spec's rate
STRATEGIES = ["logistic_regression", "linear_svm", "svm"]


def run(ctx) -> None:
    ctx.sweep(SPEC, changes={"baselines": BASELINES, "sweep": ONE_RATE})  # the baselines, once per seed
    ctx.sweep(SPEC, variant="net")  # the network alone over its rate grid


def _baselines(trials, dataset) -> dict:
    """{label: {"test": {seed: acc}, "val": [...], "seconds": [...], "info": {...}}} for one dataset."""
    out: dict = {}
    for t in trials:
        if t.value("data.dataset") != dataset:
            continue
        scores = A.read_json(t.run, "metrics.json").get("baselines", {})
        info = A.read_json(t.run, "run.json").get("baselines", {})
        for label, splits in scores.items():
            row = out.setdefault(label, {"test": {}, "val": [], "seconds": [], "info": info.get(label, {})})
            row["test"][t.seed] = splits["test"]["accuracy"]
            row["val"].append(splits["validation"]["accuracy"])
            row["seconds"].append(info.get(label, {}).get("fit_seconds"))
    return out


def section(ctx) -> str:
    base = A.load_trials(ctx.latest(SPEC))
    net = A.load_trials(ctx.latest(SPEC, "net"))
    nets = A.arms(net, lambda t: t.value("data.dataset"), "validation.accuracy")
    lines = [
        "## The network against classic classifiers; native, one-vs-rest and one-vs-one (issue 18)", "",
        "> Some algorithms (such as SGD classifiers, Random Forest classifiers, and naive Bayes classifiers) "
        "are capable of handling multiple classes natively. Others (such as Logistic Regression or Support "
        "Vector Machine classifiers) are strictly binary classifiers. (the note)", "",
        "`configs/studies/baselines.yaml`: digits, breast_cancer and MNIST-1D (5000 rows), 5 seeds; every",
        "baseline is scikit-learn's own estimator at its defaults, fitted on the network's training split and",
        "scaling of that seed. The network (2 × 64 ELU, Nadam, 30 epochs) is at its best rate from",
        "{3e-4, 1e-3, 3e-3, 1e-2} by mean validation accuracy. Differences are paired by seed (baseline minus",
        "network). Fit times are single fits on 2 shared cores: read them as ratios within a row group.", "",
        f"Run time: {ctx.measured()}.", "",
    ]
    beaten = {}
    for dataset in DATASETS:
        if dataset not in nets:
            continue
        choice = nets[dataset]
        net_test = A.test_values(choice, "test.accuracy")
        rows = _baselines(base, dataset)
        lines += [f"**{dataset}** (network at lr {choice.lr:g}: test accuracy {A.mean_std(net_test.values())})", "",
                  "| model | strategy | binary models | test accuracy | minus the network, by seed "
                  "| fit seconds (median) |",
                  "|---|---|---:|---|---|---:|"]
        ranked = sorted(rows.items(), key=lambda kv: -statistics.fmean(kv[1]["test"].values()))
        for label, row in ranked:
            diff = A.paired(row["test"], net_test)
            beaten[(dataset, label)] = A.verdict(diff)
            info = row["info"]
            secs = [s for s in row["seconds"] if s is not None]
            lines.append(f"| {label} | {info.get('multiclass', '-')} | {info.get('binary_models', '-')} "
                         f"| {A.mean_std(row['test'].values())} | {diff.text()} "
                         f"| {statistics.median(secs):.3f} |" if secs else "| - |")
        lines.append("")
    lines += _verdicts(base, beaten)
    return "\n".join(lines)


def _verdicts(base, beaten) -> list[str]:
    out = ["**Verdicts.**", ""]
    for dataset in DATASETS:
        better = [lab for (d, lab), v in beaten.items() if d == dataset and v == "holds"]
        worse = [lab for (d, lab), v in beaten.items() if d == dataset and v == "does not hold here"]
        out.append(f"- {dataset}: baselines significantly better than the network: {', '.join(better) or 'none'}; "
                   f"significantly worse: {', '.join(worse) or 'none'}; the rest cannot be told apart from it.")
    out += ["", "**Native, one-vs-rest, one-vs-one** (multi-class datasets; on breast_cancer every strategy is "
            "one binary model and scores the same)", "",
            "| model | dataset | strategy | binary models | test accuracy | minus native, by seed "
            "| fit time / native |",
            "|---|---|---|---:|---|---|---:|"]
    better = []
    for model in STRATEGIES:
        for dataset in ("digits", "mnist1d"):
            rows = _baselines(base, dataset)
            variants = {lab: r for lab, r in rows.items() if lab == model or lab.startswith(model + "_o")}
            if model not in variants:
                continue
            native = variants[model]
            t0 = statistics.median(native["seconds"])
            for lab, r in variants.items():
                d = A.paired(r["test"], native["test"])
                word = {"holds": "better", "does not hold here": "worse"}.get(A.verdict(d), "same")
                if lab != model and word == "better":
                    better.append(f"{lab} on {dataset}")
                out.append(f"| {model} | {dataset} | {r['info'].get('multiclass')} | {r['info'].get('binary_models')} "
                           f"| {A.mean_std(r['test'].values())} | {'' if lab == model else d.text() + ', ' + word} "
                           f"| {statistics.median(r['seconds']) / t0:.1f}× |")
    out += ["", "scikit-learn's `native` differs by estimator: LogisticRegression is multinomial (one softmax "
            "model, 0 binary models), LinearSVC is one-vs-rest inside (k models), SVC is one-vs-one inside "
            f"(k(k−1)/2 models). A strategy significantly better than native: {', '.join(better) or 'none'}.", ""]
    out += ["What the distinction changes in practice: on two classes nothing (one model whatever the "
            "strategy). With k classes the strategy is a choice of model, not a formality: one-vs-one fits "
            "k(k−1)/2 models (45 for 10 classes) on pairs of classes, one-vs-rest k models on all rows, and "
            "the table shows what each costs and buys here. The note's \"strictly binary\" does not hold for "
            "scikit-learn's logistic regression, which is multinomial natively.",
            "", "Caveats: default hyper-parameters for every baseline (none tuned), the network tuned on its "
            "rate only; fit times on shared cores are noisy."]
    return out
