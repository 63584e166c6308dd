"""Figures of a run (matplotlib, Agg): learning curve, confusion matrix, ROC, PR, residuals, lr-find.

Figures are plain ``matplotlib.figure.Figure`` objects drawn on an Agg canvas (no pyplot state, so
threads and notebooks are unaffected), rendered to PNG in memory and written atomically.
"""

from __future__ import annotations

import io
import math
import sys

import numpy as np

from mlrun.runs.files import atomic_write

DPI = 110
MAX_CLASS_CURVES = 10
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
    return fig, axes


def _save(fig, path, title: str, tight: bool = True):
    """Title, tight layout, PNG into memory, atomic write, release the figure. ``tight=False``: the
    saved box grows to hold what lies outside the axes (a legend below), which tight_layout cannot fit."""
    fig.suptitle(title, fontsize=12)
    if tight:
        fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, **({} if tight else {"bbox_inches": "tight"}))
    fig.clear()
    return atomic_write(path, buf.getvalue())


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
        ax.set_yscale("log")


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
    _lr_panel(ax_lr, epoch, history)
    return _save(fig, path, title)


def _lr_panel(ax, epoch, history) -> None:
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
        twin.plot(epoch, momentum, color="tab:gray", linestyle="--", label="momentum")
        twin.set_ylabel("momentum")
        lines = ax.get_lines() + twin.get_lines()
        ax.legend(lines, [ln.get_label() for ln in lines], loc="best", fontsize=8)


# ---------------------------------------------------------------- classification


def confusion_matrix(cm, labels, path, title: str):
    """Counts annotated in each cell; colour = the cell's share of its true-class row."""
    cm = np.asarray(cm, dtype=np.int64)
    n = cm.shape[0]
    side = min(4.0 + 0.45 * n, 11.0)
    fig, ax = _figure(size=(side + 1.2, side))
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0)
    image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    cbar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label("share of the true class (row)")
    _annotate_cells(ax, cm, share)
    names = [str(label) for label in labels]
    long_names = max(map(len, names), default=0) > 3
    tilt = {"rotation": 45, "ha": "right", "rotation_mode": "anchor"} if long_names else {}
    ax.set_xticks(range(n), names, **tilt)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(f"confusion matrix (n = {cm.sum()}, accuracy {accuracy:.3f})", fontsize=10)
    return _save(fig, path, title)


