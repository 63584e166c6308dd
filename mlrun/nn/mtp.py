"""Multi-token prediction for sequence windows: a Network plus D modules that predict further targets
during training only (``model.mtp``).

``heads: sequential`` follows DeepSeek-V3 (arXiv 2412.19437, section 2.2), adapted to a feed-forward
network. With h⁰ the main network's last hidden representation (the output layer's input) and t_k
the true target k steps after the main one (t_0 = the main target), module k = 1..D computes

    h'ᵏ = Mₖ [RMSNorm(hᵏ⁻¹); RMSNorm(Emb(t_{k-1}))]      Mₖ: 2d -> d, no bias
    hᵏ  = Blockₖ(h'ᵏ)                                    a dense layer d -> d with model.activation
    Pᵏ  = OutHead(hᵏ)  predicts t_k                       the main output layer, shared

and the loss is L_main + λ/D Σₖ L(t_k, Pᵏ) (the main loss function at every depth). Where it departs
from the paper: the transformer block TRMₖ is one dense layer; Emb is shared by the modules but not
with the main network (whose inputs are a window, not one token): for class labels a row lookup, for
a standardised value the affine map t a + c (a bare t a would lose |t| in the RMSNorm); L2 applies to
the main network's weights only. ``heads: parallel`` is Gloeckle et al. 2024's variant: head k is its
own dense layer on h⁰, Pᵏ = OutHead(Blockₖ(h⁰)), with the same loss weighting.

λ is ``weight``, optionally switched to ``schedule.weight`` after the fraction ``schedule.at`` of
the training steps (DeepSeek-V3: 0.3 for the first 10T tokens, 0.1 for the last 4.8T). Inference,
validation and the saved model use the main network only (``to_arrays`` saves a plain Network).
"""

from __future__ import annotations

import json

import numpy as np

from mlrun.nn.network import Network
from mlrun.registry import build

EPS = 1e-6


class RMSNorm:
    """y = x / sqrt(mean(x²) + eps) · g per row (Zhang & Sennrich 2019); g starts at 1.

    backward: x̂ = x r, dx = r (dx̂ - x̂ mean(dx̂ x̂)), dx̂ = dy g, dg = Σ_rows dy x̂.
    """

    def __init__(self, width: int, dtype) -> None:
        self.params = {"g": np.ones(width, dtype=dtype)}
        self.grads = {"g": np.zeros(width, dtype=dtype)}

    def forward(self, x):
        self._r = 1 / np.sqrt(np.mean(x * x, axis=1, keepdims=True) + EPS)
        self._x_hat = x * self._r
        return self._x_hat * self.params["g"]

    def backward(self, dy):
        self.grads["g"][...] = np.sum(dy * self._x_hat, axis=0)
        dx_hat = dy * self.params["g"]
        return self._r * (dx_hat - self._x_hat * np.mean(dx_hat * self._x_hat, axis=1, keepdims=True))


class TargetEmbedding:
    """Class labels: e = E[t] (E: classes x d); a standardised value: e = t E[0] + E[1]."""

    def __init__(self, n_classes: int | None, width: int, rng, dtype) -> None:
        rows = 2 if n_classes is None else n_classes
        self.classes = n_classes
        self.params = {"E": rng.standard_normal((rows, width)).astype(dtype)}
        self.grads = {"E": np.zeros((rows, width), dtype=dtype)}

    def forward(self, t):
        """t: (n, k) labels or values -> (n, k, d)."""
        E = self.params["E"]
        self._t = t
        if self.classes is None:
            return t[:, :, None] * E[0] + E[1]
        return E[t.astype(np.intp)]

    def backward(self, de) -> None:
        """de: (n, k, d); fills grads (the embedding's input needs no gradient)."""
        dE = self.grads["E"]
        if self.classes is None:
            dE[0] = np.einsum("nk,nkd->d", self._t, de)
            dE[1] = de.sum(axis=(0, 1))
        else:
            dE[...] = 0
            np.add.at(dE, self._t.astype(np.intp).ravel(), de.reshape(-1, de.shape[-1]))


def stack_targets(y: np.ndarray, y_ahead: np.ndarray, depth: int) -> np.ndarray:
    """The training targets of a network with ``depth`` modules: the main one, then t_1 .. t_depth."""
    if y_ahead is None or y_ahead.shape[1] < depth:
        have = 0 if y_ahead is None else y_ahead.shape[1]
        raise ValueError(f"model.mtp depth {depth} needs {depth} further targets per row; the data has {have}")
    main = y.reshape(len(y), -1)
    return np.concatenate([main, y_ahead[:, :depth].astype(main.dtype)], axis=1)


