"""Bitwise inference: the packed XNOR + popcount forward pass against the float BLAS forward pass.

For each width w (64 ... 4096), a network w -> w -> w -> 10 (two hidden layers, bipolar inputs of w
features): the float32 network of the same shape (tanh, ``Network.predict_output``: one BLAS matmul a
layer) against the packed bitwise one (``PackedNetwork.predict_output``: np.bitwise_xor / bitwise_and /
np.bitwise_count over 64-bit words). Both on the same rows, one BLAS thread, alternating, best of
``--rounds``; reported: rows per second of each and the ratio packed / float (above 1: packed is faster).
Also the model.npz bytes of each, whole (``nn.packed_file.model_arrays``: the float network's arrays plus
the ``data.*`` preprocessing, against the bitwise one-member format), with the preprocessing of w
standard-scaled features named x0, x1, ... and 10 classes. β 0 has no mask words; ``--beta`` adds them.

    python bench/bench_bitwise.py [--rows 2048] [--rounds 3] [--beta 0.0] [--widths 64,256,1024,4096]
"""

from __future__ import annotations

import argparse
import io
import time

import numpy as np
from threadpoolctl import threadpool_limits

from mlrun.nn.bitwise import bitwise_specs
from mlrun.nn.network import Network
from mlrun.nn.packed import PackedNetwork
from mlrun.nn.packed_file import model_arrays


def networks(width: int, beta: float) -> tuple[Network, PackedNetwork]:
    hidden = [width, width]
    float_net = Network([{"name": "dense", "units": w, "activation": "tanh"} for w in hidden]
                        + [{"name": "dense", "units": 10}], width, "float32")
    model = {"bitwise": {"beta": beta, "input_bits": 1, "input_code": "normal"}, "layers": None, "neurons": hidden,
             "hidden_layers": 2, "initializer": "auto"}
    bit_net = Network(bitwise_specs(model, 10), width, "float32", np.random.default_rng(0))
    return float_net, PackedNetwork.from_network(bit_net)


def best_seconds(fn, x, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - started)
    return min(times)


def preprocessing(width: int) -> dict:
    """A classification run's ``Preprocessor.state()`` for ``width`` standard-scaled features."""
    rng = np.random.default_rng(2)
    return {"task": "classification", "name": "bench", "scaler_kind": "standard",
            "scaler_center": rng.standard_normal(width), "scaler_scale": rng.uniform(0.5, 2, width),
            "feature_names": np.asarray([f"x{i}" for i in range(width)]), "target_names": np.asarray(["target"]),
            "classes": np.arange(10)}


def npz_bytes(arrays) -> int:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return len(buf.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--beta", type=float, default=0.0)
    parser.add_argument("--widths", default="64,256,1024,4096")
    args = parser.parse_args()
    print(f"{'width':>6} {'float rows/s':>13} {'packed rows/s':>14} {'packed/float':>13} "
          f"{'float npz':>10} {'packed npz':>11} {'size ratio':>10}")
    with threadpool_limits(1):
        for width in (int(w) for w in args.widths.split(",")):
            float_net, packed = networks(width, args.beta)
            x = np.random.default_rng(1).standard_normal((args.rows, width)).astype(np.float32)
            float_net.predict_output(x[:64])
            packed.predict_output(x[:64])  # warm-up
            t_float = best_seconds(float_net.predict_output, x, args.rounds)
            t_packed = best_seconds(packed.predict_output, x, args.rounds)
            state = preprocessing(width)
            f_bytes = npz_bytes(model_arrays(float_net, state))
            p_bytes = npz_bytes(model_arrays(packed, state))
            print(f"{width:>6} {args.rows / t_float:>13,.0f} {args.rows / t_packed:>14,.0f} "
                  f"{t_float / t_packed:>13.3f} {f_bytes:>10,} {p_bytes:>11,} {f_bytes / p_bytes:>10.1f}")


if __name__ == "__main__":
    main()
