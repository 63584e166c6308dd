"""Learning curves overlaid: one line per configuration (its seeds' mean, a ± std band when there
are several), a menu switching between validation loss, training loss and the logged metrics."""

from __future__ import annotations

from mlrun.comparison.formats import format_value
from mlrun.comparison.keys import differing_keys
from mlrun.report.figures import LAYOUT, MAX_CURVES, _band, _histories, _short, curve_keys

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf")
DASHES = ("solid", "dash", "dot", "dashdot")


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def short_names(keys: list[str]) -> dict[str, str]:
    """Each key by its last part (optimizer.learning_rate -> learning_rate) where that is unambiguous."""
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return {k: name if last.count(name) == 1 else k for k, name in zip(keys, last)}


def group_label(group: dict, keys: list[str], names: dict[str, str]) -> str:
    """"activation=elu, learning_rate=0.001" (values as compare prints them), or the run name."""
    parts = [f"{names[k]}={format_value(group.get(k), 3)}" for k in keys if group.get(k) is not None]
    return ", ".join(parts) or str(group["run"])


def _traces(go, label: str, style: tuple[str, str], histories, key: str, visible: bool) -> list:
    color, dash = style
    epochs, means, stds = _band(histories, key)
    out = []
    band = [(e, m, s) for e, m, s in zip(epochs, means, stds) if s is not None]
    if band:
        xs = [e for e, _, _ in band]
        upper = [_short(m + s) for _, m, s in band]
        lower = [_short(m - s) for _, m, s in band]
        out.append(go.Scatter(x=xs + xs[::-1], y=upper + lower[::-1], mode="lines", fill="toself",
                              fillcolor=_rgba(color, 0.15),
                              line=dict(width=0), hoverinfo="skip", showlegend=False, legendgroup=label,
                              visible=visible))
    n = f" (n={len(histories)})" if len(histories) > 1 else ""
    mode = "lines" if len(epochs) > 2 else "lines+markers"  # a trial pruned at epoch 1 is one point
    out.append(go.Scatter(x=epochs, y=[_short(m) for m in means], mode=mode, name=label + n, legendgroup=label,
                          line=dict(color=color, width=1.6, dash=dash), marker=dict(size=6), visible=visible,
                          hovertemplate=label + n + f"<br>{key} at epoch " + "%{x}: %{y}<extra></extra>"))
    return out


def curves(study):
    """The figure, or None when no run has a readable history.csv."""
    import plotly.graph_objects as go

    groups = study.groups[:MAX_CURVES]
    histories = [_histories(g) for g in groups]
    kept = [(g, h) for g, h in zip(groups, histories) if h]
    if not kept:
        return None
    keys = curve_keys([h for _, h in kept])
    shown = differing_keys([g for g, _ in kept])
    names = short_names(shown)
    fig = go.Figure()
    owners: list[str] = []
    for j, key in enumerate(keys):
        for i, (group, hist) in enumerate(kept):
            style = COLORS[i % len(COLORS)], DASHES[i // len(COLORS) % len(DASHES)]
            traces = _traces(go, group_label(group, shown, names), style, hist, key, j == 0)
            fig.add_traces(traces)
            owners += [key] * len(traces)
    buttons = [dict(label=key, method="update",
                    args=[{"visible": [owner == key for owner in owners]}, {"yaxis.title.text": key}])
               for key in keys]
    last = max((row.get("epoch") or 0 for _, hs in kept for h in hs for row in h), default=1)
    fig.update_xaxes(dtick=max(1, round(last / 10)))
    more = f" (the first {MAX_CURVES} of {len(study.groups)})" if len(study.groups) > MAX_CURVES else ""
    layout = {**LAYOUT, "margin": dict(l=60, r=30, t=100, b=50)}  # the menu sits below the mode bar
    fig.update_layout(**layout, height=480 + 22 * len(kept),  # the legend below grows with the groups
                      title=f"learning curves of {len(kept)} configurations{more}",
                      xaxis_title="epoch", yaxis_title=keys[0], legend=dict(orientation="h", yanchor="top", y=-0.1),
                      updatemenus=[dict(buttons=buttons, direction="down", x=1, xanchor="right", y=1.02,
                                        yanchor="bottom", showactive=True)])
    return fig
