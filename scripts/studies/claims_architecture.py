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
    depth = {f"{len(ARMS[a])} layers": verdicts[1][f"{a} vs d1"] for a in ("d2", "d4", "d8")}
    tie = verdicts[2]["equal3 vs pyramid"]
    lines += ["", "**Verdicts.**", "",
              f"- Claim 1, deeper is more parameter-efficient (2, 4, 8 layers against 1 at ~10k parameters): "
              f"**{A.overall(depth)}** ({'; '.join(f'{k}: {v}' for k, v in depth.items())}): the gain, where there "
              "is one, stops before 8 layers of 34 units.",
              "- Claim 2, equal widths do just as well as a pyramid: **"
              + ("holds** (the two cannot be told apart, which is what \"just as well\" claims)" if tie ==
                 "cannot be told apart" else f"{tie}**") + "; a bigger first layer: **"
              + {"holds": "holds**", "cannot be told apart": "does not show here** (cannot be told apart)"}.get(
                  verdicts[2]["first2x vs equal3"], verdicts[2]["first2x vs equal3"] + "**") + ".",
              f"- Claim 3, adding layers beats adding neurons (4 × 64 against 2 × 102, equal parameters and "
              f"compute): **{verdicts[3]['deeper vs wider']}**; from 2 × 64, adding neurons helped "
              f"({verdicts[3]['wider vs base']}) and adding layers did not show ({verdicts[3]['deeper vs base']})."]
    lines += ["", "Caveats: one dataset, 10 epochs, a 2-point rate grid (deeper networks may need more), no "
              "regularisation; the widths are rounded so parameter counts differ by up to 4%."]
    return "\n".join(lines)
