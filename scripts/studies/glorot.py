"""Glorot & Bengio (2010)'s Table 1 and Figure 2: logistic / tanh / softsign x standard / Glorot init
through five hidden layers; the top hidden layer's mean activation over the first epochs, and test error."""

from __future__ import annotations

import statistics

from studies import analysis as A

MINUTES = 3
SPEC = "glorot.yaml"
ACTIVATIONS = ["sigmoid", "tanh", "softsign"]
INITS = {"standard_uniform": "standard", "glorot_uniform": "Glorot"}
TOP = 5  # the top hidden layer
EPOCHS_SHOWN = [0, 1, 2, 5, 10, 20]
HIGH = 1.0  # the grid's highest rate: the one at which the logistic network's top layer saturates


def run(ctx) -> None:
    ctx.sweep(SPEC)


def _arm(t):
    return (t.value("data.dataset"), t.value("model.activation"), t.value("model.initializer"))


def top_means(choice) -> dict:
    """{epoch: [the top hidden layer's mean activation, per seed]} of an arm at its chosen rate."""
    out: dict = {}
    for t in choice.by_seed.values():
        diag = A.read_diagnostics(t.run)
        for (epoch, layer, q), v in diag.items():
            if layer == TOP and q == "act_mean":
                out.setdefault(epoch, []).append(v)
    return out


def figure(ctx, chosen: dict, datasets: list, trials: list) -> str:
    plt = A.pyplot()

    path, link = ctx.figure("glorot_saturation.png")
    fig, axes = plt.subplots(1, len(datasets), figsize=(10, 4.4), sharey=True, squeeze=False)
    axes = list(axes[0])
    for ax, dataset in zip(axes, datasets):
        for act, colour in zip(ACTIVATIONS, ["C0", "C1", "C2"]):
            for init, style in zip(INITS, ["--", "-"]):
                means = top_means(chosen[(dataset, act, init)])
                epochs = sorted(means)
                ax.plot(epochs, [statistics.fmean(means[e]) for e in epochs], style, color=colour,
                        label=f"{act}, {INITS[init]}, best lr")
        for init, style in zip(INITS, ["--", "-"]):  # where the logistic saturates: the highest rate
            group = [t for t in trials if _arm(t) == (dataset, "sigmoid", init) and t.value(A.LR) == HIGH]
            means = top_means(A.Choice(HIGH, {t.seed: t for t in group}, 0.0))
            epochs = sorted(means)
            ax.plot(epochs, [statistics.fmean(means[e]) for e in epochs], style, color="C3",
                    label=f"sigmoid, {INITS[init]}, lr {HIGH:g}")
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_title(f"{dataset}: top hidden layer (5 of 5)", fontsize=9)
        ax.set_xlabel("epoch (0 = initialisation)")
    axes[0].set_ylabel("mean activation (probe batch, 5 seeds)")
    A.save_figure(fig, path, legend_from=axes[0], ncol=4, fontsize=7, legend_room=0.14)
    return link


def section(ctx) -> str:
    trials = A.load_trials(ctx.latest(SPEC))
    chosen = A.arms(trials, _arm, "validation.accuracy")
    datasets = sorted({k[0] for k in chosen}, key=["mnist1d", "digits"].index)
    link = figure(ctx, chosen, datasets, trials)
    lines = [
        "## Glorot & Bengio's saturation: standard vs Glorot initialisation (issue 15)", "",
        "> this is mostly caused by activation functions (logistic sigmoid) and the weight initialization "
        "techniques (i.e., a normal distribution with a mean of 0 and a standard deviation of 1) [...] "
        "Glorot initialization [...] variance of the outputs of each layer to be equal to the variance of "
        "its inputs (the note, after Glorot & Bengio 2010)", "",
        "Five hidden layers of 64 units, plain SGD, batch 32, 20 epochs; each activation × initializer",
        "keeps its own best learning rate from {0.03, 0.1, 0.3, 1} (mean validation accuracy over 5",
        "seeds). *standard* is the paper's U[−1/√fan_in, 1/√fan_in] (`standard_uniform`); *Glorot* is",
        "`glorot_uniform`. The mean activation of the top hidden layer comes from each run's",
        "`diagnostics.csv` (probe batch of 256 training rows), averaged over the 5 seeds; test error is",
        "1 − accuracy. Differences are Glorot minus standard, paired by seed.", "",
        f"Run time: {ctx.measured()}. Tables: `python scripts/study_all.py --only glorot --table-only`.",
        "",
    ]
    verdicts = {}
    for dataset in datasets:
        lines += [f"**{dataset}**", "",
                  "| activation | init | best lr | test error | top layer mean activation at epochs "
                  + ", ".join(map(str, EPOCHS_SHOWN))
                  + " | top layer saturated (end) | minus standard, test accuracy |",
                  "|---|---|---:|---|---|---:|---|"]
        for act in ACTIVATIONS:
            tests = {}
            for init in INITS:
                c = chosen[(dataset, act, init)]
                tests[init] = A.test_values(c, "test.accuracy")
                means = top_means(c)
                trace = " → ".join(f"{statistics.fmean(means[e]):.2f}" for e in EPOCHS_SHOWN if e in means)
                sat = [A.read_diagnostics(t.run).get((max(means), TOP, "saturated")) for t in c.by_seed.values()]
                diff = A.paired(tests[init], tests["standard_uniform"]) if init != "standard_uniform" else None
                if diff:
                    verdicts[(dataset, act, init)] = A.verdict(diff)
                error = A.mean_std([1 - v for v in tests[init].values()])
                lines.append(f"| {act} | {INITS[init]} | {c.lr:g} | {error} "
                             f"| {trace} | {A.mean_std(sat, 2)} | {diff.text() if diff else ''} |")
        lines.append("")
    lines += _logistic_by_rate(trials, datasets)
    lines += [f"![Top hidden layer's mean activation over the epochs]({link})", ""]
    lines += _verdict_text(chosen, datasets, verdicts, trials)
    return "\n".join(lines)


