"""Losses: ``value(y_true, y_pred) -> float`` and ``gradient(y_true, y_pred)`` = d value / d y_pred.

The trainer calls ``value_and_gradient`` once per batch (one pass over the errors). Everything is
computed in y_pred's dtype. Regression losses take y_true (n,) or (n, k); (n,) pairs with (n, 1).
"""

from __future__ import annotations

import numpy as np

from mlrun.registry import register


class Loss:
    """Base class: ``value_and_gradient`` defaults to calling the other two."""

    registry_kind = "loss"
    registry_name = "loss"
    task: str | None = None  # the task whose targets it takes ("classification", "regression")

    def __init__(self) -> None:
        pass

    def value(self, y_true, y_pred) -> float:
        raise NotImplementedError

    def gradient(self, y_true, y_pred) -> np.ndarray:
        raise NotImplementedError

    def value_and_gradient(self, y_true, y_pred) -> tuple[float, np.ndarray]:
        return self.value(y_true, y_pred), self.gradient(y_true, y_pred)

    def config(self) -> dict:
        from mlrun.registry import parameters

        keys = parameters("loss", self.registry_name)
        return {"name": self.registry_name, **{k: getattr(self, k) for k in keys}}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "name")
        return f"{type(self).__name__}({args})"


def _as_float(y_pred) -> np.ndarray:
    y_pred = np.asarray(y_pred)
    return y_pred if y_pred.dtype.kind == "f" else y_pred.astype(np.float64)


