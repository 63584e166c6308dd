"""Layers: dense (with a fused activation), activation, batch_norm, dropout, alpha_dropout.

Each follows mlrun.nn.base.Layer: ``build(in_dim, rng, dtype) -> out_dim``, ``forward(x, training)``,
``backward(dy) -> dx`` filling ``grads`` in place. ``regularized`` names the params L2 applies to;
``input_grad = False`` (set by the Network on the first layer) lets backward skip dx and return None.
Neither forward nor backward modifies its argument.
"""

from __future__ import annotations

import numpy as np

from mlrun.nn.base import Layer
from mlrun.nn.initializers import auto_initializer
from mlrun.registry import build, register

SELU_ALPHA_PRIME = -1.7580993408473766  # = -scale · alpha of SELU: the value a dropped SELU unit takes


class _HostsActivation(Layer):
    """A layer that owns an activation ``self.act``; a PReLU's slopes show up here as "act.alpha".

    The Network swaps ``params``/``grads`` arrays for views and may set ``rng`` after build, so the
    activation is re-pointed at them before every forward.
    """

    input_grad = True
    regularized: tuple[str, ...] = ()

    def _build_act(self, width: int, rng, dtype) -> None:
        self.act.build(width, rng, dtype)
        for key in self.act.params:
            self.params[f"act.{key}"] = self.act.params[key]
            self.grads[f"act.{key}"] = self.act.grads[key]

    def _sync_act(self) -> None:
        if self.rng is not None:  # else the activation keeps its own default generator
            self.act.rng = self.rng
        for key in self.act.params:
            self.act.params[key] = self.params[f"act.{key}"]
            self.act.grads[key] = self.grads[f"act.{key}"]


@register("layer", "dense")
class Dense(_HostsActivation):
    """Fully connected y = act(x W + b); W (in_dim, units) from ``initializer``, b starts at 0.

    backward: dz = act'(dy), dW = xᵀ dz, db = Σ_rows dz, dx = dz Wᵀ.
    """

    regularized = ("W",)

    def __init__(
        self,
        units: int,
        activation: str | dict = "linear",
        initializer: str | dict = "auto",
        use_bias: bool = True,
    ) -> None:
        if not units >= 1:
            raise ValueError(f"units must be >= 1; got {units}")
        super().__init__()
        self.units = units
        self.activation = activation
        self.initializer = initializer
        self.use_bias = use_bias
        self.act = build("activation", activation)
        if initializer == "auto":
            initializer = auto_initializer(self.act.registry_name)
        self.init = build("initializer", initializer)

    def build(self, in_dim, rng=None, dtype=np.float64):
        super().build(in_dim, rng, dtype)
        init_rng = rng if rng is not None else np.random.default_rng(0)
        self.params = {"W": self.init((in_dim, self.units), init_rng, self.dtype)}
        self.grads = {"W": np.zeros((in_dim, self.units), dtype=self.dtype)}
        if self.use_bias:
            self.params["b"] = np.zeros(self.units, dtype=self.dtype)
            self.grads["b"] = np.zeros(self.units, dtype=self.dtype)
        self._build_act(self.units, rng, self.dtype)
        return self.units

    def forward(self, x, training=False):
        self._sync_act()
        self._x = x
        z = np.matmul(x, self.params["W"])
        if self.use_bias:
            z += self.params["b"]
        return self.act.forward_owned(z, training)  # z is ours: the activation may write into it

    def _ones(self, n: int, dtype) -> np.ndarray:
        """A cached row of ones: db = 1ᵀ dz as a BLAS product."""
        ones = getattr(self, "_ones_cache", None)
        if ones is None or ones.shape[0] != n or ones.dtype != dtype:
            ones = self._ones_cache = np.ones(n, dtype=dtype)
        return ones

    def backward(self, dy):
        self._sync_act()
        dz = self.act.backward(dy)
        np.matmul(self._x.T, dz, out=self.grads["W"])
        if self.use_bias:
            np.matmul(self._ones(len(dz), dz.dtype), dz, out=self.grads["b"])  # BLAS gemv: 3x np.sum
        if not self.input_grad:
            return None
        return np.matmul(dz, self.params["W"].T)


@register("layer", "activation")
class ActivationLayer(_HostsActivation):
    """An activation as a layer of its own, for dense -> batch_norm -> activation: y = act(x)."""

    def __init__(self, activation: str | dict = "relu") -> None:
        super().__init__()
        self.activation = activation
        self.act = build("activation", activation)

    def build(self, in_dim, rng=None, dtype=np.float64):
        super().build(in_dim, rng, dtype)
        self._build_act(in_dim, rng, self.dtype)
        return in_dim

    def forward(self, x, training=False):
        self._sync_act()
        return self.act.forward(x, training)

    def backward(self, dy):
        self._sync_act()
        return self.act.backward(dy)


