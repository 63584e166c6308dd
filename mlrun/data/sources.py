"""Datasets: scikit-learn's offline sets and generators, or a CSV file (read by ``user_csv``);
split, scale, encode.

``load_dataset(data)`` takes the spec's ``data:`` section: the test split is taken first (a fraction
of the whole), then validation (also a fraction of the whole) from the rest; feature scaling and the
regression-target standardisation are fitted on the training part only.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from mlrun.data.dataset import DataError, Dataset, Preprocessor, RawData, join_values, label_key, plain_array
from mlrun.data.names import DEFAULTS, GENERATORS, LOADERS
from mlrun.data.user_csv import raw_from_csv

MAX_AUTO_CLASSES = 20  # task auto: integral numeric targets with more distinct values are regression


# ----------------------------------------------------------------------------------------- loading
def _call_sklearn(name: str, func, params: dict):
    """The loader's or generator's result; a bad value (the spec checked the names) is a DataError."""
    try:
        return func(**params)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name}: {str(exc).splitlines()[0]}") from None


def _from_loader(name: str, params: dict) -> RawData:
    from sklearn import datasets

    func_name, task = LOADERS[name]
    bunch = _call_sklearn(name, getattr(datasets, func_name), params)
    y = np.asarray(bunch.target)
    names = [str(n) for n in getattr(bunch, "target_names", [])]
    if task == "classification" and len(names) and np.issubdtype(y.dtype, np.integer):
        y = np.asarray(bunch.target_names)[y]  # readable labels: 'setosa', 'malignant', ...
        names = ["target"]
    return RawData(np.asarray(bunch.data, dtype=np.float64), y, [str(n) for n in bunch.feature_names],
                names or ["target"], task, name)


GENERATOR_FEATURES = {"make_moons": 2, "make_circles": 2, "make_blobs": 2, "make_classification": 20,
                      "make_regression": 100, "make_friedman1": 10}  # sklearn's defaults


def _check_generator_size(name: str, params: dict) -> None:
    """n_samples x n_features estimated before sklearn allocates them (float64, ~4 copies: raw, splits,
    scaled, float32), refused above this machine's memory with the figure."""
    from mlrun.inputs import physical_memory, size_text

    def count(value, default):
        if isinstance(value, (list, tuple)):
            return sum(int(v) for v in value if isinstance(v, (int, float)))
        return int(value) if isinstance(value, (int, float)) and math.isfinite(value) else default

    rows = count(params.get("n_samples"), 100)
    if name == "make_blobs":  # an int `centers` is drawn as that many more points
        rows += count(params.get("centers"), 0) if isinstance(params.get("centers"), int) else 0
    cols = count(params.get("n_features"), GENERATOR_FEATURES.get(name, 2))
    needed = rows * cols * 8 * 4
    if needed > physical_memory():
        raise DataError(f"{name}: {rows:.3g} samples x {cols:,} features would take about {size_text(needed)}; "
                        f"this machine has {size_text(physical_memory())}: lower data.n_samples")


def _from_generator(name: str, params: dict, seed: int) -> RawData:
    from sklearn import datasets

    _check_generator_size(name, params)
    params = {"random_state": seed, **params}
    X, y = _call_sklearn(name, getattr(datasets, name), params)[:2]
    X = np.asarray(X, dtype=np.float64)
    n_targets = 1 if np.ndim(y) == 1 else np.shape(y)[1]
    targets = ["y"] if n_targets == 1 else [f"y{i}" for i in range(n_targets)]
    return RawData(X, np.asarray(y), [f"x{i}" for i in range(X.shape[1])], targets, GENERATORS[name], name)


def _load_raw(opts: dict, seed: int, csv_text: str | None) -> RawData:
    name = opts["dataset"]
    params = dict(opts["params"] or {})
    if name == "csv":
        return raw_from_csv(opts, csv_text)
    if name in LOADERS:
        return _from_loader(name, params)
    if name == "mnist1d":
        from mlrun.data.mnist1d import raw_mnist1d

        return raw_mnist1d(params)[0]
    return _from_generator(name, params, seed)


# -------------------------------------------------------------------------------------------- task
def _auto_task(y: np.ndarray) -> str:
    """sklearn's type_of_target, except that integral numbers with many distinct values are targets."""
    from sklearn.utils.multiclass import type_of_target

    if y.ndim == 2 and y.shape[1] > 1:
        return "regression"
    kind = type_of_target(y.ravel())
    if kind == "continuous":
        return "regression"
    if kind in ("binary", "multiclass"):
        many = y.dtype.kind not in "US" and len(np.unique(y)) > MAX_AUTO_CLASSES
        return "regression" if many else "classification"
    raise DataError(f"cannot tell the task from the target values (type '{kind}'); set task explicitly")