def errors(y_true, y_pred) -> np.ndarray:
    """e = y_pred - y_true (a new array in y_pred's dtype); y_true (n,) is read as (n, 1) if y_pred is."""
    y_pred = _as_float(y_pred)
    y_true = np.asarray(y_true)
    if y_true.ndim == 1 and y_pred.ndim == 2 and y_pred.shape[1] == 1:
        y_true = y_true.reshape(-1, 1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true shape {y_true.shape} does not match y_pred shape {y_pred.shape}")
    return np.subtract(y_pred, y_true, dtype=y_pred.dtype)


class RegressionLoss(Loss):
    """A loss of the errors e = y_pred - y_true: subclasses give ``_value(e)`` and ``_gradient(e, value)``."""

    task = "regression"

    def value(self, y_true, y_pred):
        return self._value(errors(y_true, y_pred))

    def gradient(self, y_true, y_pred):
        e = errors(y_true, y_pred)
        return self._gradient(e, self._value(e))

    def value_and_gradient(self, y_true, y_pred):
        e = errors(y_true, y_pred)
        value = self._value(e)
        return value, self._gradient(e, value)


@register("loss", "mse")
class MSE(RegressionLoss):
    """Mean squared error mean(e²); gradient 2e / N (N = all elements)."""

    def _value(self, e):
        return float(np.vdot(e, e)) / max(e.size, 1)

    def _gradient(self, e, value):
        e *= 2 / max(e.size, 1)  # e is our own array: scaled in place
        return e


@register("loss", "mae")
class MAE(RegressionLoss):
    """Mean absolute error mean(|e|); gradient sign(e) / N."""

    def _value(self, e):
        return float(np.abs(e).mean())

    def _gradient(self, e, value):
        np.sign(e, out=e)
        e /= max(e.size, 1)
        return e


@register("loss", "rmse")
class RMSE(RegressionLoss):
    """Root mean squared error sqrt(mean(e²)); gradient e / (N · rmse), 0 at zero error."""

    def _value(self, e):
        return float(np.sqrt(np.vdot(e, e) / max(e.size, 1)))

    def _gradient(self, e, value):
        if value == 0:
            return np.zeros_like(e)
        e /= e.size * value
        return e


@register("loss", "huber")
class Huber(RegressionLoss):
    """Huber: mean of e²/2 where |e| <= delta, else delta (|e| - delta/2); gradient clip(e, ±delta) / N.

    Huber 1964; = torch HuberLoss and Keras Huber.
    """

    def __init__(self, delta: float = 1.0) -> None:
        if not delta > 0:
            raise ValueError(f"delta must be > 0; got {delta}")
        super().__init__()
        self.delta = delta

    def _value(self, e):
        a = np.abs(e)
        d = self.delta
        return float(np.where(a <= d, 0.5 * a * a, d * (a - 0.5 * d)).mean())

    def _gradient(self, e, value):
        np.clip(e, -self.delta, self.delta, out=e)
        e /= max(e.size, 1)
        return e


@register("loss", "minkowski")
class Minkowski(RegressionLoss):
    """Minkowski error (mean |e|^p)^(1/p); gradient m^(1/p - 1) |e|^(p-1) sign(e) / N, m = mean |e|^p."""

    def __init__(self, p: float = 3) -> None:
        if not p >= 1:
            raise ValueError(f"p must be >= 1; got {p}")
        super().__init__()
        self.p = p

    def _value(self, e):
        return float(np.mean(np.abs(e) ** self.p) ** (1 / self.p))

    def _gradient(self, e, value):
        if value == 0:
            return np.zeros_like(e)
        g = np.abs(e) ** (self.p - 1)
        g *= np.sign(e)
        g *= value ** (1 - self.p) / e.size  # m^(1/p - 1) = value^(1 - p)
        return g


@register("loss", "cosine")
class Cosine(Loss):
    """Cosine distance: mean over rows of 1 - <t, y> / (|t| |y|); needs two or more targets per row.

    d/dy of a row: -(t / (|t| |y|) - cos · y / |y|²) / n.
    """

    task = "regression"

    eps = 1e-12  # norms are clamped here so an all-zero row gives cos 0, not NaN

    def _rows(self, y_true, y_pred):
        y_pred = _as_float(y_pred)
        if y_pred.ndim != 2 or y_pred.shape[1] < 2:
            raise ValueError(
                "cosine loss needs two or more targets per row (one value's cosine is only ±1); "
                f"got y_pred of shape {y_pred.shape}"
            )
        y_true = np.asarray(y_true, dtype=y_pred.dtype)
        if y_true.shape != y_pred.shape:
            raise ValueError(f"y_true shape {y_true.shape} does not match y_pred shape {y_pred.shape}")
        t_norm = np.maximum(np.linalg.norm(y_true, axis=1), self.eps)
        y_norm = np.maximum(np.linalg.norm(y_pred, axis=1), self.eps)
        cos = np.einsum("ij,ij->i", y_true, y_pred) / (t_norm * y_norm)
        return y_true, y_pred, t_norm, y_norm, cos

    def value(self, y_true, y_pred):
        return float(np.mean(1 - self._rows(y_true, y_pred)[-1]))

    def gradient(self, y_true, y_pred):
        return self.value_and_gradient(y_true, y_pred)[1]

    def value_and_gradient(self, y_true, y_pred):
        t, y, t_norm, y_norm, cos = self._rows(y_true, y_pred)
        n = y.shape[0]
        g = y * (cos / (y_norm * y_norm))[:, None]
        g -= t / (t_norm * y_norm)[:, None]
        g /= n
        return float(np.mean(1 - cos)), g


@register("loss", "cross_entropy")
class CrossEntropy(Loss):
    """Softmax cross-entropy on raw logits z (n, k) and integer labels (n,): mean(logsumexp(z) - z[label]).

    Gradient (softmax(z) - onehot) / n; fused and shifted by the row max (= torch cross_entropy).
    """

    task = "classification"

    def value(self, y_true, y_pred):
        return self.value_and_gradient(y_true, y_pred)[0]

    def gradient(self, y_true, y_pred):
        return self.value_and_gradient(y_true, y_pred)[1]

    def value_and_gradient(self, y_true, y_pred):
        z = _as_float(y_pred)
        n, k = z.shape
        labels = np.asarray(y_true).reshape(-1).astype(np.intp, copy=False)
        # as unsigned, a negative label is huge: one max checks both ends
        if labels.shape != (n,) or (n and np.maximum.reduce(labels.view(np.uintp)) >= k):
            raise ValueError(
                f"cross_entropy needs {n} integer labels in [0, {k}); got y_true of shape {np.shape(y_true)}"
            )
        # class-major (k, n): the per-row max and sum become k-1 vector operations over contiguous rows,
        # several times faster than reducing the short last axis of (n, k). Always a copy: for one row
        # z.T is already contiguous, and ascontiguousarray would hand back a view of the caller's logits.
        s = z.T.copy(order="C")
        s -= np.maximum.reduce(s, axis=0)  # ufunc reductions: no ndarray.max/sum Python wrappers
        flat = s.reshape(-1)  # a view: s[labels[i], i] is flat[at[i]]
        at = labels * n + np.arange(n)
        picked = np.add.reduce(flat[at])
        np.exp(s, out=s)
        total = np.add.reduce(s, axis=0)
        value = float(np.add.reduce(np.log(total)) - picked) / max(n, 1)
        s /= total  # softmax(z)
        flat[at] -= 1
        return value, np.multiply(s.T, 1.0 / max(n, 1), order="C")  # back to (n, k), C-ordered, in the scaling pass
