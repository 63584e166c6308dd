"""model.npz of a bitwise run: one deflated member, the packed network and the preprocessing it needs.

Format 2 (written since the bitwise model had to be 25x smaller than float32): one uint8 array
``bitwise``,

    uint32 n | n bytes: zlib(uint32 header length | header (UTF-8 JSON) | bias sign bits |
    bias nonzero bits | input thresholds (in_dim x bits, the network's dtype)) | the sign and mask words
    (uint64), raw, or deflated when that is smaller (``words`` in the header)

Deflate pays on the header and the thresholds, and on the words only when many weights are 0 (the
sign bits of a dense network are as random as its training made them). The header holds the format,
the dtype, the layer shapes and the preprocessing's strings (task, dataset, feature, target and class
names, regression's target scaling). The scaler is folded into the input
thresholds (``PackedNetwork.folded``), so the saved model reads raw features and its scaler is the
identity. Every npz member costs ~300 bytes of zip and npy headers, which at digits' 256 x 256 was a
fifth of the file; one member costs them once. Format 1 (three ``bitwise*`` arrays beside the usual
``data.*`` preprocessing) is still read.
"""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np

from mlrun.nn.packed import PackedDense, PackedNetwork

FORMAT = 2
READS = (1, 2)


def _bits(flags: np.ndarray) -> bytes:
    return np.packbits(flags, bitorder="little").tobytes()


def _plain(value):
    """A preprocessing value as JSON: an array as {dtype, values}, a 0-d string as the string."""
    value = np.asarray(value)
    if value.ndim == 0 and value.dtype.kind in "US":
        return str(value)
    return {"dtype": value.dtype.str, "values": value.tolist()}


def _array(value):
    return value if isinstance(value, str) else np.asarray(value["values"], dtype=value["dtype"])


def model_arrays(network, data_state: dict) -> dict[str, np.ndarray]:
    """What model.npz holds: a packed network in format 2; any other network as its arrays plus ``data.*``."""
    if not isinstance(network, PackedNetwork):
        return {**network.to_arrays(), **{f"data.{k}": v for k, v in data_state.items()}}
    return {"bitwise": np.frombuffer(packed_blob(network, data_state), np.uint8)}


def packed_blob(network: PackedNetwork, data_state: dict) -> bytes:
    """The format-2 bytes of a packed network trained on scaled features, its scaler folded in."""
    raw = network.folded(data_state["scaler_center"], data_state["scaler_scale"])
    blocks = [l.signs for l in raw.layers] + [l.mask for l in raw.layers if l.mask is not None]
    words = b"".join(w.astype("<u8").tobytes() for w in blocks)
    deflated = zlib.compress(words, 9)
    kept = {k: _plain(v) for k, v in data_state.items() if k not in ("scaler_center", "scaler_scale")}
    header = {"format": FORMAT, "dtype": raw.dtype.name, "in_dim": raw.in_dim, "bits": raw.thresholds.shape[1],
              "words": "deflate" if len(deflated) < len(words) else "raw",
              "layers": [{"units": len(l.signs), "n_in": l.n_in, "hidden": l.hidden, "mask": l.mask is not None}
                         for l in raw.layers], "data": kept}
    text = json.dumps(header, separators=(",", ":")).encode()
    bias = np.concatenate([l.bias for l in raw.layers])
    small = zlib.compress(b"".join([struct.pack("<I", len(text)), text, _bits(bias > 0), _bits(bias != 0),
                                    raw.thresholds.astype(raw.dtype.newbyteorder("<")).tobytes()]), 9)
    return struct.pack("<I", len(small)) + small + (deflated if header["words"] == "deflate" else words)


