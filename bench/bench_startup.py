"""Whole-process wall time of `mlrun train --smoke` and the quickstart against the floor mlrun cannot
go below while it uses scikit-learn's data and metrics (`import sklearn.metrics, sklearn.datasets`),
measured alternately in the same run (targets: smoke within 2x the floor; quickstart under 2.5 s idle).

    python bench/bench_startup.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _wall(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as runs:
        cases = {
            "floor: import sklearn.metrics, sklearn.datasets": [sys.executable, "-c",
                                                                "import sklearn.metrics, sklearn.datasets"],
            "mlrun train --smoke configs/quickstart.yaml": [sys.executable, "-m", "mlrun", "train", "--smoke", "-q",
                                                            "configs/quickstart.yaml", "--runs-dir", runs],
            "mlrun train configs/quickstart.yaml": [sys.executable, "-m", "mlrun", "train", "-q",
                                                    "configs/quickstart.yaml", "--runs-dir", runs],
        }
        times = {name: [] for name in cases}
        for _ in range(args.repeat):  # alternate, so load on the machine hits every case alike
            for name, cmd in cases.items():
                times[name].append(_wall(cmd, env))
    medians = {name: statistics.median(t) for name, t in times.items()}
    floor = medians[next(iter(cases))]
    for name, median in medians.items():
        print(f"{name:52s} median {median:6.2f} s  best {min(times[name]):6.2f} s  {median / floor:4.2f}x the floor")


if __name__ == "__main__":
    main()
