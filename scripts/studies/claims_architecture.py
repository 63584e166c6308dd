"""Claims 1-3 of the note (issue 22): deep against shallow at equal parameters, equal widths against a
pyramid, adding layers against adding neurons. Each arm is a list of hidden widths on MNIST-1D."""

from __future__ import annotations

from studies import analysis as A

MINUTES = 4
SPEC = "architecture.yaml"
INPUTS, OUTPUTS = 40, 10  # MNIST-1D
ARMS = {  # variant: hidden widths; the groups below compare them at (about) equal parameter counts
    "d1": [196], "d2": [78, 78], "d4": [49, 49, 49, 49], "d8": [34] * 8,
    "equal3": [59, 59, 59], "pyramid": [96, 48, 24], "first2x": [88, 44, 44],
    "base": [64, 64], "deeper": [64, 64, 64, 64], "wider": [102, 102],
}
CLAIMS = [  # (claim number, the note's words, the arm that should win, the arm it should beat)
    (1, "deep networks have a much higher parameter efficiency than shallow ones", "d8", "d1"),
    (1, "", "d4", "d1"), (1, "", "d2", "d1"), (1, "", "d8", "d2"),
    (2, "the same number of neurons in all hidden layers performs just as well [as a pyramid] in most cases, "
        "or even better",
     "equal3", "pyramid"),
    (2, "it can sometimes help to make the first hidden layer bigger than the others", "first2x", "equal3"),
    (3, "better performance by increasing the number of layers instead of the number of neurons per layer",
     "deeper", "wider"),
    (3, "", "deeper", "base"), (3, "", "wider", "base"),
]


def n_params(widths: list[int]) -> int:
    sizes = [INPUTS, *widths, OUTPUTS]
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def run(ctx) -> None:
    for variant, widths in ARMS.items():
        ctx.sweep(SPEC, variant=variant, changes={"model.hidden_layers": len(widths), "model.neurons": widths})


def section(ctx) -> str:
    chosen = {v: A.best_rate(A.load_trials(ctx.latest(SPEC, v)), "validation.accuracy") for v in ARMS}
    tests = {v: A.test_values(c, "test.accuracy") for v, c in chosen.items()}
    lines = [
        "## Claims 1–3: depth, widths, layers against neurons (issue 22)", "",
        "> for complex problems, deep networks have a much higher parameter efficiency than shallow ones",
        ">",
        "> using the same number of neurons in all hidden layers performs just as well in most cases, or "
        "even better [...] depending on the dataset, it can sometimes help to make the first hidden layer "
        "bigger than the others.", ">",
        "> In general you will get better performance by increasing the number of layers instead of the "
        "number of neurons per layer. (the note)", "",
        "MNIST-1D (5000 rows), ELU with He init, Nadam, batch 32, 10 epochs, 5 seeds; each arm at its own",
        "best rate from {3e-3, 1e-2} by mean validation accuracy. The groups compare arms of about",
        "equal parameter count; for a dense network that is also equal compute (multiply-adds per example",
        "= weights), so claim 3 is answered at both. Differences are paired by seed.", "",
        f"Run time: {ctx.measured()}.", "",
        "| arm | hidden widths | parameters | best lr | test accuracy |", "|---|---|---:|---:|---|",
    ]
    for v, widths in ARMS.items():
        lines.append(f"| {v} | {'-'.join(map(str, widths))} | {n_params(widths)} | {chosen[v].lr:g} "
                     f"| {A.mean_std(tests[v].values())} |")
    lines += ["", "| claim | comparison | difference in test accuracy, by seed | verdict |", "|---:|---|---|---|"]
    verdicts: dict = {}
    for number, _, a, b in CLAIMS:
        d = A.paired(tests[a], tests[b])
        verdicts.setdefault(number, {})[f"{a} vs {b}"] = A.verdict(d)
        lines.append(f"| {number} | {a} − {b} | {d.text()} | {A.verdict(d)} |")
    lines += ["", "**Verdicts.**", ""]
    for number, words, a, b in CLAIMS:
        if words:
            lines.append(f"- Claim {number} (\"{words}\", {a} against {b}): **{verdicts[number][f'{a} vs {b}']}**.")
    lines += ["", "Caveats: one dataset, 10 epochs, a 2-point rate grid (deeper networks may need more), no "
              "regularisation; the widths are rounded so parameter counts differ by up to 4%."]
    return "\n".join(lines)
