"""The activations as plain NumPy functions (= torch.nn.functional), each computed in its input's dtype.

``ACTIVATIONS`` maps each registered name to its forward function with default parameters; the layer
classes in ``activations`` wrap these with their gradients.
"""

from __future__ import annotations

import numpy as np

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), overflow-free: exp only ever sees -|x| (NumPy alone: scipy.special would
    cost a network a third of a second of imports)."""
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z)).astype(x.dtype, copy=False)


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0)."""
    return np.maximum(x, 0)


def leaky_relu(x: np.ndarray, alpha: float = 0.2) -> np.ndarray:
    """x if x > 0 else alpha x, as max(x, 0) + alpha min(x, 0) (np.where is far slower)."""
    y = np.minimum(x, 0)
    y *= alpha
    y += np.maximum(x, 0)
    return y


def elu_parts(x: np.ndarray, alpha: float, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """y = scale · (x if x > 0 else alpha (exp(x) - 1)) and d = scale · alpha · exp(min(x, 0)).

    d is dy/dx where x <= 0. exp (not expm1, several times slower in float32) of min(x, 0) never
    overflows; for x <= 0 near 0 the absolute error is one rounding of scale · alpha; x > 0 is exact.
    """
    d = np.minimum(x, 0)
    np.exp(d, out=d)
    d *= scale * alpha
    y = np.maximum(x, 0)
    if scale != 1:
        y *= scale
    y += np.subtract(d, scale * alpha)  # exactly 0 where x > 0
    return y, d


def elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """x if x > 0 else alpha (exp(x) - 1)."""
    return elu_parts(x, alpha, 1.0)[0]


def selu(x: np.ndarray) -> np.ndarray:
    """scale · elu(x, alpha) with the self-normalising constants (Klambauer et al. 2017)."""
    return elu_parts(x, SELU_ALPHA, SELU_SCALE)[0]


def softsign(x: np.ndarray) -> np.ndarray:
    """x / (1 + |x|) (= torch.nn.functional.softsign)."""
    y = np.abs(x)
    y += 1
    np.divide(x, y, out=y)
    return y


def softmax(x: np.ndarray) -> np.ndarray:
    """exp(x - max) / sum(exp(x - max)) along the last axis (rows sum to 1)."""
    y = x - x.max(axis=-1, keepdims=True)
    np.exp(y, out=y)
    y /= y.sum(axis=-1, keepdims=True)
    return y


def linear(x: np.ndarray) -> np.ndarray:
    """The identity."""
    return x


ACTIVATIONS = {
    "sigmoid": sigmoid, "tanh": np.tanh, "relu": relu, "leaky_relu": leaky_relu,
    "rrelu": lambda x: leaky_relu(x, (1 / 8 + 1 / 3) / 2), "prelu": lambda x: leaky_relu(x, 0.25),
    "elu": elu, "selu": selu, "softsign": softsign, "softmax": softmax, "linear": linear,
}
