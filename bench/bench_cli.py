"""Start-up time of `mlrun --help` (target: under 0.3 s): heavy libraries must load lazily.

    python bench/bench_cli.py [--repeat 10]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

HEAVY = ("sklearn", "matplotlib", "pydantic", "scipy", "rich.progress")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    exe = shutil.which("mlrun") or str(sys.prefix) + "/bin/mlrun"
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        subprocess.run([exe, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    check = f"import sys, mlrun.cli; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True).stdout.strip()
    median = statistics.median(times)
    print(f"mlrun --help: median {median:.3f} s, best {min(times):.3f} s over {args.repeat} runs "
          f"({'within' if median < 0.3 else 'OVER'} the 0.3 s target)")
    print(f"heavy modules imported by mlrun.cli: {loaded or 'none'}")


if __name__ == "__main__":
    main()