@register("layer", "batch_norm")
class BatchNorm(Layer):
    """Batch normalization y = γ (x - μ) / sqrt(σ² + ε) + β (Ioffe & Szegedy 2015; = Keras).

    Training: batch mean and biased variance, and moving = momentum · moving + (1 - momentum) · batch;
    inference: the moving statistics (start 0 and 1). γ, β are params; the moving ones are ``state``.
    """

    input_grad = True
    regularized: tuple[str, ...] = ()

    def __init__(self, momentum: float = 0.99, epsilon: float = 1e-3) -> None:
        if not 0 <= momentum <= 1:
            raise ValueError(f"momentum must be in [0, 1]; got {momentum}")
        if not epsilon > 0:
            raise ValueError(f"epsilon must be > 0; got {epsilon}")
        super().__init__()
        self.momentum = momentum
        self.epsilon = epsilon

    def build(self, in_dim, rng=None, dtype=np.float64):
        super().build(in_dim, rng, dtype)
        self.params = {"gamma": np.ones(in_dim, self.dtype), "beta": np.zeros(in_dim, self.dtype)}
        self.grads = {"gamma": np.zeros(in_dim, self.dtype), "beta": np.zeros(in_dim, self.dtype)}
        self.state = {"moving_mean": np.zeros(in_dim, self.dtype), "moving_var": np.ones(in_dim, self.dtype)}
        return in_dim

    def forward(self, x, training=False):
        if training:
            mean, var = x.mean(axis=0), x.var(axis=0)
            for key, batch in (("moving_mean", mean), ("moving_var", var)):
                moving = self.state[key]
                moving *= self.momentum
                moving += (1 - self.momentum) * batch
        else:
            mean, var = self.state["moving_mean"], self.state["moving_var"]
        self._training = training
        self._inv_std = 1 / np.sqrt(var + self.epsilon)
        self._x_hat = x - mean
        self._x_hat *= self._inv_std
        y = self._x_hat * self.params["gamma"]
        y += self.params["beta"]
        return y

    def backward(self, dy):
        x_hat, n = self._x_hat, dy.shape[0]
        np.sum(dy, axis=0, out=self.grads["beta"])
        np.sum(dy * x_hat, axis=0, out=self.grads["gamma"])
        if not self.input_grad:
            return None
        scale = self.params["gamma"] * self._inv_std
        if not self._training:  # the moving statistics are constants
            return dy * scale
        # dx = γ/σ · (dy - mean(dy) - x̂ · mean(dy · x̂)), the batch statistics differentiated too
        dx = x_hat * (self.grads["gamma"] / n)
        np.subtract(dy, dx, out=dx)
        dx -= self.grads["beta"] / n
        dx *= scale
        return dx


class _Dropout(Layer):
    """Shared parts of the dropout layers: the rate check and the keep mask (P(keep) = 1 - rate)."""

    input_grad = True
    regularized: tuple[str, ...] = ()

    def __init__(self, rate: float) -> None:
        if not 0 <= rate < 1:
            raise ValueError(f"rate must be in [0, 1); got {rate}")
        super().__init__()
        self.rate = rate
        self._scale = None

    def _keep(self, x) -> np.ndarray:
        """A float array of x's dtype: 1 where a unit is kept, 0 where dropped."""
        if self.rng is None:
            self.rng = np.random.default_rng(0)
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        u = self.rng.random(x.shape, dtype=dtype)
        return np.greater_equal(u, self.rate, out=u, casting="unsafe")

    def backward(self, dy):
        if self._scale is None:
            return dy
        return dy * self._scale


@register("layer", "dropout")
class Dropout(_Dropout):
    """Inverted dropout: y = x · keep / (1 - rate) in training, x in inference (Srivastava et al. 2014)."""

    def __init__(self, rate: float = 0.5) -> None:
        super().__init__(rate)

    def forward(self, x, training=False):
        if not training or self.rate == 0:
            self._scale = None
            return x
        self._scale = self._keep(x)
        self._scale *= 1 / (1 - self.rate)
        return x * self._scale


@register("layer", "alpha_dropout")
class AlphaDropout(_Dropout):
    """Alpha dropout for SELU: dropped units -> α', then a·x + b keeps mean 0 and variance 1.

    α' = -1.7580993408473766, a = ((1-p)(1 + p α'²))^-½, b = -a α' p (Klambauer et al. 2017; = Keras).
    """

    def __init__(self, rate: float = 0.05) -> None:
        super().__init__(rate)

    @property
    def a(self) -> float:
        p = self.rate
        return ((1 - p) * (1 + p * SELU_ALPHA_PRIME**2)) ** -0.5

    @property
    def b(self) -> float:
        return -self.a * SELU_ALPHA_PRIME * self.rate

    def forward(self, x, training=False):
        if not training or self.rate == 0:
            self._scale = None
            return x
        keep = self._keep(x)
        a, b = self.a, self.b
        # y = a (x·keep + α'(1 - keep)) + b = x · (a·keep) + (a α' + b) - a α' · keep
        shift = keep * (-a * SELU_ALPHA_PRIME)
        shift += a * SELU_ALPHA_PRIME + b
        keep *= a
        self._scale = keep
        y = x * keep
        y += shift
        return y
