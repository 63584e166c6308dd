"""A bitwise run's model.npz (nn/packed_file.py): 25x smaller than the float32 run's at the studied shape,
the scaler folded into the input thresholds, the first format still read, a newer one refused."""

from __future__ import annotations

import functools
import io
import json
import struct
import zlib

import numpy as np
import pytest

import mlrun
from mlrun.nn.bitwise import bitwise_specs, input_thresholds
from mlrun.nn.network import Network
from mlrun.nn.packed import PackedNetwork
from mlrun.nn.packed_file import model_arrays, read_packed
from mlrun.spec.errors import ConfigError
from mlrun.training.setup import load_data


def _model(widths, beta=0.0, input_bits=1):
    return {"bitwise": {"beta": beta, "input_bits": input_bits, "input_code": "normal", "compression_epochs": None},
            "layers": None, "neurons": list(widths), "hidden_layers": len(widths), "initializer": "auto"}


def _npz_bytes(arrays) -> int:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return len(buf.getvalue())


@functools.cache
def _digits_state() -> dict:
    return load_data(mlrun.load_config({"data": {"dataset": "digits"}})).state()


def test_packed_model_is_25x_smaller_than_float32():
    """The whole model.npz at the studied shape (digits, 256 x 256, 2 input bits): the float32 run's file
    (network + data.* preprocessing) against the bitwise run's (one member, the scaler folded in)."""
    state, shape = _digits_state(), [256, 256]
    float_net = Network([{"name": "dense", "units": w, "activation": "tanh"} for w in shape]
                        + [{"name": "dense", "units": 10}], 64, "float32")
    bit_net = Network(bitwise_specs(_model(shape, input_bits=2), 10), 64, "float32")
    float_bytes = _npz_bytes(model_arrays(float_net, state))
    packed = PackedNetwork.from_network(bit_net)
    arrays = model_arrays(packed, state)
    assert list(arrays) == ["bitwise"]
    words = b"".join(layer.signs.astype("<u8").tobytes() for layer in packed.layers)
    assert arrays["bitwise"].tobytes().endswith(words)  # random sign bits: deflate would only add bytes
    assert float_bytes / _npz_bytes(arrays) >= 25, float_bytes / _npz_bytes(arrays)
    sparse = Network(bitwise_specs(_model(shape, beta=0.3, input_bits=2), 10), 64, "float32")
    assert float_bytes / _npz_bytes(model_arrays(PackedNetwork.from_network(sparse), state)) > 13  # + mask words


def test_the_saved_model_reads_raw_features():
    """The scaler folded into the thresholds: raw x >= center + t·scale, rounded once to float32, is the
    trained quantiser on (x - center) / scale; the rest of the preprocessing comes back as it was."""
    state = _digits_state()
    net = Network(bitwise_specs(_model([70], beta=0.2, input_bits=3), 10), 64, "float32", np.random.default_rng(1))
    packed = PackedNetwork.from_network(net)
    raw, pre = read_packed(model_arrays(packed, state))
    t = np.asarray(input_thresholds(3), np.float32).astype(np.float64)  # as the float32 network held them
    np.testing.assert_array_equal(raw.thresholds, (state["scaler_center"][:, None]
                                                   + t * state["scaler_scale"][:, None]).astype(np.float32))
    X = np.random.default_rng(2).uniform(0, 16, (400, 64)).round(1)  # digits-like raw rows
    np.testing.assert_array_equal(raw.predict_output(X),
                                  packed.predict_output((X - state["scaler_center"]) / state["scaler_scale"]))
    for key in ("task", "name", "feature_names", "target_names", "classes"):
        np.testing.assert_array_equal(pre[key], state[key])
    np.testing.assert_array_equal(pre["scaler_center"], 0)
    np.testing.assert_array_equal(pre["scaler_scale"], 1)


def _format_1(packed: PackedNetwork, state: dict) -> dict:
    """model.npz as the first bitwise runs wrote it (before the one-member format)."""
    layers = [{"units": len(l.signs), "words": l.signs.shape[1], "n_in": l.n_in, "alpha": float(l.alpha),
               "hidden": l.hidden, "mask": l.mask is not None} for l in packed.layers]
    meta = {"in_dim": packed.in_dim, "dtype": packed.dtype.name, "thresholds": packed.thresholds[0].tolist(),
            "layers": layers}
    words = [l.signs.ravel() for l in packed.layers] + [l.mask.ravel() for l in packed.layers if l.mask is not None]
    return {"bitwise": np.frombuffer(json.dumps(meta).encode(), np.uint8), "bitwise.words": np.concatenate(words),
            "bitwise.bias": np.concatenate([l.bias for l in packed.layers]).astype(np.int8),
            **{f"data.{k}": v for k, v in state.items()}}


def test_old_and_unknown_model_formats(tmp_path):
    state = _digits_state()
    packed = PackedNetwork.from_network(Network(bitwise_specs(_model([9], beta=0.3), 10), 64, "float32"))
    X = np.random.default_rng(0).uniform(0, 16, (50, 64))
    buf = io.BytesIO()
    np.savez(buf, **_format_1(packed, state))
    (tmp_path / "model.npz").write_bytes(buf.getvalue())
    model = mlrun.load_model(tmp_path)  # format 1: still read, its scaler in data.*
    np.testing.assert_array_equal(model._output(X), packed.predict_output(
        (X - state["scaler_center"]) / state["scaler_scale"]))
    blob = bytearray(model_arrays(packed, state)["bitwise"].tobytes())
    (n,) = struct.unpack_from("<I", blob)
    small = zlib.decompress(bytes(blob[4:4 + n])).replace(b'"format":2', b'"format":3')
    future = struct.pack("<I", len(zlib.compress(small))) + zlib.compress(small) + bytes(blob[4 + n:])
    np.savez(tmp_path / "model.npz", bitwise=np.frombuffer(future, np.uint8))
    with pytest.raises(ConfigError, match=r"model.npz cannot be loaded: its bitwise network has format 3; "
                                          r"this mlrun reads formats 1, 2$"):
        mlrun.load_model(tmp_path)
    np.savez(tmp_path / "model.npz", bitwise=np.frombuffer(bytes(blob[:-8]), np.uint8))
    with pytest.raises(ConfigError, match="damaged"):
        mlrun.load_model(tmp_path)
    for field, forged in [(b'"dtype":"float32"', b'"dtype":"garbag7"'), (b'"in_dim"', b'"in_dix"'),
                          (b'"layers":[{', b'"layers":[7,{')]:  # a bad number type, a field missing, a wrong kind
        small = zlib.decompress(bytes(blob[4:4 + n]))
        assert field in small
        small = small.replace(field, forged)
        small = struct.pack("<I", struct.unpack_from("<I", small)[0] + len(forged) - len(field)) + small[4:]
        damaged = struct.pack("<I", len(zlib.compress(small))) + zlib.compress(small) + bytes(blob[4 + n:])
        np.savez(tmp_path / "model.npz", bitwise=np.frombuffer(damaged, np.uint8))
        with pytest.raises(ConfigError, match=r"model.npz cannot be loaded: its bitwise network is damaged "
                                              r"\(its header is not one mlrun writes\)$"):
            mlrun.load_model(tmp_path)
