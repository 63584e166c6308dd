"""The compare table as static HTML: the cells of ``mlrun compare``, the best value of each metric
marked, a sort value on every cell so the page's script can re-sort it by clicking a header."""

from __future__ import annotations

from html import escape

from mlrun.comparison.formats import best_values, display_cells, display_columns
from mlrun.comparison.keys import direction, is_metric, is_number


def _sort_value(value) -> str:
    """What the script sorts by: numbers as they are (so 10 comes after 9), text as text, null empty."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return str(int(value))
    return repr(value) if is_number(value) else str(value)


def _header(key: str) -> str:
    good = direction(key) if is_metric(key) else None
    arrow = " ↑" if good is True else " ↓" if good is False else ""
    hint = "higher is better" if good is True else "lower is better" if good is False else ""
    title = f' title="{escape(hint)}"' if hint else ""
    return f'<th scope="col" data-key="{escape(key)}"{title}><button type="button">{escape(key)}{arrow}</button></th>'


def table_html(rows: list[dict], cols: list[str], precision: int = 4, anchors: dict[str, str] | None = None) -> str:
    """A <table> with one row per run or seed group; ``anchors`` links a run name to its section."""
    shown = display_columns(cols)
    best = best_values(rows, cols)
    numeric = {c for c in shown if any(is_number(row.get(c)) for row in rows)}
    anchors = anchors or {}
    head = "".join(_header(c) for c in shown)
    body = []
    for row in rows:
        cells = []
        for key, text in zip(shown, display_cells(row, cols, precision)):
            classes = (["num"] if key in numeric else []) + (["best"] if key in best and row.get(key) == best[key]
                                                             else [])
            cls = f' class="{" ".join(classes)}"' if classes else ""
            content = escape(text)
            target = (row.get("runs") or [row.get("run")])[0]  # a seed group links to its first run
            if key == "run" and target in anchors:
                content = f'<a href="#{anchors[target]}">{content}</a>'
            if "best" in classes:
                content = f"<strong>{content}</strong>"
            cells.append(f'<td{cls} data-v="{escape(_sort_value(row.get(key)))}">{content}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<table class="compare" id="compare-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")
