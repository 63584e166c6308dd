"""The optimizers of docs/contract.md, simplest first; each class states only its update rule.

g is the (clipped) gradient, η the learning rate (read from ``self.learning_rate`` at every step, so
the trainer's schedule can set it), t the step count from 1. Updates run in place on the array's
dtype: scalars are Python floats (float32 stays float32) and temporaries live in scratch buffers.
The clip options belong to the base ``Optimizer``: a constructor passes them on in ``**kwargs``, and
the registry reads them from there (``registry.parameters`` walks the class hierarchy).
"""

from __future__ import annotations

import math

import numpy as np

from mlrun.optim.base import Optimizer
from mlrun.registry import register


def _scratch(opt: Optimizer, like: np.ndarray, k: int = 0) -> np.ndarray:
    """A reusable work array shaped like ``like`` (not optimizer state: never saved)."""
    buffers = opt.__dict__.setdefault("_buffers", {})
    key = (k, like.shape, like.dtype.str)
    buf = buffers.get(key)
    if buf is None:
        buf = buffers[key] = np.empty_like(like)
    return buf


def _check_unit(name: str, value: float) -> float:
    """Decay rates live in [0, 1); the message echoes what was received."""
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1); got {value}")
    return float(value)


def _check_positive(name: str, value: float) -> float:
    if not value > 0:
        raise ValueError(f"{name} must be > 0; got {value}")
    return float(value)


@register("optimizer", "sgd")
class SGD(Optimizer):
    """Plain stochastic gradient descent.

    θ -= η g   (Robbins & Monro 1951; = torch.optim.SGD)
    """

    def __init__(self, learning_rate: float = 0.01, **kwargs) -> None:
        super().__init__(learning_rate, **kwargs)

    def update_step(self, param, grad, slots) -> None:
        step = np.multiply(grad, self.learning_rate, out=_scratch(self, param))
        param -= step


