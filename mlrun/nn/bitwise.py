"""Bitwise neural networks (Kim & Smaragdis 2016, arXiv 1601.06071): the layers and their two stages.

Stage 1 ("weight compression") trains a real-valued network whose weights and biases are
``tanh`` of the trained values W̄, b̄, with tanh hidden units, on inputs in [-1, 1]. Stage 2 ("noisy
backpropagation") runs the forward pass on the binarised network, weights q(tanh W̄) in {-1, 0, +1}
(0 where |tanh w̄| < β, the paper's sparsity boundary) and sign activations, and sends the gradients
straight through q and sign onto W̄, b̄ (Larq's ``ste_sign``: identity, cut to 0 where |z| > 1).
A layer's stage is its ``state["binary"]`` (0 or 1): saved in checkpoints with the weights, switched by
``mlrun.training.stages.BitwiseStages``. ``mlrun.nn.packed`` runs a trained network with XNOR and
popcount; ``bitwise_specs`` turns a spec's ``model:`` section into these layers.
"""

from __future__ import annotations

from collections.abc import Mapping
from statistics import NormalDist

import numpy as np

from mlrun.nn.base import Layer
from mlrun.registry import build, register

DEFAULT_INITIALIZER = "random_uniform"  # U(-1, 1): tanh(W̄) spans ±0.76, so β has weights to cut


def ternary(w: np.ndarray, beta: float) -> np.ndarray:
    """q(w) = 0 where |w| < β, else sign(w) with sign(0) = +1 (Larq's convention); w's dtype."""
    q = np.where(w >= 0, 1, -1).astype(w.dtype)
    if beta > 0:
        q[np.abs(w) < beta] = 0
    return q


def bipolar(z: np.ndarray) -> np.ndarray:
    """sign(z) in {-1, +1}, sign(0) = +1: a bitwise unit's output."""
    return np.where(z >= 0, 1, -1).astype(z.dtype)


def input_thresholds(bits: int, code: str = "normal") -> list[float]:
    """``bits`` thresholds per feature. ``normal``: at the standard normal's i / (bits + 1) quantiles, for
    standard-scaled features (each bit splits the rows about evenly; 1 bit: the sign). ``uniform``: at
    i / (bits + 1) of the feature's range, equal-width bins (``BipolarInput``'s ``low`` and ``high``)."""
    if code == "uniform":
        return [i / (bits + 1) for i in range(1, bits + 1)]
    normal = NormalDist()
    return [round(normal.inv_cdf(i / (bits + 1)), 6) for i in range(1, bits + 1)]


@register("layer", "bipolar_input")
class BipolarInput(Layer):
    """Input quantisation to bipolar bits: each feature x becomes one bit per threshold t, +1 if
    x ≥ t else -1 (thermometer code); with ``low``/``high`` (per feature) the thresholds are positions in
    the feature's range, low + t·(high - low) (Kim & Smaragdis 2016 feed bipolar binary features)."""

    input_grad = True
    regularized: tuple[str, ...] = ()

    def __init__(self, thresholds: list[float] | None = None, low: list[float] | None = None,
                 high: list[float] | None = None) -> None:
        super().__init__()
        self.thresholds = [0.0] if thresholds is None else [float(t) for t in thresholds]
        if not self.thresholds:
            raise ValueError("thresholds must list at least one value")
        if (low is None) != (high is None) or (low is not None and len(low) != len(high)):
            raise ValueError("low and high go together, one value per feature each")
        self.low = None if low is None else [float(v) for v in low]
        self.high = None if high is None else [float(v) for v in high]

    def build(self, in_dim, rng=None, dtype=np.float64):
        super().build(in_dim, rng, dtype)
        if self.low is not None and len(self.low) != in_dim:
            raise ValueError(f"low and high give {len(self.low)} features; the input has {in_dim}")
        self.feature_thresholds = self.per_feature(in_dim).astype(self.dtype)
        return in_dim * len(self.thresholds)

    def per_feature(self, in_dim: int) -> np.ndarray:
        """(in_dim, bits) float64: each feature's thresholds (a constant feature's range counts as 1)."""
        t = np.asarray(self.thresholds, np.float64)
        if self.low is None:
            return np.tile(t, (in_dim, 1))
        low, high = np.asarray(self.low), np.asarray(self.high)
        span = np.where(high > low, high - low, 1.0)
        return low[:, None] + t * span[:, None]

    def forward(self, x, training=False):
        self._shape = x.shape
        t = self.feature_thresholds.astype(x.dtype, copy=False)
        return np.where(x[:, :, None] >= t, 1, -1).astype(x.dtype).reshape(len(x), -1)

    def backward(self, dy):
        return np.zeros(self._shape, dtype=dy.dtype)  # a step function: d bits / d x = 0 almost everywhere