def _resolve_task(requested: str, raw: RawData) -> str:
    from sklearn.utils.multiclass import type_of_target

    natural = raw.task or _auto_task(raw.y)
    target = ", ".join(raw.target_names)
    if requested == "classification" and natural == "regression":
        if raw.task == "regression":
            raise DataError(f"dataset '{raw.where}' is a regression set; use task: regression or auto")
        if raw.y.ndim == 2 and raw.y.shape[1] > 1:
            raise DataError(f"classification needs a single target column; got {target}")
        if type_of_target(raw.y) not in ("binary", "multiclass"):
            raise DataError(f"task is classification but target '{target}' is continuous "
                            f"(e.g. {raw.y[0]}); use task: regression")
    if requested == "regression" and raw.y.dtype.kind in "US":
        raise DataError(f"task is regression but target '{target}' holds text labels "
                        f"(e.g. '{raw.y[0]}'); use task: classification")
    return natural if requested == "auto" else requested


def _encode(y: np.ndarray, task: str) -> tuple[np.ndarray | None, np.ndarray]:
    """Classification: (sorted original labels, int64 codes); regression: (None, float64 (n, t))."""
    if task == "regression":
        return None, np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise DataError(f"the target has a single class ('{classes[0]}'); classification needs two or more")
    return plain_array(classes), codes.astype(np.int64).ravel()


# ------------------------------------------------------------------------------------------ splits
def _count(fraction: float, n: int) -> int:
    """Rows in a split that is `fraction` of the whole: rounded to nearest, at least 1 when > 0."""
    return 0 if fraction <= 0 else max(1, math.floor(fraction * n + 0.5))


def _stratifiable(labels: np.ndarray, n_take: int, n_keep: int) -> bool:
    counts = np.bincount(labels)
    counts = counts[counts > 0]
    return counts.min() >= 2 and min(n_take, n_keep) >= len(counts)


def _check_stratified(labels, n_take, n_keep, split, classes) -> None:
    codes, counts = np.unique(labels, return_counts=True)
    for code, count in zip(codes, counts):
        if count < 2:
            raise DataError(f"class '{classes[code]}' has only {count} row left for the stratified {split} "
                            f"split (2 needed); add rows or set data.stratify: false")
    if min(n_take, n_keep) < len(codes):
        raise DataError(f"a stratified {split} split of {n_take} rows (leaving {n_keep}) cannot hold all "
                        f"{len(codes)} classes; change data.{split}_size or set data.stratify: false")


def _take(idx, codes, n_take, stratify, seed, split, classes):
    """Split `n_take` rows off `idx`: (kept, taken)."""
    from sklearn.model_selection import train_test_split

    if n_take == 0:
        return idx, idx[:0]
    labels = codes[idx] if stratify else None
    if stratify:
        _check_stratified(labels, n_take, len(idx) - n_take, split, classes)
    return tuple(train_test_split(idx, test_size=n_take, random_state=seed, stratify=labels))


def _split_indices(codes, task, opts, seed, classes):
    n = len(codes)
    n_test, n_val = _count(opts["test_size"], n), _count(opts["validation_size"], n)
    if n - n_test - n_val < 1:
        raise DataError(f"test_size {opts['test_size']} and validation_size {opts['validation_size']} "
                        f"leave no training rows out of {n}")
    stratify = task == "classification" and bool(opts["stratify"])
    rest, test = _take(np.arange(n), codes, n_test, stratify, seed, "test", classes)
    train, val = _take(rest, codes, n_val, stratify, seed, "validation", classes)
    return train, val, test


def _subset(n: int, codes: np.ndarray | None, max_rows: int, seed: int) -> np.ndarray:
    """max_rows of n row indices (sorted): stratified by the class codes when possible."""
    from sklearn.model_selection import train_test_split

    labels = codes if codes is not None and _stratifiable(codes, max_rows, n - max_rows) else None
    keep, _ = train_test_split(np.arange(n), train_size=max_rows, random_state=seed, stratify=labels)
    return np.sort(keep)


