"""Sequence windows: a series (or a text) cut into rows of the last W values -> the next value, plus
the H values after it that multi-token prediction (``model.mtp``) trains on.

``data: {dataset: sequence, params: {source: sine | ar | mackey_glass | text | csv, window: W,
horizon: H}}``. Row i holds the inputs s[i .. i+W-1], the target s[i+W] and the further targets
s[i+W+1 .. i+W+H] (``Dataset.y_ahead_train``, training rows only: they are never a model input).

Splits are by time: training rows first, then validation, then test, never shuffled across a
boundary. The H rows right after the training part are dropped, so no training target, auxiliary or
not, is also a later split's target (a purge, as in purged cross-validation).
"""

from __future__ import annotations

import math

import numpy as np

from mlrun.data.dataset import DataError, Dataset, Preprocessor
from mlrun.data.names import SEQUENCE_DEFAULTS, SEQUENCE_SOURCES

MAX_LENGTH = 1_000_000


# ---------------------------------------------------------------------------------------- sources
def sine_series(n: int, rng, periods=(23.0, 57.0, 131.0), noise: float = 0.1) -> np.ndarray:
    """s_t = sum_j a_j sin(2 pi t / p_j + phi_j) + noise * N(0, 1), amplitudes 1, 1/2, 1/3, ...; phases
    drawn from ``rng``."""
    t = np.arange(n, dtype=np.float64)
    phases = rng.uniform(0, 2 * np.pi, len(periods))
    s = sum(np.sin(2 * np.pi * t / p + phi) / (j + 1) for j, (p, phi) in enumerate(zip(periods, phases)))
    return s + noise * rng.standard_normal(n)


def ar_series(n: int, rng, coefficients=(1.5, -0.75), noise: float = 1.0, burn_in: int = 200) -> np.ndarray:
    """AR(p): s_t = sum_j c_j s_{t-j} + noise * N(0, 1); the default AR(2) (roots of modulus 0.87)
    oscillates with a period of about 12 steps. The first ``burn_in`` values are dropped."""
    c = np.asarray(coefficients, dtype=np.float64)
    if np.any(np.abs(np.roots(np.r_[1.0, -c])) >= 1):
        raise DataError(f"sequence: ar coefficients {list(c)} give a non-stationary process "
                        "(a characteristic root outside the unit circle)")
    e = noise * rng.standard_normal(n + burn_in)
    s = np.zeros(n + burn_in)
    for t in range(len(c), n + burn_in):
        s[t] = np.dot(c, s[t - len(c):t][::-1]) + e[t]
    return s[burn_in:]


def mackey_glass_series(n: int, rng, tau: int = 17, noise: float = 0.0, dt: float = 0.1,
                        burn_in: int = 500) -> np.ndarray:
    """Mackey & Glass 1977: dx/dt = 0.2 x(t - tau) / (1 + x(t - tau)^10) - 0.1 x(t) (chaotic for
    tau = 17), Euler steps of ``dt``, sampled once per time unit; the history starts at 1.2 plus a
    small perturbation from ``rng`` and the first ``burn_in`` units are dropped."""
    per_unit, lag = round(1 / dt), round(tau / dt)
    steps = (n + burn_in) * per_unit
    x = np.empty(lag + 1 + steps)
    x[:lag + 1] = 1.2 + 0.01 * rng.standard_normal(lag + 1)  # the history x(-tau) .. x(0)
    for t in range(lag, lag + steps):
        past = x[t - lag]
        x[t + 1] = x[t] + dt * (0.2 * past / (1 + past ** 10) - 0.1 * x[t])
    s = x[lag::per_unit][burn_in:burn_in + n]
    return s + noise * rng.standard_normal(n)