def _lowest(trials) -> tuple[str, str]:
    """The top layer's lowest mean activation (mean over seeds) and the epoch it is reached."""
    means: dict = {}
    for t in trials:
        for (epoch, layer, q), v in A.read_diagnostics(t.run).items():
            if layer == TOP and q == "act_mean":
                means.setdefault(epoch, []).append(v)
    if not means:
        return "-", "-"
    epoch = min(means, key=lambda e: statistics.fmean(means[e]))
    return f"{statistics.fmean(means[epoch]):.2f}", str(epoch)


def _logistic_by_rate(trials, datasets) -> list[str]:
    """The logistic network at every rate: how low the top hidden layer is driven, and the outcome."""
    lines = ["**The logistic network at every rate** (top hidden layer's lowest mean activation over the "
             "20 epochs, the epoch of that low, test accuracy; mean over 5 seeds)", "",
             "| dataset | lr | " + " | ".join(f"{INITS[i]}: lowest (epoch), test acc" for i in INITS) + " |",
             "|---|---:|" + "---|" * len(INITS)]
    for dataset in datasets:
        for lr in sorted({t.value(A.LR) for t in trials}):
            cells = []
            for init in INITS:
                group = [t for t in trials if _arm(t) == (dataset, "sigmoid", init) and t.value(A.LR) == lr]
                low, epoch = _lowest(group)
                acc = [t.metrics.get("test.accuracy") if t.status == "completed" else 0.0 for t in group]
                cells.append(f"{low} ({epoch}), {A.mean_std(acc, 3)}")
            lines.append(f"| {dataset} | {lr:g} | " + " | ".join(cells) + " |")
    return lines + [""]


def _verdict_text(chosen, datasets, verdicts, trials) -> list[str]:
    out = ["**Verdicts.**", ""]
    for dataset in datasets:
        lows = {}
        for init in INITS:
            group = [t for t in trials if _arm(t) == (dataset, "sigmoid", init) and t.value(A.LR) == HIGH]
            lows[init] = float(_lowest(group)[0])
        best = max(statistics.fmean(A.test_values(chosen[(dataset, "sigmoid", i)], "test.accuracy").values())
                   for i in INITS)
        out.append(f"- {dataset}, the logistic network: its top hidden layer is driven towards 0 (Glorot's "
                   f"saturation) at the higher rates, down to {lows['standard_uniform']:.2f} with standard init and "
                   f"{lows['glorot_uniform']:.2f} with Glorot init at lr {HIGH:g}: the saturation **holds**, but "
                   "Glorot init does **not** prevent it here; and with either init the network learns nothing in "
                   f"20 epochs (best test accuracy {best:.3f}, chance is 0.100).")
        for act in ACTIVATIONS:
            for init in ("glorot_uniform",):
                out.append(f"- {dataset}, {act}: {INITS[init]} init beats standard init on test accuracy: "
                           f"**{verdicts[(dataset, act, init)]}**.")
    out += ["", "Caveats: 64 units per layer, not the paper's 1000; 20 epochs, not hundreds; batch 32, not 10;"
            " each arm's best rate is picked from a 4-point grid; the note's N(0, 1) initialisation of a logistic"
            " network is an arm of claim 12's study."]
    return out
