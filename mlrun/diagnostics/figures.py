"""The diagnostics figures: per-layer curves over epochs, and histograms at initialisation and at the end
(in the manner of Glorot & Bengio 2010, Figs. 2, 6 and 7). One colour per hidden layer; the top one bold."""

from __future__ import annotations

import io
from collections import defaultdict

import numpy as np

from mlrun.runs.files import atomic_write
from mlrun.runs.plots import DPI, _figure

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
    return {"color": color, "linewidth": 2.6 if top_layer else 1.4, "marker": "o", "markersize": 3,
            "label": f"layer {number}" + (" (top)" if top_layer else "")}


def curves(rows, layers, path, title: str):
    """plots/diagnostics.png: one panel per quantity, epochs on x, one line per hidden layer."""
    series = _by_layer(rows)
    panels = [p for p in PANELS if any((info["layer"], p[0]) in series for info in layers)]
    fig, axes = _figure(1, len(panels), size=(3.6 * len(panels), 4.2))
    axes = np.atleast_1d(axes)
    numbers = [info["layer"] for info in layers]
    colors = _colors(len(numbers))
    for ax, (quantity, label) in zip(axes, panels):
        for number, color in zip(numbers, colors):
            points = series.get((number, quantity))
            if points is None:
                continue
            ax.plot(points[:, 0], points[:, 1], **_style(number, numbers[-1], color))
            if quantity == "act_mean" and (number, "act_std") in series:
                std = series[(number, "act_std")][:, 1]
                ax.fill_between(points[:, 0], points[:, 1] - std, points[:, 1] + std, color=color, alpha=0.12)
        if quantity in ("grad_std", "update_ratio") and ax.lines:
            values = np.concatenate([line.get_ydata() for line in ax.lines])
            if np.all(values[np.isfinite(values)] > 0):
                ax.set_yscale("log")
        ax.set_xlabel("epoch (0 = initialisation)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 8), fontsize=8, frameon=False)
    return _save_with_legend_room(fig, path, title)


def _save_with_legend_room(fig, path, title):
    """As runs.plots._save, leaving a strip at the bottom for the figure-wide legend (off the data)."""
    fig.suptitle(title, fontsize=12)
    fig.tight_layout(rect=(0, 0.08, 1, 0.95))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    fig.clear()
    return atomic_write(path, buf.getvalue())


def histograms(samples, layers, key: str, xlabel: str, path, title: str):
    """plots/activations.png or plots/gradients.png: per-layer density histograms, initialisation | end."""
    stages = [s for s in ("init", "end") if s in samples]
    if not stages:  # a run resumed with no epoch left to train measured no activations: no figure
        return None
    fig, axes = _figure(1, max(len(stages), 1), size=(6.0 * max(len(stages), 1), 4.4))
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
            style = {k: w for k, w in _style(number, numbers[-1], color).items() if k not in ("marker", "markersize")}
            ax.hist(v[np.isfinite(v)], bins=bins, density=True, histtype="step", **style)
        epoch = next(iter(samples[stage].values()))["epoch"]
        ax.set_title("initialisation (epoch 0)" if stage == "init" else f"end (epoch {epoch})", fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("density")
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
        ax.xaxis.get_major_locator().set_params(nbins=6)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 8), fontsize=8, frameon=False)
    return _save_with_legend_room(fig, path, title)


def _bins(values, symmetric: bool, n: int = 60) -> np.ndarray:
    """Bins over the central 99% of all layers' values (symmetric about 0 for gradients)."""
    finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.zeros(0)
    low, high = np.percentile(finite, [0.5, 99.5]) if finite.size else (-1.0, 1.0)
    if symmetric:
        low, high = -max(abs(low), abs(high)), max(abs(low), abs(high))
    if not high > low:
        low, high = low - 1, high + 1
    return np.linspace(low, high, n + 1)
