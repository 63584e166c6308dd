"""Reading a user's table at scale: a 30-feature CSV of 10^4, 10^5 and 10^6 rows (and the same as
Parquet), mlrun against ``pandas.read_csv`` of the same file in the same run, each in a fresh process.

    python bench/bench_data.py [--rows 10000,100000,1000000] [--repeat 3] [--train] [--tree PATH]

The headline is ``load_dataset``: what a user waits for before training starts (read + split + scale,
to the float64 splits), against pandas' read alone. Per size, also: mlrun's reader alone
(``read_columns``, to the float64 array the splits are cut from), the Parquet file, and with --train
``mlrun.train`` for one epoch. Seconds are wall time and CPU seconds of all the process's threads (on
a shared machine the wall time follows the load, the CPU time much less); peak memory is above the
process's resident memory after its imports (Linux's high-water mark, reset there), as a multiple of
the float32 array the network trains on (rows x 30 x 4 bytes). Last, the CPU seconds per 10^6 rows
at each size: equal figures mean time linear in rows.
Each case is repeated, all in turn, and the fastest of each kept: on a shared machine the load changes
between runs, and taking turns exposes every case to it alike. ``--tree`` measures another checkout
of mlrun (its bench need not have this one's cases), for a before/after run back to back.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

FEATURES = 30
ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
path, what = sys.argv[1], sys.argv[2]
import numpy as np, pandas, pyarrow.csv, pyarrow.compute, pyarrow.parquet, sklearn.model_selection
import mlrun.data.sources, mlrun.data.user_csv
from mlrun.data.checked_csv import Where
def status(key):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key + ":"))
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
# ru_maxrss would start at the parent's peak (Linux folds it in at exec): the high-water mark is
# reset here instead, so the peak is this process's own, above what its imports hold
base, cpu_start = status("VmRSS"), cpu()
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
start = time.perf_counter()
if what == "pandas":
    frame = pandas.read_csv(path)
elif what == "mlrun":
    pick = mlrun.data.user_csv.training_picker(["label"], None, Where(path))
    table = mlrun.data.user_csv.read_columns(path, None, Where(path), pick)
elif what == "load_dataset":
    mlrun.data.sources.load_dataset({"dataset": "csv", "path": path, "target": "label"})
else:
    import mlrun
    cfg = mlrun.load_config({"name": "bench", "data": {"dataset": "csv", "path": path, "target": "label"},
                             "model": {"hidden_layers": 1, "neurons": 16},
                             "training": {"epochs": 1, "batch_size": 1024}})
    import tempfile
    mlrun.train(cfg, runs_dir=tempfile.mkdtemp())
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": cpu() - cpu_start, "peak": status("VmHWM") - base}))
"""


def write_table(folder: Path, rows: int) -> Path:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, FEATURES)).round(6)
    columns = {f"x{i}": X[:, i] for i in range(FEATURES)}
    columns["label"] = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    table = pa.table(columns)
    path = folder / f"t{rows}.csv"
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none"))
    pq.write_table(table, folder / f"t{rows}.parquet")
    return path


def child(path: Path, what: str, tree: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), what], capture_output=True, text=True,
                         cwd=tree, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(folder: Path, rows: int, repeat: int, train: bool, tree: Path) -> dict[str, dict]:
    """The fastest of ``repeat`` turns of each case (all in turn), then one epoch of training once."""
    path = write_table(folder, rows)
    cases = [("pandas.read_csv", path, "pandas"), ("load_dataset csv", path, "load_dataset"),
             ("mlrun csv", path, "mlrun"), ("mlrun parquet", path.with_suffix(".parquet"), "mlrun")]
    best: dict[str, dict] = {}
    for _ in range(repeat):
        for label, source, what in cases:
            result = child(source, what, tree)
            if label not in best or result["seconds"] < best[label]["seconds"]:
                best[label] = result
    if train:
        best["train 1 epoch"] = child(path, "train", tree)
    best["file MiB"] = {"size": path.stat().st_size / 2**20}
    for name in (path, path.with_suffix(".parquet")):
        name.unlink()  # 10^6 rows take 0.5 GB of /tmp
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--train", action="store_true")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the mlrun checkout to measure (default: this one)")
    args = parser.parse_args()
    print(f"{'rows':>9} {'file':>9} | {'what':<18} {'seconds':>8} {'vs pandas':>9} {'cpu s':>6} {'vs pandas':>9} "
          f"{'peak MiB':>9} {'x f32':>6}")
    per_row: dict[str, list[str]] = {}
    headline: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for rows in (int(r) for r in args.rows.split(",")):
            best = measure(Path(folder), rows, args.repeat, args.train, args.tree.resolve())
            size, f32 = f"{best.pop('file MiB')['size']:.0f} MiB", rows * FEATURES * 4
            pandas = best["pandas.read_csv"]
            for label, result in best.items():
                ratio, cpu_ratio = result["seconds"] / pandas["seconds"], result["cpu"] / pandas["cpu"]
                peak = result["peak"]
                print(f"{rows:>9,} {size:>9} | {label:<18} {result['seconds']:>8.3f} {ratio:>8.2f}x "
                      f"{result['cpu']:>6.2f} {cpu_ratio:>8.2f}x {peak / 2**20:>9.0f} {peak / f32:>6.1f}", flush=True)
                per_row.setdefault(label, []).append(f"{result['cpu'] / rows * 1e6:.2f}")
            headline[rows] = best["load_dataset csv"]["seconds"] / pandas["seconds"]
    print("load_dataset / pandas.read_csv, wall: " + ", ".join(f"{ratio:.2f}x at {rows:,} rows"
                                                             for rows, ratio in headline.items()))
    print("linear in rows? CPU seconds per 10^6 rows at each size:")
    for label, values in per_row.items():
        print(f"  {label:<18} {' '.join(values)}")


if __name__ == "__main__":
    main()
