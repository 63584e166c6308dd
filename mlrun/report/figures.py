"""The interactive figures, drawn by plotly (its script is embedded once, by the first figure):
parallel coordinates and scatters of the differing parameters against the chosen metric, and the
learning curves of every configuration (seeds as mean and band), switchable between history columns."""

from __future__ import annotations

import math

from mlrun.comparison.formats import format_value
from mlrun.comparison.keys import direction, is_number, is_param

CONFIG = {"responsive": True, "displaylogo": False, "modeBarButtonsToRemove": ["toImage"]}
MAX_CURVES = 40  # configurations drawn (the table's first); a legend of hundreds is unreadable
LOG_NAMES = ("learning_rate", "initial_learning_rate", "max_lr", "lr", "l2")
LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=30, t=50, b=50), font=dict(family="sans-serif"))


def to_div(fig, div_id: str, first: bool) -> str:
    """The figure as a <div> and its script; ``first`` embeds plotly.js itself (once per page)."""
    return fig.to_html(full_html=False, include_plotlyjs=bool(first), config=CONFIG, div_id=div_id,
                       default_width="100%", default_height=f"{fig.layout.height or 450}px")


def short(value: float) -> float:
    return float(f"{value:.5g}")  # five digits are what a figure shows; the file stays small


def is_log(key: str, values: list) -> bool:
    """Learning rates (and l2) on a log axis, when positive and spread over more than a factor of 3."""
    numbers = [v for v in values if is_number(v)]
    return (key.rsplit(".", 1)[-1] in LOG_NAMES and bool(numbers) and min(numbers) > 0
            and max(numbers) / min(numbers) > 3)


def _numeric(values: list) -> bool:
    return all(is_number(v) and not isinstance(v, bool) for v in values)


def figure_params(study) -> list[str]:
    """The differing parameters the table rows carry (a seed group has no single seed)."""
    rows = study.table
    return [k for k in study.params if is_param(k) and any(k in row for row in rows)]


def _dimension(key: str, values: list) -> dict:
    if _numeric(values):
        if is_log(key, values):
            ticks = sorted(set(values))
            return dict(label=key, values=[math.log10(v) for v in values],
                        tickvals=[math.log10(v) for v in ticks], ticktext=[format_value(v, 3) for v in ticks])
        return dict(label=key, values=values)
    texts = [format_value(v, 4) if v is not None else "none" for v in values]
    labels = sorted(set(texts))
    return dict(label=key, values=[labels.index(t) for t in texts], tickvals=list(range(len(labels))),
                ticktext=labels)


def parallel(study):
    """Parallel coordinates: one axis per differing parameter, the metric last and as the colour."""
    import plotly.graph_objects as go

    metric, params = study.metric, figure_params(study)
    rows = [row for row in study.table if is_number(row.get(metric))]
    if metric is None or not params or not rows:
        return None
    dims = [_dimension(k, [row.get(k) for row in rows]) for k in params]
    scores = [row[metric] for row in rows]
    dims.append(dict(label=metric, values=scores))
    line = dict(color=scores, colorscale="Viridis", showscale=True, reversescale=direction(metric) is False,
                colorbar=dict(title=dict(text=metric, side="right")))
    fig = go.Figure(go.Parcoords(line=line, dimensions=dims, labelangle=-15, labelside="bottom"))
    fig.update_layout(**LAYOUT, height=460, title=f"{len(rows)} rows: parameters against {metric}")
    fig.update_layout(margin=dict(l=80, r=60, t=70, b=80))
    return fig


def scatter(study):
    """One panel per differing parameter against the metric (log x for learning rates)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    metric, params = study.metric, figure_params(study)
    rows = [row for row in study.table if is_number(row.get(metric))]
    if metric is None or not params or not rows:
        return None
    ncols = min(3, len(params))
    nrows = math.ceil(len(params) / ncols)
    fig = make_subplots(rows=nrows, cols=ncols, subplot_titles=params, vertical_spacing=0.3 / nrows + 0.05)
    names = [str(row["run"]) for row in rows]
    for i, key in enumerate(params):
        values = [row.get(key) for row in rows]
        numeric = _numeric(values)
        x = values if numeric else [format_value(v, 4) if v is not None else "none" for v in values]
        r, c = divmod(i, ncols)
        fig.add_trace(go.Scatter(x=x, y=[row[metric] for row in rows], mode="markers", text=names, name=key,
                                 hovertemplate="%{text}<br>" + key + "=%{x}<br>" + metric + "=%{y}<extra></extra>",
                                 marker=dict(size=8, opacity=0.75, color="#1f77b4"), showlegend=False),
                      row=r + 1, col=c + 1)
        axis = _log_axis(values) if numeric and is_log(key, values) else {} if numeric else dict(type="category")
        fig.update_xaxes(row=r + 1, col=c + 1, **axis)
        fig.update_yaxes(row=r + 1, col=c + 1, title_text=metric if c == 0 else None)
    fig.update_layout(**LAYOUT, height=320 * nrows + 80, title=f"{metric} against each parameter")
    fig.update_layout(margin=dict(l=60, r=30, t=90, b=50))
    return fig


def _log_axis(values: list) -> dict:
    ticks = sorted(set(values))
    return dict(type="log", tickvals=ticks, ticktext=[format_value(v, 3) for v in ticks]) if len(ticks) <= 8 else \
        dict(type="log")