def read_packed(arrays: dict[str, np.ndarray]) -> tuple[PackedNetwork, dict]:
    """(network, preprocessing state) from a bitwise model.npz's arrays, format 1 or 2; ValueError if
    the file is damaged or of a format this version does not read."""
    if "bitwise.words" in arrays:
        return _read_format_1(arrays), {k[len("data."):]: v for k, v in arrays.items() if k.startswith("data.")}
    blob = arrays["bitwise"].tobytes()
    try:
        (n,) = struct.unpack_from("<I", blob)
        small = zlib.decompress(blob[4:4 + n])
        (size,) = struct.unpack_from("<I", small)
        header = json.loads(small[4:4 + size].decode())
        if header.get("format") in READS:
            words = blob[4 + n:] if header["words"] == "raw" else zlib.decompress(blob[4 + n:])
    except (zlib.error, struct.error, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        raise ValueError("its bitwise network is damaged (not a format-2 stream)") from None
    if header.get("format") not in READS:
        raise ValueError(f"its bitwise network has format {header.get('format')}; this mlrun reads formats "
                         f"{', '.join(map(str, READS))}")
    try:
        return _network(header, words, memoryview(small)[4 + size:]), _state(header)
    except (KeyError, TypeError, AttributeError, IndexError):  # a field missing, or of the wrong kind
        raise ValueError("its bitwise network is damaged (its header is not one mlrun writes)") from None


def _network(header: dict, words: bytes, rest: memoryview) -> PackedNetwork:
    dtype, specs = np.dtype(header["dtype"]), header["layers"]
    shapes = [(s["units"], -(-s["n_in"] // 64)) for s in specs] + \
             [(s["units"], -(-s["n_in"] // 64)) for s in specs if s["mask"]]
    n_words, n_bias = sum(u * w for u, w in shapes), sum(s["units"] for s in specs)
    bias_bytes, n_thresholds = -(-n_bias // 8), header["in_dim"] * header["bits"]
    if len(words) != 8 * n_words or len(rest) != 2 * bias_bytes + dtype.itemsize * n_thresholds:
        raise ValueError("its bitwise network is damaged (its sizes differ from its header's)")
    flat = np.frombuffer(words, "<u8").astype(np.uint64)
    blocks = [b.reshape(shape) for b, shape in zip(np.split(flat, np.cumsum([u * w for u, w in shapes])[:-1]),
                                                    shapes)]
    signs, masks = blocks[: len(specs)], iter(blocks[len(specs):])
    positive, nonzero = (np.unpackbits(np.frombuffer(rest, np.uint8, bias_bytes, at), count=n_bias,
                                       bitorder="little") for at in (0, bias_bytes))
    bias = np.where(nonzero == 1, np.where(positive == 1, 1, -1), 0).astype(np.int32)
    biases = np.split(bias, np.cumsum([s["units"] for s in specs])[:-1])
    thresholds = np.frombuffer(rest, dtype.newbyteorder("<"), n_thresholds, 2 * bias_bytes)
    layers = [PackedDense(signs[i], next(masks) if s["mask"] else None, biases[i], s["n_in"],
                          dtype.type(1 / np.sqrt(s["n_in"])), s["hidden"]) for i, s in enumerate(specs)]
    return PackedNetwork(thresholds.reshape(header["in_dim"], header["bits"]), layers, header["in_dim"], dtype)


def _state(header: dict) -> dict:
    """The preprocessing state of ``Preprocessor.from_state``, with the identity scaler (folded away)."""
    state = {k: _array(v) for k, v in header["data"].items()}
    state["scaler_center"], state["scaler_scale"] = np.zeros(header["in_dim"]), np.ones(header["in_dim"])
    return state


def _read_format_1(arrays: dict[str, np.ndarray]) -> PackedNetwork:
    """Format 1: JSON meta, every layer's words end to end, int8 biases; the scaler stays in ``data.*``."""
    meta = json.loads(arrays["bitwise"].tobytes().decode())
    dtype, specs = np.dtype(meta["dtype"]), meta["layers"]
    shapes = [(s["units"], s["words"]) for s in specs] + [(s["units"], s["words"]) for s in specs if s["mask"]]
    ends = np.cumsum([units * words for units, words in shapes])
    blocks = [b.reshape(shape) for b, shape in zip(np.split(arrays["bitwise.words"], ends[:-1]), shapes)]
    signs, masks = blocks[: len(specs)], iter(blocks[len(specs):])
    biases = np.split(arrays["bitwise.bias"], np.cumsum([s["units"] for s in specs])[:-1])
    layers = [PackedDense(signs[i], next(masks) if s["mask"] else None, biases[i], s["n_in"],
                          dtype.type(s["alpha"]), s["hidden"]) for i, s in enumerate(specs)]
    return PackedNetwork(meta["thresholds"], layers, meta["in_dim"], dtype)
