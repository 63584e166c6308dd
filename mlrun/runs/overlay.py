"""The figure of several runs (``mlrun compare --plot``): learning curves overlaid, seed groups as a
mean with a band. Drawn with the figure plumbing of :mod:`mlrun.runs.plots`."""

from __future__ import annotations

import numpy as np

from mlrun.runs import plots


def _column(history, key):
    """(epochs, values) of ``key``; train_loss (and its name) where val_loss was never recorded."""
    values = plots._floats(r.get(key) for r in history)
    column = key
    if key == "val_loss" and not np.isfinite(values).any():
        column, values = "train_loss", plots._floats(r.get("train_loss") for r in history)
    return plots._floats(r.get("epoch") for r in history), values, column


def _group_curve(histories, key):
    """Mean and sample std per epoch over a group's runs (epochs some runs lack: over those that have it)."""
    columns = [_column(h, key) for h in histories]
    epochs = np.unique(np.concatenate([c[0] for c in columns])) if columns else np.array([])
    table = np.full((len(columns), len(epochs)), np.nan)
    for i, (ep, values, _) in enumerate(columns):
        table[i, np.searchsorted(epochs, ep)] = values
    count = np.isfinite(table).sum(axis=0)
    mean = np.divide(np.nansum(table, axis=0), count, out=np.full(len(epochs), np.nan), where=count > 0)
    spread = np.where(count > 1, np.sqrt(np.nansum((table - mean) ** 2, axis=0) / np.maximum(count - 1, 1)), np.nan)
    return epochs, mean, spread, columns[0][2] if columns else key


def overlay_learning_curves(curves, path, title: str, key: str = "val_loss"):
    """One line of ``key`` per run (at most plots.MAX_OVERLAY); train_loss stands in where val_loss is absent.

    An entry's history may be a list of histories (a seed group): its mean is drawn with a band of
    ± one sample std and n in the label. The legend sits below the axes, so long labels never take
    the plot's width."""
    import textwrap

    fig, ax = plots._figure(size=(9.5, 5.5))
    shown = list(curves)[:plots.MAX_OVERLAY]
    series = []
    for i, (label, history) in enumerate(shown):
        group = bool(history) and isinstance(history[0], list)
        histories = history if group else [history]
        epochs, values, spread, column = _group_curve(histories, key)
        suffix = "" if column == key else f" ({column})"
        n = f" (n={len(histories)}, mean ± std)" if group else ""
        color, style = f"C{i % 10}", "-" if i < 10 else "--"
        text = textwrap.fill(f"{label}{suffix}{n}", 60, subsequent_indent="  ")
        ax.plot(epochs, values, linewidth=1.4, label=text, color=color, linestyle=style,
                **plots._markers(len(epochs)))  # fmt: skip
        if group and np.isfinite(spread).any():
            ax.fill_between(epochs, values - spread, values + spread, color=color, alpha=0.18, linewidth=0)
        series.append(values)
    if not shown:
        plots._message(ax, "no runs")
    plots._log_if_wide(ax, *series)
    ax.set_xlabel("epoch")
    ax.set_ylabel(key)
    ax.grid(True, alpha=0.3)
    if shown:
        heading = f"{len(shown)} of {len(curves)} runs" if len(curves) > len(shown) else None
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2 if len(shown) > 3 else 1,
                  fontsize=8, title=heading, title_fontsize=8, frameon=False)
    return plots._save(fig, path, title, grow=True)
