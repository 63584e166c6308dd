"""Figures of a classifier's test predictions: confusion matrix, ROC and precision-recall curves."""

from __future__ import annotations

import numpy as np

from mlrun.runs import plots as base  # the module: figure plumbing looked up at call time

MAX_CLASS_CURVES = 10
MAX_CELL_TEXT = 30   # counts written in the cells up to this many classes
MAX_TICK_LABELS = 40  # class names on the axes: every k-th beyond this many (1,000 labels took 30 s to draw)


def confusion_matrix(cm, labels, path, title: str):
    """Counts annotated in each cell; colour = the cell's share of its true-class row."""
    cm = np.asarray(cm, dtype=np.int64)
    n = cm.shape[0]
    side = min(4.0 + 0.45 * n, 11.0)
    fig, ax = base._figure(size=(side + 1.2, side))
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0)
    image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
    cbar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label("share of the true class (row)")
    blank = _annotate_cells(ax, cm, share)
    every = -(-n // MAX_TICK_LABELS)  # ceil: at most MAX_TICK_LABELS names per axis
    ticks = list(range(0, n, every))
    names = [str(labels[i]) for i in ticks]
    longest = max(map(len, names), default=0)
    tilt = {"rotation": 45, "ha": "right", "rotation_mode": "anchor"} if longest > 3 else {}
    size = 10 if len(ticks) <= 20 else 7
    ax.set_xticks(ticks, names, fontsize=size, **tilt)
    ax.set_yticks(ticks, names, fontsize=size)
    note = "" if every == 1 else f", every {every}th class named"
    ax.set_xlabel("predicted" + note)
    ax.set_ylabel("true")
    accuracy = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(f"confusion matrix (n = {cm.sum()}, accuracy {accuracy:.3f}{'; blank cells: 0' if blank else ''})",
                 fontsize=10)
    name_inches = min(0.012 * size * min(longest, 24), 2.2)  # a tick label's length on the page
    left = 0.55 + name_inches
    bottom = 0.55 + (0.72 * name_inches if tilt else 0.15)
    return base._save(fig, path, title, margins=(left, bottom, 0.75, 0.75))


def _annotate_cells(ax, cm, share) -> bool:
    """Counts in the non-zero cells (up to MAX_CELL_TEXT classes), white on dark cells, smaller fonts for
    more; True when some cells were left blank (zero). A text costs ~1 ms to lay out and draw, and most
    cells of a useful classifier's matrix are zero: 16 texts instead of 100 for the digits."""
    n = cm.shape[0]
    if n > MAX_CELL_TEXT:
        return False
    size = 10 if n <= 10 else max(5, 10 - (n - 10) // 4)
    for i, j in zip(*np.nonzero(cm)):
        color = "white" if share[i, j] > 0.5 else "black"
        ax.text(j, i, str(cm[i, j]), ha="center", va="center", color=color, fontsize=size)
    return bool((cm == 0).any())


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


def _pick_curves(curves, points_of):
    """[(name, is_positive, x, y, value)]: every class curve when few; else the MAX_CLASS_CURVES with the
    lowest value (the ones to fix). Each curve is computed once, its value from its own points."""
    present = [(name, pos, score) for name, pos, score in curves if 0 < pos.sum() < pos.size]
    scored = [(name, pos, *points_of(pos, score)) for name, pos, score in present]
    if len(scored) <= MAX_CLASS_CURVES:
        return scored, ""
    worst = sorted(scored, key=lambda c: c[-1])[:MAX_CLASS_CURVES]
    keep = {c[0] for c in worst}
    return [c for c in scored if c[0] in keep], f"{MAX_CLASS_CURVES} lowest of {len(scored)} classes"


def _counts(pos, score):
    """(false positives, true positives) at each distinct threshold, highest first, from (0, 0): the
    counts scikit-learn's roc_curve and precision_recall_curve start from, without their per-call input
    checks (~3 ms a class: seconds for a thousand classes, whose curves are all computed to pick ten)."""
    order = np.argsort(score, kind="mergesort")[::-1]
    score, pos = score[order], pos[order]
    last = np.r_[np.flatnonzero(np.diff(score)), score.size - 1]  # the last row of each tied run
    tps = np.cumsum(pos, dtype=np.float64)[last]
    return np.r_[0.0, 1.0 + last - tps], np.r_[0.0, tps]


def _roc_points(pos, score):
    """(fpr, tpr, AUC), the AUC by trapezoids as roc_auc_score (tests: equal to it)."""
    fps, tps = _counts(pos, score)
    fpr, tpr = fps / fps[-1], tps / tps[-1]
    return fpr, tpr, float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2)


def _pr_points(pos, score):
    """(recall, precision, AP), AP = Σ (Rₙ - Rₙ₋₁) Pₙ as average_precision_score (tests: equal to it)."""
    fps, tps = _counts(pos, score)
    fps, tps = fps[1:], tps[1:]
    precision = np.r_[(tps / (tps + fps))[::-1], 1.0]
    recall = np.r_[(tps / tps[-1])[::-1], 0.0]
    return recall, precision, float(-np.sum(np.diff(recall) * precision[:-1]))


def _class_figure(y_true, proba, labels, positive_class, points_of):
    """A square figure and the class curves to draw (none, with a message drawn, when unusable)."""
    curves = _class_scores(y_true, proba, labels, positive_class)
    fig, ax = base._figure(size=(6.5, 6.0))
    reason = _usable(curves)
    if reason:
        base._message(ax, reason)
        return fig, ax, [], ""
    picked, note = _pick_curves(curves, points_of)
    return fig, ax, picked, note


def roc_curve(y_true, proba, labels, positive_class, path, title: str):
    """ROC of class codes y_true: binary → the positive class (a code) with its AUC; multiclass →
    one-vs-rest curves with AUCs."""
    fig, ax, picked, note = _class_figure(y_true, proba, labels, positive_class, _roc_points)
    if not picked:
        return base._save(fig, path, title)
    for name, _, fpr, tpr, auc in picked:
        ax.plot(fpr, tpr, linewidth=1.8 if len(picked) == 1 else 1.2, label=f"{name} (AUC = {auc:.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="0.5", linewidth=1, label="chance (AUC = 0.5)")
    _finish_unit_axes(ax, "false positive rate", "true positive rate", "lower right", picked, note, "AUC")
    return base._save(fig, path, title)


def pr_curve(y_true, proba, labels, positive_class, path, title: str):
    """Precision-recall: binary → the positive class with its AP; multiclass → one-vs-rest with APs."""
    fig, ax, picked, note = _class_figure(y_true, proba, labels, positive_class, _pr_points)
    if not picked:
        return base._save(fig, path, title)
    for name, _, recall, precision, ap in picked:
        ax.plot(recall, precision, linewidth=1.8 if len(picked) == 1 else 1.2,
                label=f"{name} (AP = {ap:.3f})", drawstyle="steps-post")  # fmt: skip
    # chance = a classifier without skill: precision = the class's prevalence at every recall
    # (one-vs-rest: one line at the mean prevalence, 1/k when every class is shown)
    prevalence = float(np.mean([c[1].mean() for c in picked]))
    which = "" if len(picked) == 1 else ", mean over classes"
    label = f"chance (prevalence{which} {prevalence:.2f})"
    ax.axhline(prevalence, linestyle="--", color="0.5", linewidth=1, label=label)
    _finish_unit_axes(ax, "recall", "precision", "lower left", picked, note, "AP")
    return base._save(fig, path, title)


def _finish_unit_axes(ax, xlabel, ylabel, loc, picked, note, what) -> None:
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_aspect("equal")
    ax.grid(True, alpha=0.3)
    if len(picked) > 1:
        mean = np.mean([c[-1] for c in picked])
        heading = f"one-vs-rest, mean {what} {mean:.3f}" + (f"\n({note})" if note else "")
    else:
        heading = None
    ax.legend(loc=loc, fontsize=8 if len(picked) > 4 else 9, title=heading, title_fontsize=8)


