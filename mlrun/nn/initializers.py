"""Weight initializers: ``init(shape, rng, dtype) -> array``, shape = (fan_in, fan_out).

Variance scaling (Keras VarianceScaling, plain normal, not truncated): a normal has variance
scale / fan, a uniform is U(-r, r) with r = sqrt(3 · scale / fan). The draw is float64 and then cast,
so float32 and float64 runs of one seed start from the same numbers.
"""

from __future__ import annotations

import numpy as np

from mlrun.registry import register

# Which initializer "auto" picks for an activation (Géron, Table 11-1); anything else: glorot_uniform.
_AUTO = {
    "relu": "he_normal", "leaky_relu": "he_normal", "rrelu": "he_normal", "prelu": "he_normal",
    "elu": "he_normal", "selu": "lecun_normal",
}


def auto_initializer(activation_name: str) -> str:
    """What "auto" means: he_normal (ReLU family, ELU), lecun_normal (SELU), else glorot_uniform."""
    return _AUTO.get(activation_name, "glorot_uniform")


def fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shape; a 1-D shape (n,) has fan_in = fan_out = n."""
    shape = tuple(shape)
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[0], int(np.prod(shape[1:]))


class Initializer:
    """Base class: a callable ``(shape, rng, dtype=np.float64) -> np.ndarray``."""

    registry_kind = "initializer"
    registry_name = "initializer"

    def __init__(self) -> None:
        pass

    def __call__(self, shape, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
        raise NotImplementedError

    def config(self) -> dict:
        """The spec that rebuilds this initializer: its name and constructor arguments."""
        from mlrun.registry import parameters

        spec = {"name": self.registry_name}
        for key in parameters(self.registry_kind, self.registry_name):
            spec[key] = getattr(self, key)
        return spec

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class VarianceScaling(Initializer):
    """Normal N(0, scale/fan) or uniform U(-r, r), r = sqrt(3 scale/fan); fan per ``mode``."""

    scale = 1.0
    mode = "fan_in"  # fan_in | fan_avg
    distribution = "normal"  # normal | uniform

    def __call__(self, shape, rng, dtype=np.float64):
        fan_in, fan_out = fans(shape)
        fan = fan_in if self.mode == "fan_in" else (fan_in + fan_out) / 2
        variance = self.scale / max(fan, 1)
        if self.distribution == "normal":
            w = rng.standard_normal(shape)
            w *= np.sqrt(variance)
        else:
            r = np.sqrt(3.0 * variance)
            w = rng.uniform(-r, r, shape)
        return w.astype(dtype, copy=False)


@register("initializer", "glorot_normal")
class GlorotNormal(VarianceScaling):
    """Glorot (Xavier) normal: N(0, 1/fan_avg), fan_avg = (fan_in + fan_out)/2 (Glorot & Bengio 2010)."""

    mode = "fan_avg"


@register("initializer", "glorot_uniform")
class GlorotUniform(VarianceScaling):
    """Glorot (Xavier) uniform: U(-r, r), r = sqrt(3/fan_avg) (Glorot & Bengio 2010)."""

    mode, distribution = "fan_avg", "uniform"


@register("initializer", "lecun_normal")
class LecunNormal(VarianceScaling):
    """LeCun normal: N(0, 1/fan_in) (LeCun et al. 1998; the SELU initialization)."""


@register("initializer", "lecun_uniform")
class LecunUniform(VarianceScaling):
    """LeCun uniform: U(-r, r), r = sqrt(3/fan_in) (LeCun et al. 1998)."""

    distribution = "uniform"


@register("initializer", "he_normal")
class HeNormal(VarianceScaling):
    """He (Kaiming) normal: N(0, 2/fan_in) (He et al. 2015)."""

    scale = 2.0


@register("initializer", "he_uniform")
class HeUniform(VarianceScaling):
    """He (Kaiming) uniform: U(-r, r), r = sqrt(6/fan_in) (He et al. 2015)."""

    scale, distribution = 2.0, "uniform"


@register("initializer", "zeros")
class Zeros(Initializer):
    """All zeros (rng unused)."""

    def __call__(self, shape, rng=None, dtype=np.float64):
        return np.zeros(shape, dtype=dtype)


@register("initializer", "random_normal")
class RandomNormal(Initializer):
    """Plain normal N(0, stddev²), stddev default 1.0: the note's "mean 0, standard deviation 1"
    baseline that Glorot & Bengio 2010 and Géron (ch. 11) show making deep logistic nets saturate.

    Same as keras.initializers.RandomNormal(0, stddev) and torch.nn.init.normal_(0, stddev).
    """

    def __init__(self, stddev: float = 1.0) -> None:
        self.stddev = stddev

    def __call__(self, shape, rng, dtype=np.float64):
        w = rng.standard_normal(shape)
        w *= self.stddev
        return w.astype(dtype, copy=False)


@register("initializer", "random_uniform")
class RandomUniform(Initializer):
    """Uniform U(-limit, limit), limit default 1.0 (variance limit²/3), whatever the fans.

    Same as keras.initializers.RandomUniform(-limit, limit) and torch.nn.init.uniform_(-limit, limit).
    """

    def __init__(self, limit: float = 1.0) -> None:
        self.limit = limit

    def __call__(self, shape, rng, dtype=np.float64):
        return rng.uniform(-self.limit, self.limit, shape).astype(dtype, copy=False)


@register("initializer", "standard_uniform")
class StandardUniform(Initializer):
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)), variance 1/(3 fan_in): the "standard" initialization that
    Glorot & Bengio 2010 (eq. 1) compare their normalized one against; it shrinks the back-propagated
    variance layer by layer and lets the top logistic layer saturate at 0.
    """

    def __call__(self, shape, rng, dtype=np.float64):
        fan_in, _ = fans(shape)
        r = 1.0 / np.sqrt(max(fan_in, 1))
        return rng.uniform(-r, r, shape).astype(dtype, copy=False)
