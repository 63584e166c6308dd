"""Learning curves overlaid: one line per configuration (its seeds' mean, a ± std band when there
are several), a menu switching between validation loss, training loss and the logged metrics."""

from __future__ import annotations

import math
import os

from mlrun.comparison.formats import format_value
from mlrun.comparison.keys import differing_keys, is_number
from mlrun.report.figures import LAYOUT, MAX_CURVES, short
from mlrun.runs.history import read_history

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf")
DASHES = ("solid", "dash", "dot", "dashdot")


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def read_histories(group: dict) -> list[list[dict]]:
    out = []
    for path in group.get("paths") or []:
        try:
            out.append(read_history(os.path.join(path, "history.csv")))
        except (OSError, ValueError, TypeError):
            continue
    return [h for h in out if h]


def band(histories: list[list[dict]], key: str):
    """Epochs, mean and sample std (None where fewer than two runs have the epoch) of ``key``."""
    by_epoch: dict[int, list[float]] = {}
    for history in histories:
        for row in history:
            value = row.get(key)
            if is_number(value) and math.isfinite(value) and row.get("epoch") is not None:
                by_epoch.setdefault(row["epoch"], []).append(value)
    epochs = sorted(by_epoch)
    means = [math.fsum(by_epoch[e]) / len(by_epoch[e]) for e in epochs]
    stds = [math.sqrt(math.fsum((v - m) ** 2 for v in by_epoch[e]) / (len(by_epoch[e]) - 1))
            if len(by_epoch[e]) > 1 else None for e, m in zip(epochs, means)]
    return epochs, means, stds


def curve_keys(all_histories: list[list[list[dict]]]) -> list[str]:
    """train_loss, val_loss and each logged validation metric, in that order, where recorded."""
    seen = dict.fromkeys(k for hs in all_histories for h in hs for k in h[0])
    keys = [k for k in ("val_loss", "train_loss") if k in seen]
    return keys + [k for k in seen if k.startswith("val_") and k != "val_loss"]


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
    epochs, means, stds = band(histories, key)
    out = []
    spread = [(e, m, s) for e, m, s in zip(epochs, means, stds) if s is not None]
    if spread:
        xs = [e for e, _, _ in spread]
        upper = [short(m + s) for _, m, s in spread]
        lower = [short(m - s) for _, m, s in spread]
        out.append(go.Scatter(x=xs + xs[::-1], y=upper + lower[::-1], mode="lines", fill="toself",
                              fillcolor=_rgba(color, 0.15),
                              line=dict(width=0), hoverinfo="skip", showlegend=False, legendgroup=label,
                              visible=visible))
    n = f" (n={len(histories)})" if len(histories) > 1 else ""
    mode = "lines" if len(epochs) > 2 else "lines+markers"  # a trial pruned at epoch 1 is one point
    out.append(go.Scatter(x=epochs, y=[short(m) for m in means], mode=mode, name=label + n, legendgroup=label,
                          line=dict(color=color, width=1.6, dash=dash), marker=dict(size=6), visible=visible,
                          hovertemplate=label + n + f"<br>{key} at epoch " + "%{x}: %{y}<extra></extra>"))
    return out


def curves(study):
    """The figure, or None when no run has a readable history.csv."""
    import plotly.graph_objects as go

    groups = study.groups[:MAX_CURVES]
    histories = [read_histories(g) for g in groups]
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
