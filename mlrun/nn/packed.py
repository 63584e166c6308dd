"""A trained bitwise network packed 64 weights a word and run with XNOR and popcount.

Bit 1 is +1 and bit 0 is -1; a weight of 0 (the sparsity boundary β) has a 0 bit in its unit's mask
word. For inputs x and weights w in {-1, +1}^n, x · w = n - 2·popcount(x XOR w) (n - 2·Hamming); with a
mask m, x · w = nnz(m) - 2·popcount((x XOR w) AND m). Padding bits are 0 in x, w and m, so they never
count. The integer sums equal the ±1 floating-point computation exactly (tests/test_bitwise.py).
The input quantiser keeps one threshold per feature and bit, so a saved model can fold the scaler into it
(``folded``); ``mlrun.nn.packed_file`` writes and reads model.npz.
"""

from __future__ import annotations

import numpy as np

from mlrun.nn.bitwise import BipolarInput, bitwise_layers

WORD = 64
CHUNK = 1 << 16  # rows x units of one XOR/popcount pass: a few hundred kB, in cache


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """(rows, n) booleans -> (rows, ceil(n/64)) uint64 words, bit i of word k = column 64k + i."""
    rows, n = bits.shape
    words = -(-n // WORD)
    packed = np.zeros((rows, words * 8), np.uint8)
    packed[:, : -(-n // 8)] = np.packbits(bits, axis=1, bitorder="little")
    return packed.view("<u8").astype(np.uint64, copy=False)


def hamming_counts(x_words: np.ndarray, w_words: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """(rows, units) int32 popcount((x XOR w) [AND mask]) summed over the words (np.bitwise_count)."""
    rows, units = len(x_words), len(w_words)
    out = np.zeros((rows, units), np.int32)
    step = max(1, CHUNK // max(units, 1))
    for start in range(0, rows, step):
        xs = x_words[start:start + step]
        tmp = np.empty((len(xs), units), np.uint64)
        count = np.empty((len(xs), units), np.uint8)
        acc = out[start:start + step]
        for k in range(x_words.shape[1]):
            np.bitwise_xor(xs[:, k:k + 1], w_words[:, k], out=tmp)
            if mask is not None:
                np.bitwise_and(tmp, mask[:, k], out=tmp)
            np.bitwise_count(tmp, out=count)
            acc += count
    return out


class PackedDense:
    """One bitwise layer: sign words (units, words), mask words or None, ternary bias, fan-in, scale."""

    def __init__(self, signs, mask, bias, n_in: int, alpha: float, hidden: bool) -> None:
        self.signs, self.mask, self.bias = signs, mask, np.asarray(bias, np.int32)
        self.n_in, self.alpha, self.hidden = int(n_in), alpha, bool(hidden)
        self.nnz = np.full(len(signs), self.n_in, np.int32) if mask is None else \
            np.bitwise_count(mask).sum(axis=1, dtype=np.int32)

    @classmethod
    def from_weights(cls, W: np.ndarray, b: np.ndarray, alpha: float, hidden: bool) -> PackedDense:
        """From ternary W (n_in, units) and b (units,) in {-1, 0, +1}."""
        mask = pack_bits(W.T != 0) if np.any(W == 0) else None
        return cls(pack_bits(W.T > 0), mask, b.astype(np.int32), W.shape[0], alpha, hidden)

    def counts(self, x_words: np.ndarray) -> np.ndarray:
        """The integer pre-activations x · W + b: nnz - 2·Hamming + b."""
        ham = hamming_counts(x_words, self.signs, self.mask)
        return self.nnz - 2 * ham + self.bias


class PackedNetwork:
    """Bipolar input thresholds (in_dim, bits), then packed layers; ``predict_output`` as the Network's."""

    def __init__(self, thresholds, layers: list[PackedDense], in_dim: int, dtype="float32") -> None:
        self.dtype, self.in_dim = np.dtype(dtype), int(in_dim)
        thresholds = np.asarray(thresholds, self.dtype)
        self.thresholds = np.broadcast_to(thresholds, (self.in_dim, thresholds.shape[-1])).copy()
        self.layers = layers
        self.out_dim = len(layers[-1].signs)

    @classmethod
    def from_network(cls, network) -> PackedNetwork:
        """The stage-2 (binarised) form of a trained bitwise ``Network``, whatever its current stage."""
        first = network.layers[0]
        if not isinstance(first, BipolarInput):
            raise ValueError("a bitwise network starts with a bipolar_input layer")
        layers = []
        for layer in bitwise_layers(network):
            saved = layer.state["binary"].copy()
            layer.state["binary"][...] = 1
            W, b = layer.effective_weights()
            layer.state["binary"][...] = saved
            layers.append(PackedDense.from_weights(W, b, layer.alpha, layer.activation != "linear"))
        return cls(first.feature_thresholds, layers, network.in_dim, network.dtype)

    def folded(self, center: np.ndarray, scale: np.ndarray) -> PackedNetwork:
        """The same network on raw features: x ≥ t on (x - center) / scale is x ≥ center + t · scale
        (scale > 0), each threshold rounded once to the network's dtype."""
        center, scale = np.asarray(center, np.float64), np.asarray(scale, np.float64)
        if np.any(scale <= 0):
            raise ValueError("the scaler's scales must be positive to fold them into the thresholds")
        raw = center[:, None] + self.thresholds.astype(np.float64) * scale[:, None]
        return PackedNetwork(raw.astype(self.dtype), self.layers, self.in_dim, self.dtype)

    def input_words(self, x: np.ndarray) -> np.ndarray:
        """The bipolar input code of rows x (feature-major: feature f's bits, then f + 1's), packed."""
        return pack_bits((x[:, :, None] >= self.thresholds).reshape(len(x), -1))

    def predict_output(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Raw outputs: the last layer's integer sums times its scale, in the network's dtype."""
        x = np.asarray(x, dtype=self.dtype)
        out = np.empty((len(x), self.out_dim), self.dtype)
        for start in range(0, len(x), batch_size):
            words = self.input_words(x[start:start + batch_size])
            for layer in self.layers[:-1]:
                words = pack_bits(layer.counts(words) >= 0)
            out[start:start + batch_size] = self.layers[-1].counts(words)
        out *= self.dtype.type(self.layers[-1].alpha)
        return out


def inference_network(network):
    """What evaluates and is saved: the packed form of a bitwise network, else the network itself."""
    return PackedNetwork.from_network(network) if bitwise_layers(network) else network
