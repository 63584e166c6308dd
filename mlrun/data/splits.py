"""The train / validation / test split: drawn at random (stratified), or published with the data.

A random split takes the test rows first (a fraction of the whole), then validation (also a fraction
of the whole) from the rest. A published split names each row's part: MNIST-1D's fixed split, a
``data.split_column`` (train, validation, test) or a ``data.test_path`` file of test rows; when it
names no validation rows, validation is drawn from its training rows as above.
"""

from __future__ import annotations

import math

import numpy as np

from mlrun.data.checked_csv import shown
from mlrun.data.dataset import DataError, join_values

SPLITS = ("train", "validation", "test")  # a split column's values; their index is the split's code


def count(fraction: float, n: int) -> int:
    """Rows in a split that is `fraction` of the whole: rounded to nearest, at least 1 when > 0."""
    return 0 if fraction <= 0 else max(1, math.floor(fraction * n + 0.5))


def stratifiable(labels: np.ndarray, n_take: int, n_keep: int) -> bool:
    counts = np.bincount(labels)
    counts = counts[counts > 0]
    return counts.min() >= 2 and min(n_take, n_keep) >= len(counts)


def unique_codes(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(labels, return_inverse=True, return_counts=True)`` for class codes (small integers
    from 0), by counting instead of sorting: the same three arrays; np.unique itself for anything else."""
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or not len(labels) or labels.min() < 0 \
            or labels.max() > 4 * len(labels):
        return np.unique(labels, return_inverse=True, return_counts=True)
    counts = np.bincount(labels)
    present = np.flatnonzero(counts)
    place = np.zeros(len(counts), dtype=np.intp)
    place[present] = np.arange(len(present))
    return present.astype(labels.dtype), place[labels], counts[present]


def _check_stratified(labels, n_take, n_keep, split, classes) -> None:
    codes, _, counts = unique_codes(labels)
    for code, n in zip(codes, counts):
        if n < 2:
            raise DataError(f"class '{classes[code]}' has only {n} row left for the stratified {split} "
                            f"split (2 needed); add rows or set data.stratify: false")
    if min(n_take, n_keep) < len(codes):
        raise DataError(f"a stratified {split} split of {n_take} rows (leaving {n_keep}) cannot hold all "
                        f"{len(codes)} classes; change data.{split}_size or set data.stratify: false")


def take(idx, codes, n_take, stratify, seed, split, classes):
    """Split `n_take` rows off `idx`: (kept, taken)."""
    from sklearn.model_selection import train_test_split

    if n_take == 0:
        return idx, idx[:0]
    if not stratify:
        return tuple(train_test_split(idx, test_size=n_take, random_state=seed))
    labels = codes[idx]
    _check_stratified(labels, n_take, len(idx) - n_take, split, classes)
    try:
        kept, taken = stratified_draw(labels, n_take, seed)
    except ImportError:  # a scikit-learn without the private helper the draw repeats: its own split, slower
        return tuple(train_test_split(idx, test_size=n_take, random_state=seed, stratify=labels))
    return idx[kept], idx[taken]


def stratified_draw(labels: np.ndarray, n_take: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The positions scikit-learn's ``train_test_split(..., test_size=n_take, random_state=seed,
    stratify=labels)`` keeps and takes, drawn with its random numbers in its order
    (StratifiedShuffleSplit), but each class's rows gathered as arrays: scikit-learn extends Python
    lists element by element, ~1 s at 10^6 rows."""
    from sklearn.utils.extmath import _approximate_mode

    rng = np.random.RandomState(seed)
    _, y_indices, class_counts = unique_codes(labels)
    # a stable sort has one result: on 16-bit keys numpy sorts by radix, in one pass
    keys = y_indices.astype(np.uint16) if len(class_counts) <= 1 << 16 else y_indices
    class_indices = np.split(np.argsort(keys, kind="stable"), np.cumsum(class_counts)[:-1])
    n_keep = len(labels) - n_take
    n_i = _approximate_mode(class_counts, n_keep, rng)
    t_i = _approximate_mode(class_counts - n_i, n_take, rng)
    kept, taken = [], []
    for i, members in enumerate(class_indices):
        drawn = members.take(rng.permutation(class_counts[i]), mode="clip")
        kept.append(drawn[: n_i[i]])
        taken.append(drawn[n_i[i]: n_i[i] + t_i[i]])
    return rng.permutation(np.concatenate(kept)), rng.permutation(np.concatenate(taken))


def random_split(codes, task, opts, seed, classes):
    n = len(codes)
    n_test, n_val = count(opts["test_size"], n), count(opts["validation_size"], n)
    if n - n_test - n_val < 1:
        raise DataError(f"test_size {opts['test_size']} and validation_size {opts['validation_size']} "
                        f"leave no training rows out of {n}")
    stratify = task == "classification" and bool(opts["stratify"])
    rest, test = take(np.arange(n), codes, n_test, stratify, seed, "test", classes)
    train, val = take(rest, codes, n_val, stratify, seed, "validation", classes)
    return train, val, test


def published_split(codes, published, task, opts, seed, classes):
    """The published parts (``published``: each row's SPLITS code); validation, when none is
    published, drawn from the training rows (a fraction of the whole)."""
    idx = np.arange(len(codes))
    train, val, test = idx[published == 0], idx[published == 1], idx[published == 2]
    if not len(val):
        stratify = task == "classification" and bool(opts["stratify"])
        train, val = take(train, codes, count(opts["validation_size"], len(codes)), stratify, seed,
                          "validation", classes)
    return train, val, test


def subset(n: int, codes: np.ndarray | None, max_rows: int, seed: int) -> np.ndarray:
    """max_rows of n row indices (sorted): stratified by the class codes when possible."""
    from sklearn.model_selection import train_test_split

    labels = codes if codes is not None and stratifiable(codes, max_rows, n - max_rows) else None
    keep, _ = train_test_split(np.arange(n), train_size=max_rows, random_state=seed, stratify=labels)
    return np.sort(keep)


# ------------------------------------------------------------------------------ published by the user
def split_codes(values: np.ndarray, locate, where: str, column: str, need_test: bool = True) -> np.ndarray:
    """A split column's values -> SPLITS codes; an unknown value is a DataError naming it and its row
    (``locate(i)``: "line 7"); training rows are required, and test rows unless a test file holds them."""
    text = np.char.lower(np.char.strip(np.asarray(values).astype(str)))
    codes = np.full(len(text), -1, dtype=np.int8)
    for code, name in enumerate(SPLITS):
        codes[text == name] = code
    bad = np.flatnonzero(codes < 0)
    if len(bad):
        raise DataError(f"{where}: split column '{column}' has '{shown(str(values[bad[0]]), where)}' on "
                        f"{locate(int(bad[0]))}; its values must be {join_values(SPLITS)}")
    for code in (0, 2) if need_test else (0,):
        if not (codes == code).any():
            raise DataError(f"{where}: split column '{column}' marks no row as {SPLITS[code]}")
    return codes
