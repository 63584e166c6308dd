"""Whole-process wall time of `mlrun train --smoke` and the quickstart against the floor mlrun cannot
go below while it uses scikit-learn's data and metrics (`import sklearn.metrics, sklearn.datasets`),
measured alternately in the same run (targets: smoke within 2x the floor; quickstart under 2.5 s idle).
The quickstart runs twice: as shipped (figures drawn by the figure processes, whose CPU time is
counted in the CPU column: the run waits for them as it exits) and with MLRUN_FIGURE_WORKERS=0
(figures drawn in place).

    python bench/bench_startup.py [--repeat 3] [--compile-each-run]

Every case runs with its modules' bytecode cached, as an installed mlrun runs: the children write it
under a temporary PYTHONPYCACHEPREFIX in one untimed round first. With PYTHONDONTWRITEBYTECODE set
(as in some CI and container shells) each process compiles mlrun's ~100 modules again, about 0.3 s
here; --compile-each-run measures that way instead (the environment's own setting, uncached).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(case: tuple[list[str], dict], env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process: on a loaded machine the CPU time moves far less."""
    cmd, extra_env = case
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env={**env, **extra_env}, cwd=ROOT)
    wall = time.perf_counter() - start
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (now.ru_utime - used.ru_utime) + (now.ru_stime - used.ru_stime)


def _cases(runs: str) -> dict[str, tuple[list[str], dict]]:
    mlrun = [sys.executable, "-m", "mlrun"]
    quickstart = [*mlrun, "train", "-q", "configs/quickstart.yaml", "--runs-dir", runs]
    return {
        "floor: import sklearn.metrics, sklearn.datasets": ([sys.executable, "-c",
                                                             "import sklearn.metrics, sklearn.datasets"], {}),
        "mlrun validate configs/quickstart.yaml": ([*mlrun, "validate", "configs/quickstart.yaml"], {}),
        "mlrun train --smoke configs/quickstart.yaml": ([*mlrun, "train", "--smoke", "-q",
                                                         "configs/quickstart.yaml", "--runs-dir", runs], {}),
        "mlrun train configs/quickstart.yaml": (quickstart, {}),
        "  the same, figures drawn in place": (quickstart, {"MLRUN_FIGURE_WORKERS": "0"}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compile-each-run", action="store_true",
                        help="no bytecode cache: the environment's PYTHONDONTWRITEBYTECODE as it is")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MLRUN_FIGURE_WORKERS", None)  # the shipped default, unless a case sets it
    with tempfile.TemporaryDirectory() as runs, tempfile.TemporaryDirectory() as pycache:
        if not args.compile_each_run:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = pycache
        cases = _cases(runs)
        if not args.compile_each_run:
            for cmd in cases.values():  # untimed: writes every module's bytecode once
                _run(cmd, env)
        times = {name: [] for name in cases}
        for _ in range(args.repeat):  # alternate, so load on the machine hits every case alike
            for name, cmd in cases.items():
                times[name].append(_run(cmd, env))
    print(f"bytecode: {'compiled in every process' if args.compile_each_run else 'cached'}; "
          f"{args.repeat} alternating rounds; medians (CPU: user + system seconds of the process)")
    floor = {kind: statistics.median(t[kind] for t in times[next(iter(cases))]) for kind in (0, 1)}
    for name, runs_of in times.items():
        wall, cpu = (statistics.median(t[kind] for t in runs_of) for kind in (0, 1))
        print(f"{name:48s} wall {wall:5.2f} s ({wall / floor[0]:4.2f}x the floor)  "
              f"CPU {cpu:5.2f} s ({cpu / floor[1]:4.2f}x, {cpu - floor[1]:+.2f} s)")


if __name__ == "__main__":
    main()
