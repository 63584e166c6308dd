"""Dead ReLUs as the learning rate grows: each layer's dead fraction from diagnostics.csv, ReLU against
leaky ReLU (alpha 0.2), plain SGD over a rate grid."""

from __future__ import annotations

import statistics

from studies import analysis as A

MINUTES = 2
SPEC = "dead_relu.yaml"


def run(ctx) -> None:
    ctx.sweep(SPEC)


def dead(trial) -> tuple[float | None, float | None]:
    """(mean over layers, worst layer) of the dead fraction at the run's last measured epoch."""
    diag = A.read_diagnostics(trial.run)
    values = {layer: v for (e, layer, q), v in diag.items() if q == "dead"
              and e == max(ep for ep, _, qq in diag if qq == "dead")} if diag else {}
    if not values:
        return None, None
    return statistics.fmean(values.values()), max(values.values())


DYING = 0.05  # a layer mean above this counts as ReLUs dying


def _verdict(rates, curve) -> str:
    """Holds if the dead fraction rises with the rate; "only when" if it rises only at the top rates."""
    measured = [(lr, c) for lr, c in zip(rates, curve) if c == c]
    if len(measured) < 2:
        return "no measurements."
    dying = [lr for lr, c in measured if c > DYING]
    text = ", ".join(f"{c:.3f} at {lr:g}" for lr, c in measured)
    if not dying:
        return f"**Does not hold here**: the mean dead fraction stays under {DYING} at every rate ({text})."
    rising = all(b >= a for (_, a), (_, b) in zip(measured, measured[1:]))
    if rising:
        return f"**Holds**: the mean dead fraction rises with the rate ({text})."
    return (f"**Holds only when the rate is near divergence** (from {min(dying):g}): below it the mean dead "
            f"fraction stays under {DYING} and even falls as the rate grows ({text}).")


def section(ctx) -> str:
    trials = A.load_trials(ctx.latest(SPEC))
    rates = sorted({t.value(A.LR) for t in trials})
    lines = [
        "## Dead ReLUs as the learning rate grows (issue 15)", "",
        "> ReLU better than sigmoid function but suffers from dying ReLU where they only output 0, never "
        "activating that side of neural network (the note; Géron adds: especially with a large learning rate)", "",
        "MNIST-1D (2000 rows), 4 hidden layers of 64 units, He normal init, plain SGD, batch 32, 10",
        "epochs, 5 seeds per rate. *Dead* = the fraction of a layer's units that output 0 for every row",
        "of the probe batch (256 training rows), after the last epoch; mean over the layers and the worst",
        "layer, each the mean over seeds. Leaky ReLU (α 0.2) never outputs exactly 0, so its accuracy is",
        "the control. A diverged run counts as accuracy 0.", "",
        f"Run time: {ctx.measured()}.", "",
        "| learning rate | ReLU dead (mean of layers) | ReLU dead (worst layer) | ReLU test accuracy "
        "| leaky ReLU test accuracy | diverged (ReLU / leaky) |",
        "|---:|---|---|---|---|---|",
    ]
    curve = []
    for lr in rates:
        relu = [t for t in trials if t.value(A.LR) == lr and t.value("model.activation") == "relu"]
        leaky = [t for t in trials if t.value(A.LR) == lr and t.value("model.activation") != "relu"]
        d = [dead(t) for t in relu]
        mean_dead = [x for x, _ in d if x is not None]
        curve.append(statistics.fmean(mean_dead) if mean_dead else float("nan"))

        def acc(ts):
            return [t.metrics.get("test.accuracy") if t.status == "completed" else 0.0 for t in ts]

        lines.append(f"| {lr:g} | {A.mean_std(mean_dead, 3)} | {A.mean_std([y for _, y in d if y is not None], 3)} "
                     f"| {A.mean_std(acc(relu))} | {A.mean_std(acc(leaky))} "
                     f"| {sum(t.status == 'diverged' for t in relu)} / {sum(t.status == 'diverged' for t in leaky)} |")
    lines += ["", "**Verdict.** " + _verdict(rates, curve)]
    lines += [
        "", "Caveats: dead is judged on 256 probe rows (a unit alive on some other row counts as dead); "
        "a run that diverged has no last-epoch measurement."]
    return "\n".join(lines)