@register("optimizer", "momentum")
class Momentum(Optimizer):
    """SGD with momentum, velocity kept in lr-scaled form.

    m = μ m - η g;  θ += m   (Polyak 1964; = Keras SGD(momentum))
    """

    slot_names = ("m",)

    def __init__(
        self,
        learning_rate: float = 0.01,
        momentum: float = 0.9,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.momentum = _check_unit("momentum", momentum)

    def update_step(self, param, grad, slots) -> None:
        m = slots["m"]
        m *= self.momentum
        m -= np.multiply(grad, self.learning_rate, out=_scratch(self, param))
        param += m


@register("optimizer", "nesterov")
class Nesterov(Momentum):
    """Nesterov accelerated gradient, re-parametrised so the gradient is taken at θ.

    m = μ m - η g;  θ += μ m - η g  with the new m   (Sutskever et al. 2013; = Keras SGD(nesterov))
    """

    def update_step(self, param, grad, slots) -> None:
        m = slots["m"]
        lr_g = np.multiply(grad, self.learning_rate, out=_scratch(self, param))
        m *= self.momentum
        m -= lr_g
        param -= lr_g
        param += np.multiply(m, self.momentum, out=lr_g)


@register("optimizer", "adagrad")
class Adagrad(Optimizer):
    """Adagrad: per-coordinate steps shrink with the sum of squared gradients.

    s += g²;  θ -= η g / (sqrt(s) + ε)   (Duchi et al. 2011; = torch Adagrad(eps=ε))
    """

    slot_names = ("s",)

    def __init__(
        self,
        learning_rate: float = 0.001,
        initial_accumulator_value: float = 0.0,
        epsilon: float = 1e-7,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        if not initial_accumulator_value >= 0:
            raise ValueError(f"initial_accumulator_value must be >= 0; got {initial_accumulator_value}")
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = _check_positive("epsilon", epsilon)

    def init_slot(self, name, param):
        return np.full_like(param, self.initial_accumulator_value)

    def update_step(self, param, grad, slots) -> None:
        s, buf = slots["s"], _scratch(self, param)
        s += np.multiply(grad, grad, out=buf)
        _scaled_step(param, grad, s, buf, self.epsilon, self.learning_rate)


def _scaled_step(param, grad, s, buf, eps: float, lr: float) -> None:
    """θ -= η g / (sqrt(s) + ε), in place (shared by Adagrad and RMSprop)."""
    np.sqrt(s, out=buf)
    buf += eps
    np.divide(grad, buf, out=buf)
    buf *= lr
    param -= buf


@register("optimizer", "rmsprop")
class RMSprop(Optimizer):
    """RMSprop: steps scaled by a running mean of squared gradients.

    s = ρ s + (1-ρ) g²;  θ -= η g / (sqrt(s) + ε)   (Hinton 2012, lecture 6e; = torch RMSprop(alpha=ρ))
    """

    slot_names = ("s",)

    def __init__(
        self,
        learning_rate: float = 0.001,
        rho: float = 0.9,
        epsilon: float = 1e-7,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho = _check_unit("rho", rho)
        self.epsilon = _check_positive("epsilon", epsilon)

    def update_step(self, param, grad, slots) -> None:
        s, buf = slots["s"], _scratch(self, param)
        np.multiply(grad, grad, out=buf)
        buf *= 1.0 - self.rho
        s *= self.rho
        s += buf
        _scaled_step(param, grad, s, buf, self.epsilon, self.learning_rate)


class _AdamFamily(Optimizer):
    """Shared constructor and moment updates of adam, adamax and nadam (not registered)."""

    slot_names = ("m", "s")

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _check_unit("beta_1", beta_1)
        self.beta_2 = _check_unit("beta_2", beta_2)
        self.epsilon = _check_positive("epsilon", epsilon)

    def prepare_step(self) -> None:
        # the current beta_1 (one-cycle may cycle it), as torch does
        t = self.iterations
        self._bc1 = 1.0 - self.beta_1**t
        self._bc2_sqrt = math.sqrt(1.0 - self.beta_2**t)

    def _update_m(self, grad, m, buf) -> None:
        """m = β1 m + (1-β1) g."""
        m *= self.beta_1
        m += np.multiply(grad, 1.0 - self.beta_1, out=buf)

    def _update_s(self, grad, s, buf) -> None:
        """s = β2 s + (1-β2) g²."""
        np.multiply(grad, grad, out=buf)
        buf *= 1.0 - self.beta_2
        s *= self.beta_2
        s += buf

    def _denominator(self, s, buf) -> np.ndarray:
        """sqrt(ŝ) + ε with ŝ = s / (1-β2^t), times sqrt(1-β2^t), into ``buf``: a pass fewer; each
        caller multiplies its step size by ``_bc2_sqrt`` instead."""
        np.sqrt(s, out=buf)
        buf += self.epsilon * self._bc2_sqrt
        return buf


@register("optimizer", "adam")
class Adam(_AdamFamily):
    """Adam: momentum on g and RMSprop scaling, both bias-corrected.

    m = β1 m + (1-β1) g;  s = β2 s + (1-β2) g²;  θ -= η m̂ / (sqrt(ŝ) + ε)   (Kingma & Ba 2015; = torch Adam)
    """

    def update_step(self, param, grad, slots) -> None:
        m, s, buf = slots["m"], slots["s"], _scratch(self, param)
        self._update_m(grad, m, buf)
        self._update_s(grad, s, buf)
        denom = self._denominator(s, buf)
        np.divide(m, denom, out=buf)
        buf *= self.learning_rate * self._bc2_sqrt / self._bc1
        param -= buf


@register("optimizer", "adamax")
class Adamax(_AdamFamily):
    """Adamax: Adam with the infinity norm in place of the squared-gradient mean.

    u = max(β2 u, |g|);  θ -= η/(1-β1^t) · m / (u + ε)   (Kingma & Ba 2015, sec. 7; = Keras Adamax)
    """

    slot_names = ("m", "u")

    def update_step(self, param, grad, slots) -> None:
        m, u, buf = slots["m"], slots["u"], _scratch(self, param)
        self._update_m(grad, m, buf)
        u *= self.beta_2
        np.maximum(u, np.abs(grad, out=buf), out=u)
        np.add(u, self.epsilon, out=buf)
        np.divide(m, buf, out=buf)
        buf *= self.learning_rate / self._bc1
        param -= buf


@register("optimizer", "nadam")
class Nadam(_AdamFamily):
    """Nadam: Adam with Nesterov momentum and the momentum-decay warm-up μ_t = β1 (1 - ½·0.96^(0.004 t)).

    θ -= η (μ_{t+1} m / (1 - Π_{i≤t+1} μ_i) + (1 - μ_t) g / (1 - Π_{i≤t} μ_i)) / (sqrt(ŝ) + ε)
    (Dozat 2016; = torch NAdam(momentum_decay=0.004))
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.mu_product = 1.0  # Π_{i≤t} μ_i, carried across steps (and checkpoints)

    def _mu(self, t: int) -> float:
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** (0.004 * t))

    def prepare_step(self) -> None:
        super().prepare_step()
        t = self.iterations
        mu, mu_next = self._mu(t), self._mu(t + 1)
        self.mu_product *= mu
        # per-step coefficients without η (η is read in update_step)
        self._c_g = (1.0 - mu) / (1.0 - self.mu_product)
        self._c_m = mu_next / (1.0 - self.mu_product * mu_next)

    def update_step(self, param, grad, slots) -> None:
        m, s = slots["m"], slots["s"]
        buf, denom = _scratch(self, param), _scratch(self, param, 1)
        lr = self.learning_rate * self._bc2_sqrt  # see _denominator
        self._update_m(grad, m, buf)
        self._update_s(grad, s, buf)
        self._denominator(s, denom)
        np.divide(grad, denom, out=buf)
        buf *= lr * self._c_g
        param -= buf
        np.divide(m, denom, out=buf)
        buf *= lr * self._c_m
        param -= buf

    def scalar_state(self) -> dict:
        return {"mu_product": self.mu_product}

    def load_scalar_state(self, state: dict) -> None:
        self.mu_product = float(state.get("mu_product", 1.0))
