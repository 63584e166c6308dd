"""Figures of a run (matplotlib, Agg): learning curve, residuals, lr-find, overlays; the class
figures (confusion matrix, ROC, PR) are in ``class_plots``.

Figures are plain ``matplotlib.figure.Figure`` objects drawn on an Agg canvas (no pyplot state, so
threads and notebooks are unaffected), rendered to PNG in memory and written atomically.
"""

from __future__ import annotations

import io
import math
import re
import struct
import sys
import zlib

import numpy as np

from mlrun.runs.files import atomic_write

DPI = 110
MAX_OVERLAY = 12
SUGGESTION_COLORS = ("tab:red", "tab:green", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive")


# ---------------------------------------------------------------- figure plumbing


def _figure(nrows=1, ncols=1, size=(8.0, 5.5), **kw):
    """A new Agg figure and its axes (pyplot is left alone)."""
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:  # never switch a backend someone else chose
        matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=True, **kw)
    for ax in np.ravel(axes):
        few_ticks(ax)
    return fig, axes


# At most this many intervals between labelled ticks on a linear axis (matplotlib's own: up to 9, and two
# hidden ones beyond the ends): every tick is five artists and a label to lay out, a third of the drawing.
TICK_INTERVALS = 6


def few_ticks(ax) -> None:
    """Linear axes with at most TICK_INTERVALS intervals, fewer on a short axis (as matplotlib's own
    rule: a label's width of room per x tick, three font sizes; two per y tick)."""
    from matplotlib.ticker import MaxNLocator

    box = ax.get_position()
    width, height = ax.figure.get_size_inches()
    room = {ax.xaxis: box.width * width * 72 / 30, ax.yaxis: box.height * height * 72 / 20}
    for axis, intervals in room.items():
        axis.set_major_locator(MaxNLocator(int(np.clip(intervals, 1, TICK_INTERVALS)), steps=[1, 2, 2.5, 5, 10]))


# Margins in inches (left, bottom, right, top): a fixed layout costs nothing, where tight_layout drew
# every figure twice to measure its text (a third of the drawing time).
MARGINS = (0.95, 0.6, 0.25, 0.6)


def _save(fig, path, title: str, margins=MARGINS, hspace=0.25, wspace=0.3, grow: bool = False):
    """Title, fixed layout, PNG into memory, atomic write, release the figure. ``grow``: the saved box
    grows to hold what lies outside the axes (a legend below them)."""
    fig.suptitle(title, fontsize=12)
    width, height = fig.get_size_inches()
    left, bottom, right, top = margins
    fig.subplots_adjust(left=left / width, bottom=bottom / height, right=1 - right / width, top=1 - top / height,
                        hspace=hspace, wspace=wspace)
    if grow:  # the box is measured from a first drawing: savefig's own two-pass path
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", pil_kwargs={"compress_level": 1})
        data = buf.getvalue()
    else:
        fig.canvas.draw()
        data = png_bytes(np.asarray(fig.canvas.buffer_rgba()))
    # no fig.clear(): it rebuilds every axes empty (30 ms each) only to drop them; garbage does that
    return atomic_write(path, data)


def png_bytes(rgba: np.ndarray, level: int = 1) -> bytes:
    """An RGBA image (h, w, 4 uint8) as PNG: rows unfiltered, zlib at ``level``. Pillow's encoder (what
    savefig uses) spends ~4x as long choosing a filter per row; a figure is mostly flat colour, which
    zlib compresses well unfiltered (1.3x Pillow's bytes)."""
    height, width, _ = rgba.shape
    rows = np.zeros((height, 1 + 4 * width), dtype=np.uint8)  # each row: filter byte 0 (none), pixels
    rows[:, 1:] = rgba.reshape(height, 4 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    per_metre = round(DPI / 0.0254)  # the resolution savefig records, so viewers size it alike
    return b"".join([b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header),
                     _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
                     _chunk(b"IDAT", zlib.compress(rows.data, level)), _chunk(b"IEND", b"")])


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _message(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=11, color="0.3")
    ax.set_xticks([])
    ax.set_yticks([])


def _floats(values) -> np.ndarray:
    """Values with None as NaN, float64 (plotting only)."""
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def _log_if_wide(ax, *series, decades: float = 2.0) -> None:
    """Log y axis when the positive finite values span more than ``decades`` decades."""
    values = np.concatenate([np.ravel(s) for s in series]) if series else np.array([])
    values = values[np.isfinite(values)]
    if values.size and values.min() > 0 and math.log10(values.max() / values.min()) > decades:
        log_scale(ax, "y")


