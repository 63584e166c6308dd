"""A sequential network whose trainable parameters live in one contiguous buffer.

Every layer's params and grads are views into ``Network.params`` / ``Network.grads``, so an optimizer
step, clipping, L2 and gradient norms are a handful of vectorised operations on two flat arrays,
whatever the number of layers. Tensors that take L2 (dense weights) are packed first, so the L2 term
is ``params[:n_regularized]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np

from mlrun.nn.initializers import auto_initializer
from mlrun.registry import build, split_spec


def expand_model(model: Mapping) -> list:
    """The hidden-layer specs of a resolved spec's ``model:`` section (short form expanded; long form as
    written). Every key must be there: the defaults live in the spec (``ModelSpec``), not here.

    Short form: N x (dense -> [batch_norm -> activation] -> [dropout]); dropout becomes alpha_dropout
    under SELU, and the initializer ``auto`` is resolved from the activation.
    """
    if model["layers"]:
        return [spec if isinstance(spec, str) else dict(spec) for spec in model["layers"]]
    neurons, activation, initializer = model["neurons"], model["activation"], model["initializer"]
    widths = list(neurons) if isinstance(neurons, (list, tuple)) else [neurons] * model["hidden_layers"]
    act_name, _ = split_spec("activation", activation)
    if initializer == "auto":
        initializer = auto_initializer(act_name)
    dropout = float(model["dropout"])
    specs: list = []
    for width in widths:
        if model["batch_norm"]:
            specs += [{"name": "dense", "units": int(width), "initializer": initializer},
                      {"name": "batch_norm"},
                      {"name": "activation", "activation": activation}]
        else:
            specs.append({"name": "dense", "units": int(width), "activation": activation,
                          "initializer": initializer})
        if dropout > 0:
            specs.append({"name": "alpha_dropout" if act_name == "selu" else "dropout", "rate": dropout})
    return specs


def output_spec(n_outputs: int) -> dict:
    """The linear output layer mlrun appends: one logit per class (2 for binary) or one unit per target."""
    return {"name": "dense", "units": int(n_outputs), "activation": "linear", "initializer": "glorot_uniform"}


class Network:
    """Sequential layers over one flat parameter buffer (see the module docstring)."""

    def __init__(self, specs: list, in_dim: int, dtype="float32", init_rng=None, noise_rng=None) -> None:
        self.specs = [spec if isinstance(spec, str) else dict(spec) for spec in specs]
        self.in_dim = int(in_dim)
        self.dtype = np.dtype(dtype)
        init_rng = init_rng if init_rng is not None else np.random.default_rng(0)
        self.noise_rng = noise_rng if noise_rng is not None else np.random.default_rng(1)
        self.layers = [build("layer", spec) for spec in self.specs]
        dim = self.in_dim
        for layer in self.layers:
            dim = layer.build(dim, init_rng, self.dtype)
            for part in (layer, getattr(layer, "act", None)):
                if part is not None:
                    part.rng = self.noise_rng  # noise (dropout, rrelu) has its own seed child
        self.out_dim = dim
        if self.layers:
            self.layers[0].input_grad = False  # nobody needs d loss / d input
        self._pack(self._extra_parts(init_rng))

    # -- the flat buffer ------------------------------------------------------------------------
    def _extra_parts(self, init_rng) -> list:
        """Parameter owners beyond the layers (nn/mtp.py's modules), packed after them: none here."""
        return []

    def _pack(self, extra=()) -> None:
        entries = [(layer, key) for layer in self.layers for key in layer.params]
        regularized = {(id(l), k) for l in self.layers for k in getattr(l, "regularized", ())}
        entries.sort(key=lambda e: (id(e[0]), e[1]) not in regularized)  # stable: L2 tensors first
        self.n_main = int(sum(layer.params[key].size for layer, key in entries))  # the layers' part: a prefix
        entries += [(part, key) for part in extra for key in part.params]
        sizes = [layer.params[key].size for layer, key in entries]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.params = np.empty(int(offsets[-1]), dtype=self.dtype)
        self.grads = np.zeros_like(self.params)
        for (layer, key), start, stop in zip(entries, offsets[:-1], offsets[1:]):
            shape = layer.params[key].shape
            self.params[start:stop] = layer.params[key].ravel()
            layer.params[key] = self.params[start:stop].reshape(shape)
            layer.grads[key] = self.grads[start:stop].reshape(shape)
        self.segments = offsets[:-1][np.asarray(sizes) > 0]
        self.n_regularized = int(sum(s for (l, k), s in zip(entries, sizes) if (id(l), k) in regularized))

    @property
    def n_params(self) -> int:
        return int(self.params.size)

    # -- forward / backward ---------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, dy: np.ndarray) -> None:
        for layer in reversed(self.layers):
            dy = layer.backward(dy)

    history_keys: tuple[str, ...] = ()  # the per-batch values loss_and_gradient reports, for history.csv

    def loss_and_gradient(self, x: np.ndarray, y: np.ndarray, loss, step: int = 0) -> tuple[float, dict]:
        """One training batch: forward, ``loss``, backward (fills ``grads``); returns the loss and the
        per-batch values named by ``history_keys`` (none here; ``step`` is for networks whose loss
        changes during training)."""
        output = self.forward(x, training=True)
        value, dy = loss.value_and_gradient(y, output)
        self.backward(dy)
        return value, {}

    def predict_output(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Raw outputs (logits or standardised targets) in inference mode, in batches."""
        x = np.asarray(x, dtype=self.dtype)
        if len(x) == 0:
            return np.empty((0, self.out_dim), dtype=self.dtype)
        return np.concatenate([self.forward(x[i:i + batch_size], training=False)
                               for i in range(0, len(x), batch_size)])

    # -- state ----------------------------------------------------------------------------------
    def layer_state(self) -> dict[str, np.ndarray]:
        """Non-trainable arrays (batch-norm moving statistics), keyed "<layer index>.<name>"."""
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.state.items()}

    def load_layer_state(self, state: dict[str, np.ndarray]) -> None:
        for i, layer in enumerate(self.layers):
            for k in layer.state:
                layer.state[k][...] = state[f"{i}.{k}"]

    def get_weights(self) -> dict[str, np.ndarray]:
        return {"params": self.params.copy(), **{f"state.{k}": v.copy() for k, v in self.layer_state().items()}}

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        self.params[...] = weights["params"]
        self.load_layer_state({k[len("state."):]: v for k, v in weights.items() if k.startswith("state.")})

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Everything needed to rebuild this network, as plain arrays (no pickle)."""
        specs = [layer.config() for layer in self.layers]
        meta = {"specs": specs, "in_dim": self.in_dim, "dtype": self.dtype.name}
        return {"network": np.array(json.dumps(meta)), **{f"network.{k}": v for k, v in self.get_weights().items()}}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Network:
        meta = json.loads(str(arrays["network"]))
        net = cls(meta["specs"], meta["in_dim"], meta["dtype"])
        prefix = "network."
        net.set_weights({k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)})
        return net
