"""lr-find's terminal report: the smoothed-loss curve as text, the suggestions table, the next command."""

from __future__ import annotations


def _lr_find_curve(lrs, smoothed, found: dict, width: int = 64, height: int = 10) -> list[str]:
    """The smoothed loss over log10(lr) as text, one letter per suggestion under the axis."""
    import numpy as np

    ok = np.isfinite(smoothed)
    x, y = np.log10(lrs[ok]), smoothed[ok]
    if len(x) < 2:
        return []
    low, first = float(y.min()), float(np.median(y[: max(1, len(y) // 20)]))
    high = first + 0.5 * (first - low) if first > low else low + (abs(low) * 0.1 or 1.0)
    col = lambda v: int(round((v - x[0]) / (x[-1] - x[0]) * (width - 1)))  # noqa: E731
    rows = np.rint((np.clip(y, low, high) - low) / (high - low) * (height - 1)).astype(int)
    grid = [[" "] * width for _ in range(height)]
    for xi, r in zip(x, rows):
        grid[height - 1 - r][col(xi)] = "•"
    marks = [" "] * width
    for name, lr in found.items():
        if lr is not None:
            marks[min(max(col(np.log10(lr)), 0), width - 1)] = name[0]
    labels = {0: f"{high:.3g}", height - 1: f"{low:.3g}"}
    lines = [f"{labels.get(i, ''):>8} │{''.join(row)}" for i, row in enumerate(grid)]
    lines.append(f"{'':>8} └{'─' * width}")
    lines.append(f"{'':>8}  {''.join(marks)}")
    lines.append(f"{'':>8}  {f'{lrs[0]:.0e}':<{width // 2}}{f'{lrs[-1]:.1e}':>{width - width // 2}}")
    return lines


def render_lr_find(console, res, cfg, spec, overrides) -> None:
    """The range test's report: the curve, each rule's suggestion, and the command to train with it."""
    import shlex

    from rich.table import Table

    from mlrun.cli.console import fmt, status_style, styled
    from mlrun.lr_finder.range_test import override_for

    last = fmt(float(res.lrs[-1]), 3) if len(res.lrs) else "-"
    console.print(styled((str(res.status), status_style(res.status)),
                         f" ({res.stop_reason}) after {len(res.losses)} of {res.steps} steps,"
                         f" learning rate {fmt(res.start, 3)} → {last}"))
    for line in _lr_find_curve(res.lrs, res.smoothed, res.suggestions):
        console.print(line)
    table = Table(title="suggestions (smoothed loss vs log learning rate)", title_justify="left")
    for column, justify in (("rule", "left"), ("learning rate", "right"), ("", "left")):
        table.add_column(column, justify=justify)
    notes = {"minimum": "lr at the loss minimum / 10", "steepest": "steepest descent",
             "valley": "2/3 down the longest valley"}
    for rule, lr in res.suggestions.items():
        chosen = rule == res.rule
        table.add_row(styled((f"{rule} ({rule[0]})", "bold" if chosen else "")), fmt(lr, 3),
                      styled(notes[rule], ("  ← --rule", "bold green") if chosen else ""))
    console.print(table)
    if res.suggestion is None:
        console.print(styled(("no suggestion:", "yellow"), " the loss was not finite from the first step; "
                             "lower --start"))
    else:
        words = ["mlrun", "train", spec, *[w for o in overrides for w in ("--set", o)],
                 "--set", override_for(cfg, res.suggestion)]
        console.print(styled("train with: ", (" ".join(shlex.quote(w) for w in words), "bold")), soft_wrap=True)
    for warning in res.warnings:
        console.print(styled((f"warning: {warning}", "dim")))
    console.print(styled("run directory: ", (str(res.path), "bold")))
