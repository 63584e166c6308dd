"""The five per-layer measurements of a probe batch (pure NumPy, no side effects on the network).

A *hidden layer* is a dense layer other than the output one, with whatever follows it up to the next
dense layer (batch norm, its activation, dropout); its *activation* is that block's output, and its
back-propagated gradient is d loss / d that output (Glorot & Bengio 2010, Fig. 7's measure).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A logistic unit within 0.02 of 0 or 1, or a tanh/softsign unit with |a| > 0.98, is saturated: its
# slope is below 0.02 (logistic: below 0.0196 of a 0.25 peak; tanh: 1 - 0.98² = 0.04). Glorot & Bengio
# 2010 (sec. 3.1, Fig. 2) describe the top hidden logistic layer driven to 0; the 0.02 margin is mlrun's.
SIGMOID_LOW, SIGMOID_HIGH = 0.02, 0.98
SYMMETRIC_BOUND = 0.98
SATURATING = {"sigmoid", "tanh", "softsign"}
# A ReLU-family unit is dead when its output is <= 0 for every probe row (no gradient flows through it).
RELU_FAMILY = {"relu", "leaky_relu", "rrelu", "prelu"}
PERCENTILES = (2, 98)


@dataclass(frozen=True)
class HiddenLayer:
    """A hidden block: its number (1 = nearest the input), layer indices [first, last], activation."""

    number: int
    first: int
    last: int
    activation: str
    units: int


def hidden_layers(layers) -> list[HiddenLayer]:
    """The hidden blocks of a sequential list of built layers (the last dense layer is the output)."""
    dense = [i for i, layer in enumerate(layers) if layer.registry_name == "dense"]
    blocks = []
    for number, (first, following) in enumerate(zip(dense[:-1], dense[1:]), start=1):
        acts = [layers[i].act.registry_name for i in range(first, following) if hasattr(layers[i], "act")]
        blocks.append(HiddenLayer(number, first, following - 1, acts[-1] if acts else "linear",
                                  int(layers[first].units)))
    return blocks


def forward_backward(layers, loss, X, y) -> tuple[list, list]:
    """Each layer's output and d loss / d that output, in inference mode (no noise, moving statistics)."""
    outputs, x = [], X
    for layer in layers:
        x = layer.forward(x, training=False)
        outputs.append(x)
    _, dy = loss.value_and_gradient(y, x)
    grads = [None] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        grads[i] = dy
        dy = layers[i].backward(dy)
    return outputs, grads


def saturated_fraction(a: np.ndarray, activation: str) -> float | None:
    """Share of (row, unit) values at a saturating activation's bounds; None for other activations."""
    if activation == "sigmoid":
        return float(np.mean((a < SIGMOID_LOW) | (a > SIGMOID_HIGH)))
    if activation in ("tanh", "softsign"):
        return float(np.mean(np.abs(a) > SYMMETRIC_BOUND))
    return None


def dead_fraction(a: np.ndarray, activation: str) -> float | None:
    """Share of units whose output is <= 0 for every probe row (ReLU family); None for others."""
    if activation not in RELU_FAMILY:
        return None
    return float(np.mean(np.all(a <= 0, axis=0)))


def activation_stats(a: np.ndarray, activation: str) -> dict[str, float]:
    """Mean, std, 2nd and 98th percentiles of all values, and the saturated and dead fractions."""
    low, high = np.percentile(a, PERCENTILES)
    stats = {"act_mean": float(a.mean(dtype=np.float64)), "act_std": float(a.std(dtype=np.float64)),
             "act_p02": float(low), "act_p98": float(high)}
    for name, value in (("saturated", saturated_fraction(a, activation)), ("dead", dead_fraction(a, activation))):
        if value is not None:
            stats[name] = value
    return stats


def norm(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64).ravel()
    return float(np.sqrt(np.dot(x, x)))


def measure(layers, blocks: list[HiddenLayer], loss, X, y) -> tuple[dict, dict]:
    """Per hidden layer: activation statistics, grad_std (of d loss / d activation) and weight_grad_norm;
    and the raw activations and gradients ({number: (a, da)}) for histograms."""
    outputs, grads = forward_backward(layers, loss, X, y)
    result, raw = {}, {}
    for block in blocks:
        a, da = outputs[block.last], grads[block.last]
        stats = activation_stats(a, block.activation)
        stats["grad_std"] = float(da.std(dtype=np.float64))
        stats["weight_grad_norm"] = norm(layers[block.first].grads["W"])
        result[block.number], raw[block.number] = stats, (a, da)
    return result, raw
