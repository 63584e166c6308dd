"""SELU's self-normalisation through 10-30 layers: per-layer activation std near 1 with SELU + LeCun
normal + standardised inputs, and what happens when one precondition is broken."""

from __future__ import annotations

import math
import statistics

from studies import analysis as A

MINUTES = 4
SPEC = "selu.yaml"
ARMS = {  # variant: (label, the changes that break one precondition)
    "ok": ("SELU + LeCun normal + standardised inputs", {}),
    "minmax": ("inputs min-max scaled to [0, 1]", {"data.scale": "minmax"}),
    "raw": ("inputs not scaled", {"data.scale": "none"}),
    "he": ("He normal init", {"model.initializer": "he_normal"}),
    "glorot": ("Glorot uniform init", {"model.initializer": "glorot_uniform"}),
    "batchnorm": ("batch norm on", {"model.batch_norm": True}),
}
NEAR = (0.8, 1.25)  # "near 1": every hidden layer's std within this band


def run(ctx) -> None:
    for variant, (_, changes) in ARMS.items():
        ctx.sweep(SPEC, variant=variant, changes=changes)


def stds(trials, depth: int, epoch: int) -> dict:
    """{layer: [act_std per seed]} at ``epoch`` for the trials of one depth."""
    out: dict = {}
    for t in trials:
        if t.value("model.hidden_layers") != depth:
            continue
        diag = A.read_diagnostics(t.run)
        last = max((e for e, _, _ in diag), default=0)
        for layer in range(1, depth + 1):
            v = diag.get((last if epoch < 0 else epoch, layer, "act_std"))
            if v is not None:
                out.setdefault(layer, []).append(v)
    return out


def _summary(per_layer: dict) -> tuple[str, bool]:
    means = [statistics.fmean(v) for _, v in sorted(per_layer.items())]
    if not means:
        return "-", False
    inside = all(NEAR[0] <= m <= NEAR[1] for m in means if math.isfinite(m))
    text = f"{means[0]:.2f} / {means[len(means) // 2]:.2f} / {means[-1]:.2f} ({min(means):.2f}–{max(means):.2f})"
    return text, inside


def figure(ctx, by_arm: dict) -> str:
    plt = A.pyplot()

    path, link = ctx.figure("selu_std.png")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4), sharey=True)
    for ax, (epoch, when) in zip(axes, [(0, "at initialisation"), (-1, "after 5 epochs")]):
        for variant, trials in by_arm.items():
            s = stds(trials, 30, epoch)
            layers = sorted(s)
            ax.plot(layers, [statistics.fmean(s[k]) for k in layers], marker=".", label=ARMS[variant][0])
        ax.axhspan(*NEAR, color="grey", alpha=0.15)
        ax.set_yscale("log")
        ax.set_xlabel("hidden layer (30 layers)")
        ax.set_title(f"activation std per layer, {when}")
    axes[0].set_ylabel("std on the probe batch (mean of 5 seeds)")
    A.save_figure(fig, path, legend_from=axes[0], ncol=3, fontsize=8, legend_room=0.12)
    return link


def section(ctx) -> str:
    by_arm = {v: A.load_trials(ctx.latest(SPEC, v)) for v in ARMS}
    link = figure(ctx, by_arm)
    lines = [
        "## SELU's self-normalisation, and its conditions (issue 15)", "",
        "> network will self-normalize: the output of each layer will tend to preserve a mean of 0 and "
        "standard deviation of 1 during training only if: input features must be standardized (mean 0 and "
        "standard deviation 1); LeCun normal initialization is done; network’s architecture must be "
        "sequential (the note)", "",
        "MNIST-1D (2000 rows), 10, 20 and 30 hidden layers of 64 SELU units, Nadam at 1e-3, batch 32,",
        "5 epochs, 5 seeds. Each arm breaks one precondition of the first row. The cells give the",
        "activation std of the first / middle / last hidden layer on the probe batch (mean over seeds),",
        f"and the range over all layers; *near 1* means every layer within {NEAR[0]}–{NEAR[1]}. A fixed",
        "learning rate for all arms: the claim is about the forward signal, not accuracy (test accuracy",
        "is shown for reference).", "",
        f"Run time: {ctx.measured()}.", "",
        "| arm | depth | std at init: first / mid / last (range) | near 1 | after 5 epochs | near 1 | test accuracy |",
        "|---|---:|---|---|---|---|---|",
    ]
    held, trained = {}, {}
    for variant, trials in by_arm.items():
        for depth in (10, 20, 30):
            init, ok0 = _summary(stds(trials, depth, 0))
            end, ok1 = _summary(stds(trials, depth, -1))
            held[(variant, depth)], trained[(variant, depth)] = ok0, ok1
            acc = [t.metrics.get("test.accuracy") for t in trials if t.value("model.hidden_layers") == depth]
            lines.append(f"| {ARMS[variant][0]} | {depth} | {init} | {'yes' if ok0 else 'no'} | {end} "
                         f"| {'yes' if ok1 else 'no'} | {A.mean_std(acc)} |")
    lines += ["", f"![Activation std per layer through 30 SELU layers]({link})", ""]
    ok_all = all(held[("ok", d)] for d in (10, 20, 30))
    broke = [ARMS[v][0] for v in ARMS if v != "ok" and not all(held[(v, d)] for d in (10, 20, 30))]
    kept = [ARMS[v][0] for v in ARMS if v != "ok" and all(held[(v, d)] for d in (10, 20, 30))]
    lines.append("**Verdict.** " + (
        "Self-normalisation with all three conditions met **holds**: every layer's std at initialisation "
        "stays near 1 through 30 layers." if ok_all else
        "Self-normalisation with all three conditions met **does not hold here**: some layer's std "
        "at initialisation leaves the band."))
    lines.append(f"Breaking a condition moved the std at initialisation out of the band for: "
                 f"{', '.join(broke) or 'none'}; it stayed near 1 for: {', '.join(kept) or 'none'}.")
    last = {v: statistics.fmean(stds(by_arm[v], 30, 0).get(30, [math.nan])) for v in ARMS}
    lines.append("At initialisation the last of 30 layers has std " + ", ".join(
        f"{last[v]:.2f} ({ARMS[v][0]})" for v in ARMS) + ": a wrong input scale is pulled back to the fixed "
        "point within about ten layers (SELU's attraction), a wrong weight variance is not.")
    ok_trained = all(trained[("ok", d)] for d in (10, 20, 30))
    lines.append("During training (the note's \"during training\"), with all conditions met the std "
                 + ("stays near 1 after 5 epochs: **holds**." if ok_trained else
                    "does not stay in the band after 5 epochs at this rate (see the table): **does not hold "
                    "here** for the trained network, which drifts upwards in the middle layers."))
    if held.get(("raw", 10)) and held.get(("ok", 10)):
        lines.append("Unscaled inputs behaving like standardised ones says MNIST-1D's raw features are already "
                     "close to mean 0 and std 1; min-max scaling (mean about 0.5) is the arm that breaks the "
                     "input condition.")
    lines += ["", "Caveats: the std is measured on 256 training rows, with the network in inference mode; at "
              "initialisation batch norm there still has its initial running statistics (mean 0, variance 1) and "
              "passes the signal through, so the batch-norm arm equals the first row at epoch 0; after training it "
              "re-standardises every layer by construction, which keeps the std near 1 without SELU's fixed point; "
              "plain dropout is not an arm because mlrun's short form turns dropout into alpha dropout for SELU."]
    return "\n".join(lines)
