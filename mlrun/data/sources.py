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

from mlrun.data.copies import gathered
from mlrun.data.dataset import DataError, Dataset, Preprocessor, RawData, join_values, label_key, plain_array
from mlrun.data.names import DEFAULTS, GENERATORS, LOADERS
from mlrun.data.splits import published_split, random_split, subset
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
    if y.ndim == 1 and y.dtype.kind in "US":
        return "classification"  # type_of_target's binary or multiclass, without its pass over the cells
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
    classes = np.unique(y)
    # each label's place among the sorted classes: np.unique's inverse, a binary search rather than a sort
    codes = np.searchsorted(classes, y.ravel())
    if len(classes) < 2:
        raise DataError(f"the target has a single class ('{classes[0]}'); classification needs two or more")
    return plain_array(classes), codes.astype(np.int64).ravel()


# ----------------------------------------------------------------------------------------- scaling
def _nonzero(scale: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Constant columns keep scale 1 (as StandardScaler), so they map to 0 instead of inf."""
    tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(center))
    return np.where(scale <= tiny, 1.0, scale)


def _fit_scaler(X: np.ndarray, kind: str) -> dict:
    """standard: (x - mean) / std (ddof 0); minmax: (x - min) / (max - min); none: identity."""
    if kind == "standard":
        center = X.mean(axis=0)
        scale = _std(X, center)
    elif kind == "minmax":
        center, scale = X.min(axis=0), X.max(axis=0) - X.min(axis=0)
    else:
        center, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
    return {"kind": kind, "center": center, "scale": _nonzero(scale, center)}


STD_BLOCK_ROWS = 4096


def _std(X: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """``X.std(axis=0)``, bit for bit, without its temporary of X's size (at 10^6 rows, 160 MB of fresh
    pages, slow to fault in): numpy sums a C-ordered array of two or more columns along axis 0 row
    after row, so the squared deviations are summed a block of rows at a time, each block after the
    running total. One column, or another order, is summed pairwise: numpy's own std then."""
    if X.ndim != 2 or X.shape[1] < 2 or not X.flags.c_contiguous or not len(X):
        return X.std(axis=0)
    total = np.zeros((1, X.shape[1]))
    for start in range(0, len(X), STD_BLOCK_ROWS):
        deviation = X[start: start + STD_BLOCK_ROWS] - mean
        deviation *= deviation
        total = np.add.reduce(np.concatenate([total, deviation]), axis=0, keepdims=True)
    return np.sqrt(total[0] / len(X))


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
    if opts["dataset"] == "sequence":  # split by time, with the further targets: its own module
        from mlrun.data.sequence import load_sequence

        return load_sequence(opts, seed, max_rows, csv_text, task)
    raw = _load_raw(opts, seed, csv_text)
    task = _resolve_task(task, raw)
    classes, y = _encode(raw.y, task)
    X = raw.X
    source_rows = raw.source_rows if raw.source_rows is not None else np.arange(len(X))
    published = raw.split if raw.split is not None else _mnist1d_split(opts)
    if max_rows is not None and len(X) > max_rows:
        keep = subset(len(X), y if task == "classification" else None, max_rows, seed)
        X, y, source_rows = X[keep], y[keep], source_rows[keep]
        published = None if published is None else published[keep]
    if published is None:
        parts = random_split(y, task, opts, seed, classes)
    else:
        parts = published_split(y, published, task, opts, seed, classes)
    dataset = _assemble(raw, task, classes, X, y, parts, opts)
    dataset.rows_test = source_rows[parts[2]]
    return dataset


def _mnist1d_split(opts: dict):
    """mnist1d with params.split: fixed: the generator's own test rows (SPLITS codes), else None."""
    split = (opts["params"] or {}).get("split", "random")
    if opts["dataset"] != "mnist1d" or split == "random":
        return None
    if split != "fixed":
        raise DataError(f"data.params.split must be random or fixed; got {split!r}")
    from mlrun.data.mnist1d import raw_mnist1d

    return np.where(raw_mnist1d(dict(opts["params"]))[1], 2, 0).astype(np.int8)


def _scaled(part: np.ndarray, scaler: dict) -> np.ndarray:
    """Preprocessor.transform, (x - center) / scale, in place on a split's own copy (bit-identical;
    one copy of the rows, not three)."""
    part = np.asarray(part, dtype=np.float64)
    part -= scaler["center"]
    part /= scaler["scale"]
    return part


def _assemble(raw, task, classes, X, y, parts, opts) -> Dataset:
    train, val, test = parts
    X_train = gathered(X, train)  # gathered once: the scaler is fitted on it, then it is scaled in place
    scaler = _fit_scaler(X_train, opts["scale"])
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
        rows = X_train if key == "train" else gathered(X, idx)
        splits[f"X_{key}"] = _scaled(rows, scaler) if len(idx) else np.zeros((0, X.shape[1]))
        splits[f"y_{key}"] = y[idx]
    return Dataset(**vars(pre), **splits)
