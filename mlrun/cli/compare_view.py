"""compare's terminal table: the rich table of compare rows, fitted to the terminal width."""

from __future__ import annotations


def _compare_table(rows, cols, precision):
    """rich table of compare rows: numbers right-aligned and never cut, the best of each metric bold green."""
    from rich.table import Table
    from rich.text import Text

    from mlrun.cli.console import status_style
    from mlrun.comparison.formats import best_values, display_cells, display_columns

    shown = display_columns(cols)
    best = best_values(rows, cols)
    texts = [display_cells(row, cols, precision) for row in rows]
    table = Table(header_style="bold", pad_edge=False)
    for i, key in enumerate(shown):
        numeric = key not in ("run", "status") and any(isinstance(r.get(key), (int, float)) for r in rows)
        width = max([len(t[i]) for t in texts] or [1])
        # a truncated number would be a lie: numbers keep their width; text folds when space is short
        # a long dotted header over short numbers breaks after its dots rather than widen the column
        header = key.replace(".", ".\n") if numeric and len(key) > max(width, 12) else key
        table.add_column(header, justify="right" if numeric else "left", no_wrap=numeric, overflow="fold",
                         min_width=width if numeric else min(width, 16))
    for row, cells in zip(rows, texts):
        styles = ["bold green" if key in best and row.get(key) == best[key]
                  else status_style(row.get("status")) if key == "status" else "" for key in shown]
        # Text, never markup: a value like "[/x]" or a run named "exp[v2]" is shown as it is
        table.add_row(*[Text(cell, style=style) for cell, style in zip(cells, styles)])
    return table


def drop_order(cols, keep=()) -> list[str]:
    """Which columns a too-narrow terminal loses first: duration and epochs, then the metrics after the
    first, then parameters from the right (rows differing only in a hidden parameter look identical,
    so parameters go last); run, n, status, the first metric and ``keep`` always stay."""
    from mlrun.comparison.keys import is_metric

    fixed = {"run", "n", "status", *keep}
    metrics = [c for c in cols if is_metric(c) and c not in fixed]
    params = [c for c in reversed(cols) if not is_metric(c) and c not in fixed]
    order = [c for c in params if c in ("duration", "epochs")]
    order += list(reversed(metrics[1:]))
    return order + [c for c in params if c not in order]


def print_table(rows, cols, precision, console=None, keep=()) -> None:
    """Piped (CI logs, files): all the width the table needs. On a terminal too narrow for it, columns
    are dropped (see drop_order) and a note says so: rich would otherwise squeeze every column,
    cutting numbers."""
    from rich.measure import Measurement

    from mlrun.cli.console import make_console, styled

    console = console or make_console()
    table = _compare_table(rows, cols, precision)
    needed = Measurement.get(console, console.options.update_width(10_000), table).maximum
    if not console.is_terminal:
        make_console(width=max(console.width, needed), file=console.file).print(table)
        return
    kept = list(cols)
    order = drop_order(cols, keep)
    while needed > console.width and order:
        drop = order.pop(0)
        kept = [c for c in kept if c != drop]
        table = _compare_table(rows, kept, precision)
        needed = Measurement.get(console, console.options.update_width(10_000), table).maximum
    console.print(table)
    hidden = [c for c in cols if c not in kept and not c.endswith(".std")]
    if hidden:
        console.print(styled((f"{len(hidden)} column(s) hidden to fit the terminal: {', '.join(hidden)} "
                              "(--metrics, --format markdown/csv, or a wider window)", "dim")))