GRAMMAR = {  # a tiny probabilistic grammar; every choice equally likely
    "S": [["NP", "VP", "."], ["NP", "VP", "and", "NP", "VP", "."]],
    "NP": [["the", "N"], ["a", "N"], ["the", "ADJ", "N"]],
    "VP": [["V", "NP"], ["V"]],
    "N": [["cat"], ["dog"], ["bird"], ["fish"], ["horse"]],
    "ADJ": [["small"], ["red"], ["old"]],
    "V": [["sees"], ["eats"], ["chases"], ["likes"]],
}


def grammar_text(n: int, rng) -> str:
    """``n`` characters of sentences drawn from ``GRAMMAR`` ("the red cat chases a dog. ...")."""
    out: list[str] = []
    size = 0
    while size < n:
        stack, words = ["S"], []
        while stack:
            symbol = stack.pop()
            if symbol in GRAMMAR:
                options = GRAMMAR[symbol]
                stack.extend(reversed(options[rng.integers(len(options))]))
            else:
                words.append(symbol)
        sentence = " ".join(words).replace(" .", ".") + " "
        out.append(sentence)
        size += len(sentence)
    return "".join(out)[:n]


def csv_series(path, column: str, csv_text: str | bytes | None = None) -> np.ndarray:
    """The numeric column ``column`` of a CSV or Parquet file, in file order (the user table checks
    apply: every cell named by its line or row when it is not a finite number)."""
    from mlrun.data.checked_csv import Where, columns_text
    from mlrun.data.user_csv import read_columns

    where = Where(str(path)) if path is not None else Where("csv_text", echo=True)

    def pick(header: list[str]):
        if column not in header:
            raise DataError(f"sequence: column '{column}' not in {where}{columns_text(header, where)}")
        return [column], {}

    return read_columns(path, csv_text, where, pick).X[:, 0]