_SUPERSCRIPTS = str.maketrans({"-": "⁻", "\N{MINUS SIGN}": "⁻", **dict(zip("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))})


def log_scale(ax, which: str = "y") -> None:
    """A log axis labelled in plain text (10⁻³, 3×10⁻⁴): matplotlib's labels are mathtext, parsed at
    ~25 ms a label, a third of a figure with a log axis; the glyphs drawn are the same."""
    from matplotlib.ticker import LogFormatterSciNotation

    class PlainLogFormatter(LogFormatterSciNotation):
        def __call__(self, x, pos=None):
            return _plain_power(super().__call__(x, pos))

    getattr(ax, f"set_{which}scale")("log")
    axis = getattr(ax, f"{which}axis")
    axis.set_major_formatter(PlainLogFormatter(10))
    axis.set_minor_formatter(PlainLogFormatter(10, labelOnlyBase=False))


def _plain_power(text: str) -> str:
    r"""``$\mathdefault{3\times10^{-4}}$`` -> ``3×10⁻⁴``; any other text as it is."""
    body = re.fullmatch(r"\$\\mathdefault\{(.*)\}\$", text)
    if body is None:
        return text
    plain = body.group(1).replace("\\times", "×")
    return re.sub(r"\^\{([^}]*)\}", lambda power: power.group(1).translate(_SUPERSCRIPTS), plain)


def _markers(n: int) -> dict:
    return {"marker": "o", "markersize": 3} if n <= 30 else {}


# ---------------------------------------------------------------- learning curve


def learning_curve(history: list[dict], path, title: str):
    """Train/val loss per epoch (best val_loss marked) over the learning rate (and momentum) per epoch."""
    fig, (ax, ax_lr) = _figure(2, 1, size=(8.0, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    if not history:
        _message(ax, "no epochs recorded")
        return _save(fig, path, title)
    epoch = _floats(r.get("epoch") for r in history)
    train, val = (_floats(r.get(k) for r in history) for k in ("train_loss", "val_loss"))
    style = _markers(len(history))
    ax.plot(epoch, train, label="train_loss", color="tab:blue", **style)
    if np.isfinite(val).any():
        ax.plot(epoch, val, label="val_loss", color="tab:orange", **style)
        best = int(np.nanargmin(np.where(np.isfinite(val), val, np.nan)))
        ax.axvline(epoch[best], color="tab:green", linestyle=":", linewidth=1.2)
        ax.plot(epoch[best], val[best], "*", color="tab:green", markersize=13,
                label=f"best val_loss {val[best]:.4g} (epoch {epoch[best]:.0f})")  # fmt: skip
    _log_if_wide(ax, train, val)
    ax.set_ylabel("loss")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=9)
    twin = _lr_panel(ax_lr, epoch, history)
    return _save(fig, path, title, margins=(0.95, 0.6, 0.85 if twin else 0.25, 0.6), hspace=0.1)


def _lr_panel(ax, epoch, history) -> bool:
    """The learning rate per epoch (and a cycled momentum on a twin axis: returns True when drawn)."""
    lr = _floats(r.get("learning_rate") for r in history)
    ax.plot(epoch, lr, color="tab:purple", label="learning_rate", **_markers(len(history)))
    _log_if_wide(ax, lr, decades=1.0)
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    ax.grid(True, alpha=0.3)
    momentum = _floats(r.get("momentum") for r in history)
    finite = momentum[np.isfinite(momentum)]
    if finite.size and finite.max() > finite.min():  # a cycled momentum / beta_1 is worth showing
        twin = ax.twinx()
        few_ticks(twin)
        twin.plot(epoch, momentum, color="tab:gray", linestyle="--", label="momentum")
        twin.set_ylabel("momentum")
        lines = ax.get_lines() + twin.get_lines()
        ax.legend(lines, [ln.get_label() for ln in lines], loc="best", fontsize=8)
        return True
    return False


# ---------------------------------------------------------------- regression


def residuals(y_true, y_pred, path, title: str):
    """Predicted vs true (identity line) and residual = true - predicted vs predicted; first target."""
    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    note = ""
    if y_true.ndim == 2:
        note = f" (target 1 of {y_true.shape[1]})" if y_true.shape[1] > 1 else ""
        y_true, y_pred = y_true[:, 0], y_pred.reshape(len(y_true), -1)[:, 0]
    y_true, y_pred = y_true.ravel(), y_pred.ravel()
    fig, (ax, ax_res) = _figure(1, 2, size=(11.0, 5.0))
    if not np.isfinite(y_pred).all():
        _message(ax, "predictions are not finite (the model diverged?)")
        ax_res.set_axis_off()
        return _save(fig, path, title)
    alpha = float(np.clip(30.0 / max(len(y_true), 1) ** 0.5, 0.15, 0.8))
    error = y_true - y_pred
    rmse = float(np.sqrt(np.mean(error**2)))
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2))
    r2 = 1.0 - float(np.sum(error**2)) / ss_tot if ss_tot > 0 else float("nan")
    fit = f"R² = {r2:.3f}, RMSE = {rmse:.4g}"
    ax.scatter(y_true, y_pred, s=12, alpha=alpha, edgecolors="none", label=fit)
    low, high = min(y_true.min(), y_pred.min()), max(y_true.max(), y_pred.max())
    ax.plot([low, high], [low, high], color="tab:red", linestyle="--", linewidth=1, label="y = x")
    ax.set_xlabel("true" + note)
    ax.set_ylabel("predicted")
    ax.set_title("predicted vs true", fontsize=10)
    ax.legend(loc="upper left", fontsize=9)
    ax_res.scatter(y_pred, error, s=12, alpha=alpha, edgecolors="none", color="tab:green")
    ax_res.axhline(0.0, color="tab:red", linestyle="--", linewidth=1)
    ax_res.set_xlabel("predicted" + note)
    ax_res.set_ylabel("residual (true - predicted)")
    ax_res.set_title("residuals", fontsize=10)
    for a in (ax, ax_res):
        a.grid(True, alpha=0.3)
    return _save(fig, path, title)


# ---------------------------------------------------------------- lr-find


def lr_find(lrs, losses, smoothed, suggestions: dict, chosen: str, path, title: str):
    """Loss vs learning rate (log x): raw faint, smoothed bold, each suggestion a labelled vertical line."""
    lrs, losses, smoothed = (_floats(np.ravel(v)) for v in (lrs, losses, smoothed))
    fig, ax = _figure(size=(8.5, 5.5))
    ax.plot(lrs, losses, color="tab:blue", alpha=0.3, linewidth=0.8, label="loss")
    ax.plot(lrs, smoothed, color="tab:blue", linewidth=2.2, label="smoothed loss")
    log_scale(ax, "x")
    for k, (name, lr) in enumerate(suggestions.items()):
        if lr is not None and np.isfinite(lr) and lr > 0:
            color = SUGGESTION_COLORS[k % len(SUGGESTION_COLORS)]
            _suggestion_line(ax, name, float(lr), name == chosen, color)
    ylim = _lr_find_ylim(smoothed, losses)
    if ylim:
        ax.set_ylim(*ylim)
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(loc="best", fontsize=9)
    return _save(fig, path, title)


def _suggestion_line(ax, name: str, lr: float, chosen: bool, color: str) -> None:
    """A vertical line labelled "<rule>: <lr>"; the chosen one solid, thick, its value written on top."""
    label = f"{name}: {lr:.2e}" + ("  (chosen)" if chosen else "")
    width, style = (2.2, "-") if chosen else (1.1, "--")
    ax.axvline(lr, color=color, linewidth=width, linestyle=style, label=label)
    if chosen:
        ax.annotate(f"{lr:.2e}", xy=(lr, 1.0), xycoords=("data", "axes fraction"), xytext=(4, -14),
                    textcoords="offset points", color=color, fontweight="bold")  # fmt: skip


def _lr_find_ylim(smoothed, losses=None):
    """From a little below the lowest loss (raw or smoothed) to half the descent above the starting
    level of the smoothed curve, so the final explosion does not flatten the useful part."""
    finite = smoothed[np.isfinite(smoothed)]
    if finite.size < 2:
        return None
    raw = np.asarray([] if losses is None else losses, dtype=np.float64)
    low = min(finite.min(), raw[np.isfinite(raw)].min(initial=np.inf))
    start = float(np.median(finite[: max(1, finite.size // 20)]))
    span = start - low if start > low else (abs(low) * 0.1 or 1.0)
    return low - 0.1 * span, start + 0.5 * span
