"""Plots: each function writes a real PNG (atomically) for binary, multiclass and regression inputs,
and the numbers it prints in legends are the scikit-learn ones."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from mlrun.runs import class_plots, overlay, plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _check_png(path) -> None:
    width, height = _png_size(path)
    assert 400 <= width <= 2500 and 300 <= height <= 2000, (width, height)
    assert path.stat().st_size > 5_000  # a drawn figure, not a blank canvas
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []  # no temp left


@pytest.fixture
def captured(monkeypatch):
    """Texts of every figure saved (legend entries, titles, tick labels), read before it is cleared."""
    texts: list[list[str]] = []
    save = plots._save

    def spy(fig, path, title, **options):
        seen = []
        for ax in fig.axes:
            legend = ax.get_legend()
            if legend is not None:
                seen += [t.get_text() for t in legend.get_texts()] + [legend.get_title().get_text()]
            seen += [t.get_text() for t in ax.texts] + [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
            seen.append(f"yscale={ax.get_yscale()}")
        texts.append(seen + [f"suptitle={title}"])
        return save(fig, path, title, **options)

    monkeypatch.setattr(plots, "_save", spy)
    return texts


def _history(n=20, val=True):
    rows = []
    for e in range(1, n + 1):
        row = {"epoch": e, "learning_rate": 0.01 * 0.9**e, "momentum": 0.9, "train_loss": 3.0 * 0.7**e,
               "grad_norm": 1.0 / e, "seconds": 0.1}  # fmt: skip
        if val:
            row["val_loss"] = 3.0 * 0.7**e + 0.002 * (e - 12) ** 2  # best at epoch 14
        rows.append(row)
    return rows


def _binary(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p1 = np.clip(0.5 * y + rng.uniform(0, 0.6, n), 0, 1)
    return y, np.column_stack([1 - p1, p1])


def _multiclass(n=300, k=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 2.0 * np.eye(k)[y] * np.linspace(0.2, 1.5, k)
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba


# ---------------------------------------------------------------- learning curves


def test_learning_curve(tmp_path, captured):
    path = plots.learning_curve(_history(), tmp_path / "lc.png", "digits-elu-20240101-000000-abcd")
    _check_png(path)
    texts = captured[0]
    assert "best val_loss 0.02835 (epoch 14)" in texts  # 3 * 0.7**14 + 0.002 * 2**2 = 0.028347
    assert "suptitle=digits-elu-20240101-000000-abcd" in texts
    assert "yscale=log" in texts  # 2.1 -> 0.0024: more than two decades
    assert "learning rate" in texts and "loss" in texts


def test_learning_curve_without_validation_and_short(tmp_path, captured):
    _check_png(plots.learning_curve(_history(3, val=False), tmp_path / "a.png", "r"))
    assert not any(t.startswith("best") for t in captured[0])
    assert "yscale=linear" in captured[0]  # 2.1 -> 1.03: linear axis
    _check_png(plots.learning_curve([], tmp_path / "b.png", "empty run"))
    assert "no epochs recorded" in captured[1]


def test_learning_curve_diverged_values(tmp_path):
    history = _history(5)
    history[-1].update(train_loss=float("inf"), val_loss=None, learning_rate=None)
    _check_png(plots.learning_curve(history, tmp_path / "lc.png", "diverged"))


def test_overlay_learning_curves(tmp_path, captured):
    curves = [(f"run-{i}", _history(10)) for i in range(14)]
    curves[1] = ("run-1", _history(10, val=False))
    _check_png(overlay.overlay_learning_curves(curves, tmp_path / "o.png", "compare"))
    texts = captured[0]
    labels = [t for t in texts if t.startswith("run-")]
    assert len(labels) == 12 and "run-1 (train_loss)" in labels and "run-12" not in labels
    assert "12 of 14 runs" in texts
    _check_png(overlay.overlay_learning_curves(curves[:2], tmp_path / "t.png", "compare", key="train_loss"))
    assert [t for t in captured[1] if t.startswith("run-")] == ["run-0", "run-1"]


# ---------------------------------------------------------------- classification


def test_confusion_matrix(tmp_path, captured):
    cm = [[50, 2, 0], [5, 40, 5], [0, 0, 0]]  # an empty true row must not divide by zero
    _check_png(class_plots.confusion_matrix(cm, ["setosa", "versicolor", "virginica"], tmp_path / "cm.png", "iris"))
    texts = captured[0]
    assert "confusion matrix (n = 102, accuracy 0.882; blank cells: 0)" in texts  # 90 / 102
    assert "predicted" in texts and "true" in texts
    cells = [t for t in texts if t.isdigit()]
    assert cells == ["50", "2", "5", "40", "5"]  # the non-zero cells, row by row


def test_confusion_matrix_many_classes(tmp_path, captured):
    cm = np.diag(np.arange(1, 25)).tolist()
    cm[3][5] = 7
    _check_png(class_plots.confusion_matrix(cm, [f"class-{i}" for i in range(24)], tmp_path / "cm.png", "many"))
    assert "confusion matrix (n = 307, accuracy 0.977; blank cells: 0)" in captured[0]  # 300 / 307
    assert len([t for t in captured[0] if t.isdigit()]) == 25  # the non-zero cells, still at 24 classes
    _check_png(class_plots.confusion_matrix([[3, 1], [2, 4]], ["a", "b"], tmp_path / "full.png", "full"))
    assert "confusion matrix (n = 10, accuracy 0.700)" in captured[1]  # no blank cell: no note


@pytest.mark.parametrize("labels", [["neg", "pos"], ["0", "1"], ["1", "2"], ["2", "1"]])
@pytest.mark.parametrize("positive", [0, 1])
def test_roc_pr_binary_draw_the_positive_code_whatever_the_labels(tmp_path, captured, labels, positive):
    # y_true are codes and the positive class is a code: labels {1, 2} must not be read as codes
    y, proba = _binary()
    _check_png(class_plots.roc_curve(y, proba, labels, positive, tmp_path / "roc.png", "bin"))
    _check_png(class_plots.pr_curve(y, proba, labels, positive, tmp_path / "pr.png", "bin"))
    auc = roc_auc_score(y == positive, proba[:, positive])
    ap = average_precision_score(y == positive, proba[:, positive])
    assert f"{labels[positive]} (AUC = {auc:.3f})" in captured[0] and "chance (AUC = 0.5)" in captured[0]
    assert f"{labels[positive]} (AP = {ap:.3f})" in captured[1]
    assert f"chance (prevalence {np.mean(y == positive):.2f})" in captured[1]


def test_roc_binary_one_column_scores_and_default_positive(tmp_path, captured):
    y, proba = _binary(seed=1)
    _check_png(class_plots.roc_curve(y, proba[:, 1], [0, 1], None, tmp_path / "roc.png", "bin"))
    assert f"1 (AUC = {roc_auc_score(y, proba[:, 1]):.3f})" in captured[0]


def test_roc_pr_multiclass(tmp_path, captured):
    y, proba = _multiclass()
    labels = ["a", "b", "c", "d"]
    _check_png(class_plots.roc_curve(y, proba, labels, None, tmp_path / "roc.png", "multi"))
    _check_png(class_plots.pr_curve(y, proba, labels, None, tmp_path / "pr.png", "multi"))
    aucs = [roc_auc_score(y == k, proba[:, k]) for k in range(4)]
    aps = [average_precision_score(y == k, proba[:, k]) for k in range(4)]
    for k, name in enumerate(labels):
        assert f"{name} (AUC = {aucs[k]:.3f})" in captured[0]
        assert f"{name} (AP = {aps[k]:.3f})" in captured[1]
    assert f"one-vs-rest, mean AUC {np.mean(aucs):.3f}" in captured[0]
    assert "chance (prevalence, mean over classes 0.25)" in captured[1]  # 1/k with every class drawn


def test_roc_many_classes_draws_the_ten_lowest(tmp_path, captured):
    y, proba = _multiclass(n=900, k=15, seed=2)
    labels = [f"k{i}" for i in range(15)]
    _check_png(class_plots.roc_curve(y, proba, labels, None, tmp_path / "roc.png", "15 classes"))
    aucs = {f"k{k}": roc_auc_score(y == k, proba[:, k]) for k in range(15)}
    drawn = [t.split(" ")[0] for t in captured[0] if "(AUC =" in t and not t.startswith("chance")]
    assert sorted(drawn) == sorted(sorted(aucs, key=aucs.get)[:10])
    assert any("10 lowest of 15 classes" in t for t in captured[0])


def test_roc_unusable_scores_draw_a_message(tmp_path, captured):
    y, proba = _binary()
    proba[3, 1] = np.nan
    _check_png(class_plots.roc_curve(y, proba, ["0", "1"], 1, tmp_path / "roc.png", "nan"))
    assert "scores are not finite (the model diverged?)" in captured[0]
    _, proba = _binary()
    _check_png(class_plots.pr_curve(np.ones(200, int), proba, ["0", "1"], 1, tmp_path / "pr.png", "one class"))
    assert "only one class present in y_true" in captured[1]


def test_class_codes_and_positive_code_are_checked(tmp_path):
    with pytest.raises(ValueError, match="class codes 0..1"):
        class_plots.roc_curve(np.array(["a", "b"]), np.full((2, 2), 0.5), ["a", "b"], 0, tmp_path / "r.png", "t")
    with pytest.raises(ValueError, match="class codes 0..1"):
        class_plots.roc_curve(np.array([1, 2]), np.full((2, 2), 0.5), ["1", "2"], 0, tmp_path / "r.png", "t")
    with pytest.raises(ValueError, match="positive_class must be a class code 0..1; got 'a'"):
        class_plots.roc_curve(np.array([0, 1]), np.full((2, 2), 0.5), ["a", "b"], "a", tmp_path / "r.png", "t")
    with pytest.raises(ValueError, match="got 2"):
        class_plots.roc_curve(np.array([0, 1]), np.full((2, 2), 0.5), ["1", "2"], 2, tmp_path / "r.png", "t")


def test_class_codes():
    assert class_plots._class_codes(np.array([1.0, 0.0, 1.0]), 2).tolist() == [1, 0, 1]  # floats from CSV
    assert class_plots._class_codes(np.array([2, 0]), 3).tolist() == [2, 0]
    with pytest.raises(ValueError):
        class_plots._class_codes(np.array([0.5]), 2)


# ---------------------------------------------------------------- regression


def test_residuals(tmp_path, captured):
    rng = np.random.default_rng(0)
    y = rng.normal(100, 30, size=(250, 2)).astype(np.float32)
    y_pred = y + rng.normal(0, 5, size=y.shape).astype(np.float32)
    _check_png(plots.residuals(y, y_pred, tmp_path / "res.png", "friedman"))
    e = (y[:, 0] - y_pred[:, 0]).astype(np.float64)
    r2 = 1 - np.sum(e**2) / np.sum((y[:, 0] - y[:, 0].mean()) ** 2)
    assert f"R² = {r2:.3f}, RMSE = {np.sqrt(np.mean(e**2)):.4g}" in captured[0]
    assert "true (target 1 of 2)" in captured[0]
    _check_png(plots.residuals(y[:, 0], y_pred[:, 0], tmp_path / "one.png", "one target"))
    assert "true" in captured[1]


# ---------------------------------------------------------------- lr-find


def _lr_curve(n=200):
    lrs = np.geomspace(1e-5, 10, n)
    smoothed = 2.3 - 1.8 / (1 + np.exp(-3 * (np.log10(lrs) + 2.5)))
    smoothed[lrs > 0.3] = 2.3 * (lrs[lrs > 0.3] / 0.3) ** 4  # the explosion
    losses = smoothed + np.random.default_rng(0).normal(0, 0.05, n)
    losses[-1] = np.inf
    return lrs, losses, smoothed


def test_lr_find(tmp_path, captured):
    lrs, losses, smoothed = _lr_curve()
    suggestions = {"minimum": 0.05, "steepest": 3e-3, "valley": 1e-2, "broken": None}
    _check_png(plots.lr_find(lrs, losses, smoothed, suggestions, "valley", tmp_path / "lr.png", "lr-find"))
    texts = captured[0]
    assert "valley: 1.00e-02  (chosen)" in texts and "minimum: 5.00e-02" in texts
    assert "steepest: 3.00e-03" in texts and not any(t.startswith("broken") for t in texts)
    assert "1.00e-02" in texts  # the chosen value written beside its line


def test_lr_find_ylim_ignores_the_explosion():
    _, _, smoothed = _lr_curve()
    low, high = plots._lr_find_ylim(smoothed)
    # minimum m = 0.5 (the plateau), start level 2.3: limits m - 0.1 (2.3 - m) and 2.3 + 0.5 (2.3 - m)
    m = smoothed.min()
    assert smoothed.max() > 1e3 and m == pytest.approx(0.5, abs=0.01)
    assert low == pytest.approx(m - 0.1 * (2.3 - m), abs=0.01)
    assert high == pytest.approx(2.3 + 0.5 * (2.3 - m), abs=0.01)
    # raw losses below the (lagging) smoothed curve stay in view
    raw = smoothed.copy()
    raw[50] = 0.2
    raw[-1] = np.inf
    low, high = plots._lr_find_ylim(smoothed, raw)
    assert low == pytest.approx(0.2 - 0.1 * (2.3 - 0.2), abs=0.01)
    assert high == pytest.approx(2.3 + 0.5 * (2.3 - 0.2), abs=0.01)
    assert plots._lr_find_ylim(np.array([np.nan, 1.0])) is None


def test_log_scale_rule():
    for values, scale in [([1.0, 50.0], "linear"), ([1.0, 101.0], "log"), ([-1.0, 1e4], "linear"),
                          ([np.nan, 1e-3, 1.0], "log")]:  # fmt: skip
        _, ax = plots._figure()
        plots._log_if_wide(ax, np.array(values))
        assert ax.get_yscale() == scale, values


def test_log_axis_labels_are_plain_text_powers():
    # the same labels as matplotlib's, without mathtext (parsing it was a third of a log-axis figure)
    assert plots._plain_power(r"$\mathdefault{3\times10^{-4}}$") == "3×10⁻⁴"
    assert plots._plain_power(r"$\mathdefault{10^{12}}$") == "10¹²"
    assert plots._plain_power("0.5") == "0.5" and plots._plain_power("") == ""
    fig, ax = plots._figure()
    ax.plot([1, 2, 3], [2e-4, 1e-3, 5e-2])
    plots.log_scale(ax, "y")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "10⁻³" in labels and "10⁻²" in labels and not any("$" in t for t in labels)


@pytest.mark.parametrize(("labels", "rare", "configured"), [
    (["fraud", "ok"], 0, None), (["fraud", "ok"], 0, "fraud"),  # string labels, the rare one first
    (["1", "2"], 1, None), (["1", "2"], 0, None), (["1", "2"], 1, 2),  # numeric labels, rare last / first
])  # fmt: skip
def test_a_binary_run_draws_and_measures_the_same_positive_class(tmp_path, captured, labels, rare, configured):
    import csv
    import json

    import mlrun

    rng = np.random.default_rng(0)
    y = np.where(rng.random(240) < 0.2, rare, 1 - rare)
    X = rng.standard_normal((240, 2)) + 1.5 * (y == rare)[:, None]
    path = tmp_path / "d.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["label", "a", "b"])
        writer.writerows([labels[t], *x] for t, x in zip(y, X))
    data = {"dataset": "csv", "path": str(path), "target": "label", "positive_class": configured}
    spec = {"name": "bin", "data": data, "model": {"hidden_layers": 0}, "training": {"epochs": 3}}
    run = mlrun.train(spec, runs_dir=tmp_path / "runs")
    record = json.loads((run.path / "run.json").read_text())
    test = json.loads((run.path / "metrics.json").read_text())["test"]
    assert not [w for w in record.get("warnings", []) if "plots" in w]
    assert (run.path / "plots" / "roc.png").is_file() and (run.path / "plots" / "pr.png").is_file()
    roc, pr = captured[-2], captured[-1]
    assert f"{labels[rare]} (AUC = {test['roc_auc']:.3f})" in roc
    assert f"{labels[rare]} (AP = {test['pr_auc']:.3f})" in pr
    cm = np.array(test["confusion_matrix"])
    assert f"chance (prevalence {cm[rare].sum() / cm.sum():.2f})" in pr


def test_a_thousand_class_confusion_matrix_names_every_kth_class_and_writes_no_cells(tmp_path, monkeypatch):
    drawn = {}
    save = plots._save

    def spy(fig, path, title, **layout):
        ax = fig.axes[0]
        drawn.update(cells=len(ax.texts), x=[t.get_text() for t in ax.get_xticklabels()],
                     y=len(ax.get_yticklabels()), xlabel=ax.get_xlabel())
        return save(fig, path, title, **layout)

    monkeypatch.setattr(plots, "_save", spy)
    cm = np.random.default_rng(0).integers(0, 5, (1000, 1000))
    class_plots.confusion_matrix(cm, [f"class-{i}" for i in range(1000)], tmp_path / "cm.png", "big")
    assert drawn["cells"] == 0 and drawn["y"] == len(drawn["x"]) == 40
    assert drawn["x"][:3] == ["class-0", "class-25", "class-50"] and "every 25th class" in drawn["xlabel"]
    assert (tmp_path / "cm.png").stat().st_size > 10_000


def test_png_bytes_decode_to_the_drawn_pixels(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (37, 53, 4), dtype=np.uint8)  # odd sizes: no row padding assumed
    path = tmp_path / "x.png"
    path.write_bytes(plots.png_bytes(rgba))
    with Image.open(path) as image:
        assert image.mode == "RGBA" and image.size == (53, 37)
        assert np.array_equal(np.asarray(image), rgba)
        assert image.info["dpi"] == pytest.approx((plots.DPI, plots.DPI), abs=0.01)


@pytest.mark.parametrize("decimals", [None, 1])  # 1: many tied scores
def test_curve_values_are_scikit_learns_scores(decimals):
    # each curve is computed once and its AUC / AP from its own points: the very numbers of
    # roc_auc_score and average_precision_score (metrics.json's), ties included
    y, proba = _multiclass(n=400, k=5, seed=3)
    scores = proba if decimals is None else np.round(proba, decimals)
    for k in range(5):
        assert class_plots._roc_points(y == k, scores[:, k])[2] == pytest.approx(
            roc_auc_score(y == k, scores[:, k]), abs=1e-12)
        assert class_plots._pr_points(y == k, scores[:, k])[2] == pytest.approx(
            average_precision_score(y == k, scores[:, k]), abs=1e-12)


def test_a_failing_figure_is_a_warning_drawn_after_the_result_is_on_disk(tmp_path, monkeypatch):
    import json

    import mlrun
    from mlrun.diagnostics import figures

    seen = {}

    def broken(kind):
        def draw(*args, **kwargs):
            run_dir = args[-2].parent.parent  # the figure's path: <run>/plots/<name>.png
            seen.setdefault(kind, sorted(p.name for p in run_dir.iterdir() if p.name in ("metrics.json", "model.npz")))
            raise RuntimeError(f"{kind} broke")
        return draw

    monkeypatch.setattr(plots, "learning_curve", broken("learning curve"))
    monkeypatch.setattr(figures, "curves", broken("diagnostics"))
    spec = {"name": "broken-figures", "data": {"dataset": "iris"}, "model": {"hidden_layers": 1, "neurons": 8},
            "training": {"epochs": 2}}
    run = mlrun.train(spec, runs_dir=tmp_path)
    record = json.loads((run.path / "run.json").read_text())
    assert record["status"] == "completed" and run.metrics["test"]["accuracy"] > 0
    assert seen == {"learning curve": ["metrics.json", "model.npz"], "diagnostics": ["metrics.json", "model.npz"]}
    assert "plots: RuntimeError: learning curve broke" in record["warnings"]
    assert "diagnostics plots: RuntimeError: diagnostics broke" in record["warnings"]
    assert mlrun.load_model(run.path).predict(np.zeros((1, 4))).shape == (1,)


def test_run_figures_use_fixed_layouts_and_few_ticks(tmp_path, monkeypatch):
    # tight_layout and bbox_inches="tight" draw a figure twice to measure its text; the run's figures
    # (diagnostics included) are laid out with fixed margins, with at most TICK_INTERVALS + 1 ticks
    from matplotlib.figure import Figure

    from mlrun.diagnostics import figures

    def refuse(*args, **kwargs):
        raise AssertionError("a measured layout")

    monkeypatch.setattr(Figure, "tight_layout", refuse)
    monkeypatch.setattr(Figure, "savefig", refuse)
    rng = np.random.default_rng(0)
    layers = [{"layer": 1}, {"layer": 2}]
    quantities = lambda e, n: (("act_mean", 0.1 * n), ("act_std", 0.5), ("saturated", 0.01 * e),  # noqa: E731
                               ("grad_std", 1e-3 / (e + 1)))
    rows = [{"epoch": e, "layer": n, "quantity": q, "value": v}
            for e in range(0, 40, 5) for n in (1, 2) for q, v in quantities(e, n)]
    samples = {stage: {n: {"activation": rng.normal(size=500), "gradient": 1e-3 * rng.normal(size=500), "epoch": e}
                       for n in (1, 2)} for stage, e in (("init", 0), ("end", 35))}
    diag = {"rows": rows, "layers": layers, "samples": samples}
    ticks = []
    save = plots._save

    def spy(fig, path, title, **options):
        for ax in fig.axes:
            for axis, (low, high) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
                if axis.get_scale() == "linear":
                    ticks.append(sum(min(low, high) <= t <= max(low, high) for t in axis.get_majorticklocs()))
        return save(fig, path, title, **options)

    monkeypatch.setattr(plots, "_save", spy)
    _check_png(figures.curves(diag["rows"], diag["layers"], tmp_path / "d.png", "t"))
    _check_png(figures.histograms(diag["samples"], diag["layers"], "gradient", "g", tmp_path / "g.png", "t"))
    _check_png(plots.learning_curve(_history(), tmp_path / "lc.png", "t"))
    assert ticks and max(ticks) <= plots.TICK_INTERVALS + 1, ticks