# ----------------------------------------------------------------------------------------- windows
def windows(values: np.ndarray, window: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """(inputs (n, W), targets (n, 1 + H)) of every full window of ``values``; n = len - W - H."""
    n = len(values) - window - horizon
    if n < 1:
        raise DataError(f"sequence: {len(values)} values are too few for window {window} and horizon "
                        f"{horizon} (at least {window + horizon + 1} are needed)")
    view = np.lib.stride_tricks.sliding_window_view(values, window + 1 + horizon)[:n]
    return view[:, :window].copy(), view[:, window:].copy()


def time_split(n: int, test_size: float, validation_size: float, horizon: int):
    """(train, validation, test) row indices in time order, with ``horizon`` rows purged after train."""
    usable = n - horizon

    def count(fraction):
        return 0 if fraction <= 0 else max(1, math.floor(fraction * usable + 0.5))

    n_test, n_val = count(test_size), count(validation_size)
    n_train = usable - n_test - n_val
    if n_train < 1:
        raise DataError(f"sequence: test_size {test_size} and validation_size {validation_size} leave no "
                        f"training rows out of {n} windows")
    rows = np.arange(n)
    start_val = n_train + horizon
    return rows[:n_train], rows[start_val:start_val + n_val], rows[start_val + n_val:]


def _params(data: dict) -> dict:
    params = {**SEQUENCE_DEFAULTS, **(data.get("params") or {})}
    if params["source"] not in SEQUENCE_SOURCES:
        raise DataError(f"sequence: unknown source {params['source']!r}; valid: {', '.join(SEQUENCE_SOURCES)}")
    for key in ("window", "horizon", "length"):
        value = params[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < (0 if key == "horizon" else 1):
            raise DataError(f"sequence: params.{key} must be an integer >= {0 if key == 'horizon' else 1}; "
                            f"got {value!r}")
    if params["length"] > MAX_LENGTH:
        raise DataError(f"sequence: params.length {params['length']:,} is above {MAX_LENGTH:,}")
    return params


def _series(params: dict, data: dict, seed: int, csv_text: str | None):
    """The raw values: a float series, or (text) the character codes and their vocabulary."""
    source, n = params["source"], params["length"]
    rng = np.random.default_rng(params.get("random_state", seed))
    noise = {} if params.get("noise") is None else {"noise": float(params["noise"])}
    if source == "sine":
        return sine_series(n, rng, tuple(params.get("periods") or (23.0, 57.0, 131.0)), **noise), None
    if source == "ar":
        return ar_series(n, rng, tuple(params.get("coefficients") or (1.5, -0.75)), **noise), None
    if source == "mackey_glass":
        return mackey_glass_series(n, rng, int(params.get("tau", 17)), **noise), None
    if source == "text":
        vocab, codes = np.unique(np.array(list(grammar_text(n, rng))), return_inverse=True)
        return codes.astype(np.int64), vocab
    if params.get("column") is None:
        raise DataError("sequence: source csv needs params.column (the series' column) and data.path")
    return csv_series(data.get("path"), str(params["column"]), csv_text), None


def _shared_scaler(X_train: np.ndarray, kind: str, width: int) -> dict:
    """One center and scale for every lag (they are the same variable), fitted on the training rows:
    standard (mean, std), minmax (min, max - min) or none."""
    if kind == "standard":
        center, scale = X_train.mean(), X_train.std()
    elif kind == "minmax":
        center, scale = X_train.min(), X_train.max() - X_train.min()
    else:
        center, scale = 0.0, 1.0
    scale = scale if scale > 10 * np.finfo(np.float64).eps * max(1.0, abs(center)) else 1.0
    return {"kind": kind, "center": np.full(width, float(center)), "scale": np.full(width, float(scale))}


def _one_hot(codes: np.ndarray, vocab: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """(n, W) character codes -> (n, W * V) one-hot rows, named lag<j>_u<code point>."""
    n, window = codes.shape
    X = np.zeros((n, window, len(vocab)))
    X[np.arange(n)[:, None], np.arange(window)[None, :], codes] = 1.0
    names = [f"lag{window - j}_u{ord(ch):04x}" for j in range(window) for ch in vocab]
    return X.reshape(n, -1), names


def load_sequence(data: dict, seed: int, max_rows: int | None = None, csv_text: str | None = None,
                  task: str = "auto") -> Dataset:
    """The windows of ``data.params``'s series, split by time and scaled on the training part."""
    params = _params(data)
    natural = SEQUENCE_SOURCES[params["source"]]
    if task not in ("auto", natural):
        raise DataError(f"sequence: source {params['source']} is a {natural} task; use task: {natural} or auto")
    window, horizon = params["window"], params["horizon"]
    values, vocab = _series(params, data, seed, csv_text)
    if max_rows is not None:
        values = values[:max_rows + window + horizon]
    X, targets = windows(values, window, horizon)
    train, val, test = time_split(len(X), data["test_size"], data["validation_size"], horizon)
    target = str(params.get("column") or "next")
    if vocab is None:
        feature_names = [f"lag{window - j}" for j in range(window)]
        y_mean = targets[train, :1].mean(axis=0)
        y_scale = np.array([targets[train, 0].std() or 1.0])
        targets = (targets - y_mean) / y_scale
        classes, task = None, "regression"
    else:
        X, feature_names = _one_hot(X, vocab)
        y_mean = y_scale = None
        classes, task = vocab.astype(str), "classification"
    pre = Preprocessor(task=task, classes=classes, positive_class=None, feature_names=feature_names,
                       target_names=[target], scaler=_shared_scaler(X[train], data["scale"], X.shape[1]),
                       y_mean=y_mean, y_scale=y_scale, name=f"sequence-{params['source']}")
    main = targets[:, :1] if vocab is None else targets[:, 0]
    splits = {f"{k}_{split}": v for split, idx in (("train", train), ("val", val), ("test", test))
              for k, v in (("X", pre.transform(X[idx])), ("y", main[idx]))}
    return Dataset(**vars(pre), **splits, rows_test=test + window, y_ahead_train=targets[train, 1:])