class MTPNetwork(Network):
    """A Network whose training loss adds D further-target predictions (module docstring); every
    parameter, modules included, is a view into the one flat buffer, the main network's first."""

    def __init__(self, specs: list, in_dim: int, dtype="float32", init_rng=None, noise_rng=None, *,
                 depth: int = 1, weight: float = 0.3, heads: str = "sequential", schedule: dict | None = None,
                 activation="elu", n_classes: int | None = None, total_steps: int = 1) -> None:
        self.depth, self.weight, self.heads = int(depth), float(weight), heads
        self.schedule = dict(schedule) if schedule else None
        self.activation, self.n_classes, self.total_steps = activation, n_classes, int(total_steps)
        self.history_keys = ("train_loss_main", *(f"train_loss_mtp{k}" for k in range(1, self.depth + 1)),
                             "mtp_weight")
        super().__init__(specs, in_dim, dtype, init_rng, noise_rng)

    def _extra_parts(self, init_rng) -> list:
        init_rng = init_rng if init_rng is not None else np.random.default_rng(0)
        head = self.layers[-1]
        d = head.params["W"].shape[0]
        self.blocks = [self._dense(d, self.activation, "auto", True, init_rng) for _ in range(self.depth)]
        if self.heads == "parallel":
            self.modules = list(self.blocks)
            return self.modules
        self.embedding = TargetEmbedding(self.n_classes, d, init_rng, self.dtype)
        self.projections = [self._dense(2 * d, "linear", "glorot_uniform", False, init_rng, d)
                            for _ in range(self.depth)]
        self.h_norms = [RMSNorm(d, self.dtype) for _ in range(self.depth)]
        self.e_norms = [RMSNorm(d, self.dtype) for _ in range(self.depth)]
        self.modules = [self.embedding, *self.projections, *self.blocks, *self.h_norms, *self.e_norms]
        return self.modules

    def _dense(self, in_dim, activation, initializer, use_bias, rng, units=None):
        layer = build("layer", {"name": "dense", "units": units or in_dim, "activation": activation,
                                "initializer": initializer, "use_bias": use_bias})
        layer.build(in_dim, rng, self.dtype)
        return layer

    def weight_at(self, step: int) -> float:
        """λ at optimizer step ``step``: ``weight``, then ``schedule.weight`` from ``schedule.at`` on."""
        if self.schedule and step >= self.schedule["at"] * self.total_steps:
            return float(self.schedule["weight"])
        return self.weight

    # -- one training batch -----------------------------------------------------------------------
    def _column(self, y: np.ndarray, k: int) -> np.ndarray:
        """Target t_k of the stacked targets: (n,) labels or (n, 1) values, as the loss takes them."""
        return np.ascontiguousarray(y[:, k] if self.n_classes is not None else y[:, k:k + 1])

    def loss_and_gradient(self, x, y, loss, step: int = 0) -> tuple[float, dict]:
        """L_main + λ/D Σ_k L_k on stacked targets y (n, 1 + D); the main part exactly as Network's."""
        trunk, head = self.layers[:-1], self.layers[-1]
        h0 = x
        for layer in trunk:
            h0 = layer.forward(h0, True)
        value, dy = loss.value_and_gradient(self._column(y, 0), head.forward(h0, True))
        weight = self.weight_at(step)
        hidden = self._parallel_forward(h0) if self.heads == "parallel" else self._sequential_forward(h0, y)
        W, b = head.params["W"], head.params["b"]
        parts, dy_heads = {"train_loss_main": value}, []
        for k, h_k in enumerate(hidden, 1):
            value_k, dy_k = loss.value_and_gradient(self._column(y, k), h_k @ W + b)
            parts[f"train_loss_mtp{k}"] = value_k
            value += weight / self.depth * value_k
            dy_heads.append(dy_k * (weight / self.depth))
        dh0 = head.backward(dy)  # the shared head's gradient: the main part first, the depths added
        dh_heads = []
        for h_k, dy_k in zip(hidden, dy_heads):
            head.grads["W"] += h_k.T @ dy_k
            head.grads["b"] += dy_k.sum(axis=0)
            dh_heads.append(dy_k @ W.T)
        back = self._parallel_backward(dh_heads) if self.heads == "parallel" else self._sequential_backward(dh_heads)
        if dh0 is not None:
            dh0 += back
            for layer in reversed(trunk):
                dh0 = layer.backward(dh0)
        parts["mtp_weight"] = weight
        return value, parts

    def _parallel_forward(self, h0):
        return [block.forward(h0, True) for block in self.blocks]

    def _parallel_backward(self, dh_heads):
        return sum(block.backward(dh) for block, dh in zip(self.blocks, dh_heads))

    def _sequential_forward(self, h0, y):
        e = self.embedding.forward(y[:, :self.depth])  # embeddings of t_0 .. t_{D-1}
        hidden, h = [], h0
        for k in range(self.depth):
            z = np.concatenate([self.h_norms[k].forward(h), self.e_norms[k].forward(e[:, k])], axis=1)
            h = self.blocks[k].forward(self.projections[k].forward(z, True), True)
            hidden.append(h)
        return hidden

    def _sequential_backward(self, dh_heads):
        """d loss / d h⁰ through modules D .. 1 (module k+1 reads hᵏ); fills the modules' grads."""
        n, d = dh_heads[0].shape
        de = np.empty((n, self.depth, d), dtype=dh_heads[0].dtype)
        carry = 0
        for k in reversed(range(self.depth)):
            dz = self.projections[k].backward(self.blocks[k].backward(dh_heads[k] + carry))
            carry = self.h_norms[k].backward(dz[:, :d])
            de[:, k] = self.e_norms[k].backward(dz[:, d:])
        self.embedding.backward(de)
        return carry

    # -- what is saved ----------------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The main network only, as a plain Network's arrays: the modules are dropped at inference."""
        meta = {"specs": [layer.config() for layer in self.layers], "in_dim": self.in_dim, "dtype": self.dtype.name}
        state = {f"network.state.{k}": v.copy() for k, v in self.layer_state().items()}
        return {"network": np.array(json.dumps(meta)), "network.params": self.params[:self.n_main].copy(), **state}