def _annotate_cells(ax, cm, share) -> None:
    """Counts in each cell (up to 30 classes), white on dark cells, smaller fonts for more classes."""
    n = cm.shape[0]
    if n > 30:
        return
    size = 10 if n <= 10 else max(5, 10 - (n - 10) // 4)
    for i in range(n):
        for j in range(n):
            color = "white" if share[i, j] > 0.5 else "black"
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", color=color, fontsize=size)


def _class_codes(y_true, n_classes: int) -> np.ndarray:
    """y_true as class codes (indices into the labels): the run's own encoding, never the label text,
    so labels {1, 2} or {fraud, ok} cannot be mistaken for codes (floats from CSV: 1.0 is code 1)."""
    y = np.asarray(y_true).ravel()
    if y.size and y.dtype.kind in "fiu":
        codes = y.astype(np.int64)
        if np.array_equal(codes, y) and codes.min() >= 0 and codes.max() < n_classes:
            return codes
    raise ValueError(f"y_true must be class codes 0..{n_classes - 1} (indices into the class labels)")


def _class_scores(y_true, proba, labels, positive_class):
    """[(name, is_positive (n,), score (n,))] for the binary positive class or every class (one-vs-rest).

    ``positive_class`` is a code (an index into ``labels``, as in metrics.json); default: code 1."""
    names = [str(label) for label in labels]
    y = _class_codes(y_true, len(names))
    proba = np.asarray(proba, dtype=np.float64)
    if len(names) <= 2:
        pos = 1 if positive_class is None else positive_class
        if isinstance(pos, bool) or not isinstance(pos, (int, np.integer)) or not 0 <= pos < len(names):
            raise ValueError(f"positive_class must be a class code 0..{len(names) - 1}; got {positive_class!r}")
        pos = int(pos)
        if proba.ndim == 1:  # P(code 1)
            score = proba if pos == 1 else 1.0 - proba
        else:
            score = proba[:, pos]
        return [(names[pos], y == pos, score)]
    return [(name, y == k, proba[:, k]) for k, name in enumerate(names)]


def _usable(curves) -> str | None:
    """Why these scores cannot be drawn (None when they can)."""
    if any(not np.isfinite(score).all() for _, _, score in curves):
        return "scores are not finite (the model diverged?)"
    if all(pos.all() or not pos.any() for _, pos, _ in curves):
        return "only one class present in y_true"
    return None


def _pick_curves(curves, value_of):
    """Every class curve when few; else the MAX_CLASS_CURVES with the lowest score (the ones to fix)."""
    present = [(name, pos, score) for name, pos, score in curves if 0 < pos.sum() < pos.size]
    scored = [(name, pos, score, value_of(pos, score)) for name, pos, score in present]
    if len(scored) <= MAX_CLASS_CURVES:
        return scored, ""
    worst = sorted(scored, key=lambda c: c[3])[:MAX_CLASS_CURVES]
    keep = {c[0] for c in worst}
    return [c for c in scored if c[0] in keep], f"{MAX_CLASS_CURVES} lowest of {len(scored)} classes"


def _class_figure(y_true, proba, labels, positive_class, value_of):
    """A square figure and the class curves to draw (none, with a message drawn, when unusable)."""
    curves = _class_scores(y_true, proba, labels, positive_class)
    fig, ax = _figure(size=(6.5, 6.0))
    reason = _usable(curves)
    if reason:
        _message(ax, reason)
        return fig, ax, [], ""
    picked, note = _pick_curves(curves, value_of)
    return fig, ax, picked, note


def roc_curve(y_true, proba, labels, positive_class, path, title: str):
    """ROC of class codes y_true: binary → the positive class (a code) with its AUC; multiclass →
    one-vs-rest curves with AUCs."""
    from sklearn.metrics import roc_auc_score
    from sklearn.metrics import roc_curve as sk_roc

    fig, ax, picked, note = _class_figure(y_true, proba, labels, positive_class, roc_auc_score)
    if not picked:
        return _save(fig, path, title)
    for name, pos, score, auc in picked:
        fpr, tpr, _ = sk_roc(pos, score)
        ax.plot(fpr, tpr, linewidth=1.8 if len(picked) == 1 else 1.2, label=f"{name} (AUC = {auc:.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="0.5", linewidth=1, label="chance (AUC = 0.5)")
    _finish_unit_axes(ax, "false positive rate", "true positive rate", "lower right", picked, note, "AUC")
    return _save(fig, path, title)


def pr_curve(y_true, proba, labels, positive_class, path, title: str):
    """Precision-recall: binary → the positive class with its AP; multiclass → one-vs-rest with APs."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig, ax, picked, note = _class_figure(y_true, proba, labels, positive_class, average_precision_score)
    if not picked:
        return _save(fig, path, title)
    for name, pos, score, ap in picked:
        precision, recall, _ = precision_recall_curve(pos, score)
        ax.plot(recall, precision, linewidth=1.8 if len(picked) == 1 else 1.2,
                label=f"{name} (AP = {ap:.3f})", drawstyle="steps-post")  # fmt: skip
    # chance = a classifier without skill: precision = the class's prevalence at every recall
    # (one-vs-rest: one line at the mean prevalence, 1/k when every class is shown)
    prevalence = float(np.mean([c[1].mean() for c in picked]))
    which = "" if len(picked) == 1 else ", mean over classes"
    label = f"chance (prevalence{which} {prevalence:.2f})"
    ax.axhline(prevalence, linestyle="--", color="0.5", linewidth=1, label=label)
    _finish_unit_axes(ax, "recall", "precision", "lower left", picked, note, "AP")
    return _save(fig, path, title)


def _finish_unit_axes(ax, xlabel, ylabel, loc, picked, note, what) -> None:
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_aspect("equal")
    ax.grid(True, alpha=0.3)
    if len(picked) > 1:
        mean = np.mean([c[3] for c in picked])
        heading = f"one-vs-rest, mean {what} {mean:.3f}" + (f"\n({note})" if note else "")
    else:
        heading = None
    ax.legend(loc=loc, fontsize=8 if len(picked) > 4 else 9, title=heading, title_fontsize=8)


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
    ax.set_xscale("log")
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