# ----------------------------------------------------------------------------------------- scaling
def _nonzero(scale: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Constant columns keep scale 1 (as StandardScaler), so they map to 0 instead of inf."""
    tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(center))
    return np.where(scale <= tiny, 1.0, scale)


def _fit_scaler(X: np.ndarray, kind: str) -> dict:
    """standard: (x - mean) / std (ddof 0); minmax: (x - min) / (max - min); none: identity."""
    if kind == "standard":
        center, scale = X.mean(axis=0), X.std(axis=0)
    elif kind == "minmax":
        center, scale = X.min(axis=0), X.max(axis=0) - X.min(axis=0)
    else:
        center, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
    return {"kind": kind, "center": center, "scale": _nonzero(scale, center)}


def _positive_class(configured, classes, y_train) -> int | None:
    """Binary: the configured label's code, else the training part's minority class (tie: code 1)."""
    if classes is None or len(classes) != 2:
        if configured is not None:
            raise DataError("data.positive_class applies to binary classification only")
        return None
    if configured is None:
        counts = np.bincount(y_train, minlength=2)
        return 0 if counts[0] < counts[1] else 1
    textual = classes.dtype.kind in "US"
    for code, label in enumerate(classes):
        if label_key(label, textual) == label_key(configured, textual):
            return code
    raise DataError(f"data.positive_class {configured!r} is not a class; classes: {join_values(classes)}")


# ------------------------------------------------------------------------------------------ public
def load_dataset(data: dict, task: str = "auto", random_state: int = 0, max_rows: int | None = None,
                 csv_text: str | None = None) -> Dataset:
    """Load, encode, (subsample,) split and scale the data section of a spec.

    ``data`` is a validated spec's section (``DataSpec`` checks names, ranges and the csv keys; here
    only the data itself is checked); keys it lacks take ``DEFAULTS``. The seed is data.split_seed
    when set, else random_state; it drives generators (unless params give random_state), the
    max_rows subset and both splits."""
    opts = {**DEFAULTS, **{k: v for k, v in data.items() if v is not None}}
    seed = int(random_state if opts["split_seed"] is None else opts["split_seed"])
    raw = _load_raw(opts, seed, csv_text)
    task = _resolve_task(task, raw)
    classes, y = _encode(raw.y, task)
    X, source_rows = raw.X, np.arange(len(raw.X))
    published_test = _published_test(opts)
    if max_rows is not None and len(X) > max_rows:
        keep = _subset(len(X), y if task == "classification" else None, max_rows, seed)
        X, y, source_rows = X[keep], y[keep], keep
        published_test = None if published_test is None else published_test[keep]
    if published_test is None:
        parts = _split_indices(y, task, opts, seed, classes)
    else:
        parts = _published_split(y, published_test, task, opts, seed, classes)
    dataset = _assemble(raw, task, classes, X, y, parts, opts)
    dataset.rows_test = source_rows[parts[2]]
    return dataset


def _published_test(opts: dict):
    """mnist1d with params.split: fixed: the generator's own test rows (a mask), else None."""
    split = (opts["params"] or {}).get("split", "random")
    if opts["dataset"] != "mnist1d" or split == "random":
        return None
    if split != "fixed":
        raise DataError(f"data.params.split must be random or fixed; got {split!r}")
    from mlrun.data.mnist1d import raw_mnist1d

    return raw_mnist1d(dict(opts["params"]))[1]


def _published_split(codes, test_mask, task, opts, seed, classes):
    """The published test rows as the test split; validation (a fraction of the whole) from the rest."""
    n_val = _count(opts["validation_size"], len(codes))
    stratify = task == "classification" and bool(opts["stratify"])
    idx = np.arange(len(codes))
    train, val = _take(idx[~test_mask], codes, n_val, stratify, seed, "validation", classes)
    return train, val, idx[test_mask]


def _assemble(raw, task, classes, X, y, parts, opts) -> Dataset:
    train, val, test = parts
    scaler = _fit_scaler(X[train], opts["scale"])
    y_mean = y_scale = None
    if task == "regression":
        y_mean = y[train].mean(axis=0)
        y_scale = _nonzero(y[train].std(axis=0), y_mean)
        y = (y - y_mean) / y_scale
    positive = _positive_class(opts["positive_class"], classes, y[train] if classes is not None else None)
    name = Path(str(opts["path"])).stem if raw.task is None and opts["path"] else str(opts["dataset"])
    pre = Preprocessor(task=task, classes=classes, positive_class=positive,
                       feature_names=raw.feature_names, target_names=raw.target_names, scaler=scaler,
                       y_mean=y_mean, y_scale=y_scale, name=name)
    splits = {}
    for key, idx in (("train", train), ("val", val), ("test", test)):
        splits[f"X_{key}"] = pre.transform(X[idx]) if len(idx) else np.zeros((0, X.shape[1]))
        splits[f"y_{key}"] = y[idx]
    return Dataset(**vars(pre), **splits)
