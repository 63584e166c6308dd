"""The layer interface every part of a network follows (activations are parameter-free layers).

    out_dim = layer.build(in_dim, rng)     # sizes and initialises params; rng: np.random.Generator
    y = layer.forward(x, training)         # caches what backward needs
    dx = layer.backward(dy)                # uses the last forward's cache, fills layer.grads in place

``params`` and ``grads`` are dicts with the same keys. The Network replaces each array with a view
into one flat buffer, so a layer must read ``self.params[k]`` at each call (never keep its own
reference) and write gradients into ``self.grads[k]`` in place (``out=`` or ``[...] =``).
``state`` holds non-trainable arrays that must be saved (batch-norm moving statistics).
"""

from __future__ import annotations

import numpy as np


class Layer:
    """Base class: no parameters, no state; ``build`` keeps the width."""

    registry_kind = "layer"
    registry_name = "layer"

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.state: dict[str, np.ndarray] = {}
        self.rng: np.random.Generator | None = None
        self.dtype = np.float64

    def build(self, in_dim: int, rng: np.random.Generator | None = None, dtype=np.float64) -> int:
        self.rng = rng
        self.dtype = np.dtype(dtype)
        return in_dim

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def config(self) -> dict:
        """The spec that rebuilds this layer: ``build("layer", layer.config())``."""
        from mlrun.registry import parameters

        spec = {"name": self.registry_name}
        for key in parameters(self.registry_kind, self.registry_name):
            value = getattr(self, key)
            spec[key] = value.config() if hasattr(value, "config") else value
        return spec

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "name")
        return f"{type(self).__name__}({args})"
