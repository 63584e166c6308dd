"""The diagnostics figures: per-layer curves over epochs, and histograms at initialisation and at the end
(in the manner of Glorot & Bengio 2010, Figs. 2, 6 and 7). One colour per hidden layer; the top one bold."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from mlrun.runs import plots  # the module: figure plumbing looked up at call time

PANELS = (("act_mean", "activation mean ± std"), ("saturated", "saturated fraction"), ("dead", "dead fraction"),
          ("grad_std", "back-propagated gradient std"), ("update_ratio", "update ratio ||ΔW|| / ||W||"))


def _colors(n: int):
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(0.85 * i / max(n - 1, 1)) for i in range(n)]


def _by_layer(rows):
    series = defaultdict(list)
    for r in rows:
        series[(r["layer"], r["quantity"])].append((r["epoch"], r["value"]))
    return {k: np.array(sorted(v), dtype=np.float64) for k, v in series.items()}


def _style(number: int, top: int, color) -> dict:
    top_layer = number == top
    return {"color": color, "linewidth": 2.6 if top_layer else 1.4,
            "label": f"layer {number}" + (" (top)" if top_layer else "")}


MEASURED = {"marker": "o", "markersize": 3}  # a dot where the probe measured


def curves(rows, layers, path, title: str):
    """plots/diagnostics.png: one panel per quantity, epochs on x, one line per hidden layer."""
    series = _by_layer(rows)
    panels = [p for p in PANELS if any((info["layer"], p[0]) in series for info in layers)]
    fig, axes = plots._figure(1, len(panels), size=(3.6 * len(panels), 4.2))
    axes = np.atleast_1d(axes)
    numbers = [info["layer"] for info in layers]
    colors = _colors(len(numbers))
    for ax, (quantity, label) in zip(axes, panels):
        for number, color in zip(numbers, colors):
            points = series.get((number, quantity))
            if points is None:
                continue
            ax.plot(points[:, 0], points[:, 1], **_style(number, numbers[-1], color), **MEASURED)
            if quantity == "act_mean" and (number, "act_std") in series:
                std = series[(number, "act_std")][:, 1]
                ax.fill_between(points[:, 0], points[:, 1] - std, points[:, 1] + std, color=color, alpha=0.12)
        if quantity in ("grad_std", "update_ratio") and ax.lines:
            values = np.concatenate([line.get_ydata() for line in ax.lines])
            if np.all(values[np.isfinite(values)] > 0):
                plots.log_scale(ax, "y")
        ax.set_xlabel("epoch (0 = initialisation)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    return _save_with_legend_strip(fig, axes, path, title)


# Inches: room left of each panel for its tick labels (log axes: 3.5×10⁻⁴) and its label; below it, for
# the x tick labels and label; each row of the figure-wide legend below that.
PANEL_LEFT, PANEL_BOTTOM, LEGEND_ROW, LEGEND_COLUMNS = 1.0, 0.6, 0.22, 8


def _save_with_legend_strip(fig, axes, path, title):
    """The figure-wide legend (one entry per layer) in a strip below the panels, off the data; a fixed
    layout: tight_layout measured every text by drawing the figure once more."""
    handles, labels = axes[0].get_legend_handles_labels()
    columns = max(1, min(len(labels), LEGEND_COLUMNS))
    fig.legend(handles, labels, loc="lower center", ncol=columns, fontsize=8, frameon=False)
    rows = math.ceil(len(labels) / columns)
    width = fig.get_size_inches()[0]
    panel = (width - PANEL_LEFT - 0.2 - (len(axes) - 1) * PANEL_LEFT) / len(axes)
    return plots._save(fig, path, title, margins=(PANEL_LEFT, PANEL_BOTTOM + 0.15 + LEGEND_ROW * rows, 0.2, 0.6),
                       wspace=PANEL_LEFT / panel)


def histograms(samples, layers, key: str, xlabel: str, path, title: str):
    """plots/activations.png or plots/gradients.png: per-layer density histograms, initialisation | end."""
    stages = [s for s in ("init", "end") if s in samples]
    if not stages:  # a run resumed with no epoch left to train measured no activations: no figure
        return None
    fig, axes = plots._figure(1, len(stages), size=(6.0 * len(stages), 4.4))
    axes = np.atleast_1d(axes)
    numbers = [info["layer"] for info in layers]
    colors = _colors(len(numbers))
    for ax, stage in zip(axes, stages):
        bins = _bins([samples[stage][n][key] for n in numbers if n in samples[stage]], symmetric=key == "gradient")
        for number, color in zip(numbers, colors):
            sample = samples[stage].get(number)
            if sample is None:
                continue
            v = sample[key]
            ax.hist(v[np.isfinite(v)], bins=bins, density=True, histtype="step", **_style(number, numbers[-1], color))
        epoch = next(iter(samples[stage].values()))["epoch"]
        ax.set_title("initialisation (epoch 0)" if stage == "init" else f"end (epoch {epoch})", fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("density")
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
        ax.xaxis.get_major_locator().set_params(nbins=6)
        ax.grid(alpha=0.3)
    return _save_with_legend_strip(fig, axes, path, title)


def _bins(values, symmetric: bool, n: int = 60) -> np.ndarray:
    """Bins over the central 99% of all layers' values (symmetric about 0 for gradients)."""
    finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.zeros(0)
    low, high = np.percentile(finite, [0.5, 99.5]) if finite.size else (-1.0, 1.0)
    if symmetric:
        low, high = -max(abs(low), abs(high)), max(abs(low), abs(high))
    if not high > low:
        low, high = low - 1, high + 1
    return np.linspace(low, high, n + 1)
