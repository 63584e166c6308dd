"""MNIST-1D (Greydanus 2020, "Scaling down deep learning", arXiv:2011.14439), generated offline.

Ten 12-point digit templates become 40-point signals through random padding, dilation, scaling,
translation, correlated and i.i.d. noise and shear; with the published generator's defaults (5000
samples, 500 per class, seed 42, NumPy's legacy global generator in its order of draws) the first
4000 shuffled rows are its training set and the last 1000 its test set. Published test accuracies:
logistic regression 32%, MLP 68%, CNN 94%.
"""

from __future__ import annotations

import functools

import numpy as np

from mlrun.data.names import MNIST1D_DEFAULTS as DEFAULTS

_DIGITS = (
    (5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5), (5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5),
    (5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5), (5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5),
    (5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5), (5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5),
    (5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5), (5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5),
    (5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5), (5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5),
)


def templates() -> np.ndarray:
    """(10, 12): each digit standardised, shifted to start at 0, divided by 6."""
    x = np.array(_DIGITS, dtype=np.float64)
    x = (x - x.mean(1, keepdims=True)) / x.std(1, keepdims=True)
    return (x - x[:, :1]) / 6.0


def _resample(x: np.ndarray, n: int) -> np.ndarray:
    """Linear interpolation of x onto n evenly spaced points of the same span."""
    return np.interp(np.linspace(0, 1, n), np.linspace(0, 1, len(x)), x)


def _draws(rng: np.random.RandomState, n: int, length: int, o: dict) -> dict:
    """Each sample's random numbers, drawn in the published generator's order (pad, scale, shift, two
    noise vectors, shear), so the same seed gives the same dataset."""
    low, high = o["padding"]
    keys = ("pad", "scale", "shift", "corr", "iid", "shear")
    draws = {k: [] for k in keys}
    for _ in range(n):
        values = (low + int(rng.rand() * (high - low + 1)), rng.rand(), rng.choice(o["max_translation"]),
                  rng.randn(length), rng.randn(length), rng.rand())
        for k, v in zip(keys, values):
            draws[k].append(v)
    return {k: np.array(v) for k, v in draws.items()}


def _signals(base: np.ndarray, labels: np.ndarray, rng, o: dict) -> np.ndarray:
    from scipy.ndimage import gaussian_filter1d

    length = o["template_len"] + o["padding"][1]
    d = _draws(rng, len(labels), length, o)
    x = np.stack([_resample(np.concatenate([base[c] + 1e-8, np.zeros(p)]), length) for c, p in zip(labels, d["pad"])])
    x *= (1 + o["scale_coeff"] * (d["scale"] - 0.5))[:, None]
    x = np.stack([np.roll(row, k) for row, k in zip(x, d["shift"])])
    background = gaussian_filter1d(o["corr_noise_scale"] * d["corr"], 2, axis=1, truncate=4.0)
    x = np.where(x != 0, x, background)  # the padding becomes correlated noise
    x += o["iid_noise_scale"] * d["iid"]
    x -= (o["shear_scale"] * (d["shear"] - 0.5))[:, None] * np.linspace(-0.5, 0.5, length)
    return np.stack([_resample(row, o["final_seq_length"]) for row in x])


def make_mnist1d(**params) -> tuple[np.ndarray, np.ndarray, int]:
    """(X (n, 40), y (n,), n_train): the rows in the published order; rows[n_train:] are its test set."""
    key = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))
    X, y, n_train = _generate(key)
    return X.copy(), y.copy(), n_train


@functools.lru_cache(maxsize=4)  # a run reads it twice (rows, then the published split); sweeps reuse it
def _generate(key: tuple) -> tuple[np.ndarray, np.ndarray, int]:
    o = {**DEFAULTS, **dict(key)}
    rng = np.random.RandomState(int(o["seed"]))
    per_class = int(o["num_samples"]) // 10
    y = np.repeat(np.arange(10), per_class)
    X = _signals(templates(), y, rng, o)
    order = rng.permutation(len(y))
    X, y = X[order], y[order]
    X = (X - X.mean()) / X.std()
    return X, y, int(len(y) * o["train_split"])


def raw_mnist1d(params: dict):
    """The dataset as RawData (params: the generator's, and ``split``, which load_dataset reads) and a
    boolean mask of the published test rows."""
    from mlrun.data.dataset import DataError, RawData

    params = {k: v for k, v in params.items() if k != "split"}
    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        raise DataError(f"unknown mnist1d parameter '{unknown[0]}'; valid: split, {', '.join(DEFAULTS)}")
    X, y, n_train = make_mnist1d(**params)
    raw = RawData(X, y, [f"t{i}" for i in range(X.shape[1])], ["digit"], "classification", "mnist1d")
    return raw, np.arange(len(y)) >= n_train
