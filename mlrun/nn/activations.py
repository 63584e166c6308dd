"""Activations (= torch.nn.functional): parameter-free layers, PReLU aside.

    y = act.forward(x, training)    # never modifies x; caches what backward needs
    dx = act.backward(dy)           # uses the last forward's cache; never modifies dy

Everything is computed in the input's dtype (float32 stays float32). ``ACTIVATIONS`` maps each
name to its plain forward function with default parameters (they live in ``functional``).
"""

from __future__ import annotations

import numpy as np

from mlrun.nn.base import Layer
from mlrun.nn.functional import (  # noqa: F401  (the plain functions are imported from here too)
    ACTIVATIONS,
    SELU_ALPHA,
    SELU_SCALE,
    elu,
    elu_parts,
    leaky_relu,
    linear,
    relu,
    selu,
    sigmoid,
    softmax,
    softsign,
)
from mlrun.registry import register


# -- the layer classes ----------------------------------------------------------------------------
class Activation(Layer):
    """Base class: an elementwise (or row-wise) function with its backward; ``build`` is optional."""

    registry_kind = "activation"
    input_grad = True
    regularized: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self._mask = np.empty(0, dtype=bool)
        self._buffers: dict[str, np.ndarray] = {}

    def forward_owned(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """forward() on an array the caller owns and will not read again: may reuse it for the output
        (Dense passes its fresh x W + b, saving an allocation and a pass per batch)."""
        return self.forward(x, training)

    def _buffer(self, name: str, like: np.ndarray, dtype=None, zeros: bool = False) -> np.ndarray:
        """A work array shaped like ``like``, kept from batch to batch: a view of the rows of one sized
        for the largest batch seen, so an epoch's short last batch allocates nothing."""
        dtype = like.dtype if dtype is None else dtype
        buf = self._buffers.get(name)
        if buf is None or buf.shape[1:] != like.shape[1:] or len(buf) < len(like) or buf.dtype != dtype:
            buf = self._buffers[name] = (np.zeros if zeros else np.empty)(like.shape, dtype)
        return buf if buf.shape == like.shape else buf[: len(like)]

    def positive(self, x: np.ndarray) -> np.ndarray:
        """x > 0, written into a kept buffer (see ``_buffer``); backward reads it as ``_mask``."""
        self._mask = np.greater(x, 0, out=self._buffer("mask", x, bool))
        return self._mask

    def _default_rng(self) -> np.random.Generator:
        """The generator given to build(), else an own seeded one (created on first use)."""
        if self.rng is None:
            self.rng = np.random.default_rng(0)
        return self.rng


@register("activation", "sigmoid")
class Sigmoid(Activation):
    """Logistic sigmoid y = 1 / (1 + exp(-x)); dy/dx = y (1 - y)."""

    def forward(self, x, training=False):
        self._y = sigmoid(x)
        return self._y

    def backward(self, dy):
        y = self._y
        dx = np.subtract(1, y, dtype=y.dtype)
        dx *= y
        dx *= dy
        return dx


@register("activation", "tanh")
class Tanh(Activation):
    """Hyperbolic tangent y = tanh(x); dy/dx = 1 - y²."""

    def forward(self, x, training=False):
        self._y = np.tanh(x)
        return self._y

    def backward(self, dy):
        y = self._y
        dx = np.multiply(y, y)
        np.subtract(1, dx, out=dx)
        dx *= dy
        return dx


@register("activation", "relu")
class ReLU(Activation):
    """Rectified linear unit y = max(x, 0); dy/dx = [x > 0] (Nair & Hinton 2010)."""

    # max against an array of zeros: NumPy's SIMD loop, 3x faster than against the scalar 0
    def forward(self, x, training=False):
        self.positive(x)
        return np.maximum(x, self._buffer("zeros", x, zeros=True))

    def forward_owned(self, x, training=False):
        self.positive(x)
        return np.maximum(x, self._buffer("zeros", x, zeros=True), out=x)

    def backward(self, dy):
        return np.multiply(dy, self._mask)


class _Slope(Activation):
    """y = x · f, f = 1 where x > 0 else the slope from ``_slope`` (a number, per unit or per element).

    f is dy/dx, so backward is dy · f. Built as [x > 0] (1 - slope) + slope: arithmetic, no np.where.
    """

    def forward(self, x, training=False):
        slope = self._slope(x, training)
        factor = np.multiply(self.positive(x), np.subtract(1, slope), dtype=x.dtype)
        factor += slope
        self._factor = factor
        return x * factor

    def backward(self, dy):
        return dy * self._factor


@register("activation", "leaky_relu")
class LeakyReLU(_Slope):
    """Leaky ReLU y = x if x > 0 else alpha x (Maas et al. 2013; torch's default alpha is 0.01)."""

    def __init__(self, alpha: float = 0.2) -> None:
        super().__init__()
        self.alpha = alpha

    def _slope(self, x, training):
        return self.alpha


@register("activation", "rrelu")
class RReLU(_Slope):
    """Randomized leaky ReLU: slope ~ U(lower, upper) per element in training, (lower+upper)/2 otherwise.

    Xu et al. 2015, "Empirical Evaluation of Rectified Activations"; = torch.nn.functional.rrelu.
    """

    def __init__(self, lower: float = 1 / 8, upper: float = 1 / 3) -> None:
        if not 0 <= lower <= upper:
            raise ValueError(f"rrelu needs 0 <= lower <= upper; got lower={lower}, upper={upper}")
        super().__init__()
        self.lower = lower
        self.upper = upper

    def _slope(self, x, training):
        if not training:
            return (self.lower + self.upper) / 2
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        slope = self._default_rng().random(x.shape, dtype=dtype)
        slope *= self.upper - self.lower
        slope += self.lower
        return slope


@register("activation", "prelu")
class PReLU(_Slope):
    """Parametric ReLU y = x if x > 0 else a·x with a learned slope a per unit (He et al. 2015).

    params {"alpha": (units,)} start at ``alpha``; d/da = sum over rows of dy · min(x, 0).
    """

    def __init__(self, alpha: float = 0.25) -> None:
        super().__init__()
        self.alpha = alpha

    def build(self, in_dim, rng=None, dtype=np.float64):
        out = super().build(in_dim, rng, dtype)
        self.params = {"alpha": np.full(in_dim, self.alpha, dtype=self.dtype)}
        self.grads = {"alpha": np.zeros(in_dim, dtype=self.dtype)}
        return out

    def _slope(self, x, training):
        if "alpha" not in self.params:
            self.build(x.shape[-1], self.rng, x.dtype)
        self._x = x
        return self.params["alpha"]

    def backward(self, dy):
        x = self._x
        neg = np.minimum(x, 0)
        neg *= dy
        np.sum(neg, axis=tuple(range(x.ndim - 1)), out=self.grads["alpha"])
        return super().backward(dy)


@register("activation", "elu")
class ELU(Activation):
    """Exponential linear unit y = x if x > 0 else alpha (exp(x) - 1); slope alpha exp(x) below 0.

    Clevert et al. 2016.
    """

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def _constants(self) -> tuple[float, float]:
        return self.alpha, 1.0

    def forward(self, x, training=False):
        alpha, scale = self._constants()
        self.positive(x)
        y, self._d = elu_parts(x, alpha, scale)
        return y

    def backward(self, dy):
        # dy/dx = scale where x > 0 (there d = scale·alpha), else d
        alpha, scale = self._constants()
        dx = np.multiply(self._mask, scale - scale * alpha, dtype=self._d.dtype)
        dx += self._d
        dx *= dy
        return dx


@register("activation", "selu")
class SELU(ELU):
    """Scaled ELU y = scale · elu(x, alpha), alpha 1.6732632423543772, scale 1.0507009873554805.

    Klambauer et al. 2017, "Self-Normalizing Neural Networks"; no parameters.
    """

    def __init__(self) -> None:
        Activation.__init__(self)

    def _constants(self) -> tuple[float, float]:
        return SELU_ALPHA, SELU_SCALE


@register("activation", "softsign")
class Softsign(Activation):
    """Softsign y = x / (1 + |x|); dy/dx = 1 / (1 + |x|)².

    Bergstra et al. 2009; the third activation of Glorot & Bengio 2010, whose tails approach ±1
    polynomially, not exponentially as tanh's, so its units saturate less. = torch.nn.functional.softsign.
    """

    def forward(self, x, training=False):
        self._denominator = np.abs(x)
        self._denominator += 1
        return np.divide(x, self._denominator)

    def backward(self, dy):
        # from 1 + |x| itself: 1 - |y| loses digits to cancellation where |x| is large
        dx = np.divide(dy, self._denominator)
        dx /= self._denominator
        return dx


@register("activation", "softmax")
class Softmax(Activation):
    """Row-wise softmax y_i = exp(x_i) / Σ_j exp(x_j); backward: dx = y ⊙ (dy - Σ_j dy_j y_j)."""

    def forward(self, x, training=False):
        self._y = softmax(x)
        return self._y

    def backward(self, dy):
        y = self._y
        dx = np.multiply(dy, y)
        inner = dx.sum(axis=-1, keepdims=True)
        np.subtract(dy, inner, out=dx)
        dx *= y
        return dx


@register("activation", "linear")
class Linear(Activation):
    """The identity y = x (returns x itself, and dy itself in backward: no copy)."""

    def forward(self, x, training=False):
        return x

    def backward(self, dy):
        return dy