@register("layer", "bitwise_dense")
class BitwiseDense(Layer):
    """Bitwise dense z = (x · q(tanh W̄) + q(tanh b̄)) / sqrt(fan_in), y = sign(z) (hidden) or z (output);
    stage 1 uses tanh W̄, tanh b̄ and y = tanh(z) (Kim & Smaragdis 2016; STE as Larq's ste_sign).

    backward, stage 1: dz = dy (1 - y²); stage 2: dz = dy · 1[|z| ≤ 1]; then dW̄ = xᵀ dz / sqrt(fan_in) ·
    (1 - tanh² W̄), db̄ likewise, dx = dz q(tanh W̄)ᵀ / sqrt(fan_in). ``activation``: tanh or linear.
    """

    input_grad = True
    regularized: tuple[str, ...] = ()

    def __init__(self, units: int, activation: str = "tanh", beta: float = 0.0,
                 initializer: str | dict = DEFAULT_INITIALIZER) -> None:
        if not units >= 1:
            raise ValueError(f"units must be >= 1; got {units}")
        if activation not in ("tanh", "linear"):
            raise ValueError(f"activation must be tanh (hidden) or linear (output); got {activation!r}")
        if not 0 <= beta < 1:
            raise ValueError(f"beta must be in [0, 1) (|tanh w| < 1); got {beta}")
        super().__init__()
        self.units, self.activation, self.beta, self.initializer = units, activation, beta, initializer
        self.init = build("initializer", initializer)

    def build(self, in_dim, rng=None, dtype=np.float64):
        super().build(in_dim, rng, dtype)
        rng = rng if rng is not None else np.random.default_rng(0)
        self.params = {"W": self.init((in_dim, self.units), rng, self.dtype),
                       "b": np.zeros(self.units, self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.state = {"binary": np.zeros((), self.dtype)}
        self.alpha = self.dtype.type(1 / np.sqrt(in_dim))
        return self.units

    @property
    def binary(self) -> bool:
        return bool(self.state["binary"])

    def effective_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """(W, b) the forward pass uses: tanh W̄, tanh b̄ (stage 1) or their ternary q (stage 2)."""
        W, b = np.tanh(self.params["W"]), np.tanh(self.params["b"])
        if self.binary:
            return ternary(W, self.beta), ternary(b, self.beta)
        return W, b

    def forward(self, x, training=False):
        self._x = x
        self._Wc, self._bc = np.tanh(self.params["W"]), np.tanh(self.params["b"])
        self._Wq, bq = self.effective_weights()
        z = np.matmul(x, self._Wq)
        z += bq
        z *= self.alpha
        self._z = z
        if self.activation == "linear":
            return z
        self._y = bipolar(z) if self.binary else np.tanh(z)
        return self._y

    def backward(self, dy):
        if self.activation == "linear":
            dz = dy * self.alpha
        elif self.binary:  # straight through sign, cut where |z| > 1 (Larq ste_sign, clip_value 1)
            dz = dy * (np.abs(self._z) <= 1) * self.alpha
        else:
            dz = dy * (1 - self._y * self._y) * self.alpha
        # straight through q (stage 2); the chain rule through tanh in both stages
        np.matmul(self._x.T, dz, out=self.grads["W"])
        self.grads["W"] *= 1 - self._Wc * self._Wc
        self.grads["b"][...] = dz.sum(axis=0) * (1 - self._bc * self._bc)
        if not self.input_grad:
            return None
        return np.matmul(dz, self._Wq.T)


def is_bitwise(model: Mapping) -> bool:
    """A resolved ``model:`` section that asks for a bitwise network (``bitwise:`` or bitwise_dense layers)."""
    return bool(model.get("bitwise")) or any(
        (spec if isinstance(spec, str) else spec.get("name")) == "bitwise_dense" for spec in model.get("layers") or ())


def bitwise_specs(model: Mapping, n_outputs: int, X_train: np.ndarray | None = None) -> list[dict]:
    """Every layer spec of a bitwise network: bipolar input, the hidden bitwise_dense layers, and a linear
    bitwise_dense output (one unit per class or target), from a resolved ``model:`` section. The
    ``uniform`` input code takes each feature's range from the training rows ``X_train``."""
    options = model.get("bitwise") or {}
    beta = float(options.get("beta", 0.0))
    initializer = model.get("initializer", "auto")
    initializer = DEFAULT_INITIALIZER if initializer == "auto" else initializer
    if model.get("layers"):
        hidden = [{"name": s} if isinstance(s, str) else dict(s) for s in model["layers"]]
    else:
        neurons = model["neurons"]
        widths = list(neurons) if isinstance(neurons, (list, tuple)) else [neurons] * model["hidden_layers"]
        hidden = [{"name": "bitwise_dense", "units": int(w), "activation": "tanh", "beta": beta,
                   "initializer": initializer} for w in widths]
    if not hidden or hidden[0]["name"] != "bipolar_input":
        hidden.insert(0, input_spec(options, X_train))
    output = {"name": "bitwise_dense", "units": int(n_outputs), "activation": "linear", "beta": beta,
              "initializer": initializer}
    return [*hidden, output]


def input_spec(options: Mapping, X_train: np.ndarray | None) -> dict:
    """The bipolar_input layer of ``model.bitwise``: ``input_bits`` thresholds of ``input_code``."""
    code, bits = options.get("input_code", "uniform"), int(options.get("input_bits", 1))
    spec = {"name": "bipolar_input", "thresholds": input_thresholds(bits, code)}
    if code == "uniform":
        if X_train is None or len(X_train) == 0:
            raise ValueError("the uniform input code needs the training rows (each feature's range)")
        spec.update(low=X_train.min(axis=0).tolist(), high=X_train.max(axis=0).tolist())
    return spec


def bitwise_layers(network) -> list[BitwiseDense]:
    return [layer for layer in network.layers if isinstance(layer, BitwiseDense)]


def set_binary(network, binary: bool) -> None:
    """Put every bitwise layer of ``network`` in stage 2 (``binary``) or stage 1."""
    for layer in bitwise_layers(network):
        layer.state["binary"][...] = 1 if binary else 0
