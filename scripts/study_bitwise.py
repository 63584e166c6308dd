"""The bitwise study of configs/studies/bitwise.yaml: bitwise against float networks of the same shape.

The YAML is the bitwise base spec; its ``sweep:`` section gives the datasets and the number of seeds.
Per dataset and seed: the float arm (model.bitwise removed, tanh units, same epochs) and the bitwise arm
(beta 0); on the first dataset and BETA_SEEDS seeds also the BETAS arms. Each arm is an ``mlrun.sweep``
(``--jobs`` workers, no figures). Reported: test accuracy (mean ± sample std), the
model.npz bytes (run.json's model_bytes), the share of weights at 0, and the inference speed of the
trained seed-0 models (packed XNOR + popcount against the float BLAS pass, same rows, one BLAS thread,
best of 5). Writes runs/studies/bitwise/results.{json,md} and rewrites the text between
``<!-- study:bitwise -->`` and ``<!-- /study:bitwise -->`` in docs/studies.md.

    python scripts/study_bitwise.py [configs/studies/bitwise.yaml] [--runs-dir runs/studies/bitwise]
                                    [--jobs 2] [--table-only] [--no-docs]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import mlrun

BETAS = (0.1, 0.2, 0.4)
BETA_SEEDS = 2  # the beta arms run on the first two seeds (the compute budget)
DOCS = Path(__file__).resolve().parents[1] / "docs" / "studies.md"
BEGIN, END = "<!-- study:bitwise -->", "<!-- /study:bitwise -->"
SPEED_ROWS = 20_000


def load_study(path) -> dict:
    cfg = mlrun.load_config(path)
    base = cfg.to_dict()
    sweep = base.pop("sweep") or {}
    datasets = (sweep.get("parameters") or {}).get("data.dataset", [base["data"]["dataset"]])
    seeds = list(range(cfg.seed, cfg.seed + int(sweep.get("seeds") or 1)))
    return {"name": cfg.name, "spec": base, "datasets": list(datasets), "seeds": seeds, "betas": BETAS}


def arm_spec(base: dict, dataset: str, seed: int, beta: float | None) -> dict:
    """beta None: the float network of the same shape; else the bitwise one with that boundary."""
    spec = copy.deepcopy(base)
    spec.update(seed=seed, data={"dataset": dataset})
    if beta is None:
        spec["name"] = f"{base['name']}-float"
        spec["model"].update(bitwise=None, activation="tanh")  # same hidden shape, real-valued
    else:
        spec["name"] = f"{base['name']}-bitwise"
        spec["model"]["bitwise"]["beta"] = beta
    return spec


def zero_share(model) -> float | None:
    """The share of a packed model's weights that are 0 (None for a float model)."""
    layers = getattr(model.network, "layers", None)
    if not layers or not hasattr(layers[0], "nnz"):
        return None
    total = sum(layer.n_in * len(layer.signs) for layer in layers)
    return 1 - sum(int(layer.nnz.sum()) for layer in layers) / total


def rows_per_second(model, X: np.ndarray) -> float:
    """Inference rows/s of a trained model's network on X (standardised rows), one BLAS thread, best of 5."""
    times = []
    with threadpool_limits(1):
        model.network.predict_output(X[:256])
        for _ in range(5):
            started = time.perf_counter()
            model.network.predict_output(X)
            times.append(time.perf_counter() - started)
    return len(X) / min(times)


def run_study(study: dict, runs_dir: Path, jobs: int) -> list[dict]:
    """Three sweeps (no figures): the float arm and the beta-0 bitwise arm over datasets x seeds, then
    the BETAS arms on the first dataset and BETA_SEEDS seeds; rows read back with ``mlrun.compare``."""
    base, seeds, first = study["spec"], len(study["seeds"]), study["datasets"][0]
    float_spec = arm_spec(base, first, study["seeds"][0], None)
    for spec, grid, n, where in (
            (float_spec, {"data.dataset": study["datasets"]}, seeds, "float"),
            (arm_spec(base, first, study["seeds"][0], 0.0), {"data.dataset": study["datasets"]}, seeds, "bitwise"),
            (arm_spec(base, first, study["seeds"][0], 0.0), {"model.bitwise.beta": list(study["betas"])},
             BETA_SEEDS, "beta")):
        mlrun.sweep(spec, grid=grid, seeds=n, jobs=jobs, runs_dir=runs_dir / where)
    rows = []
    for row in mlrun.compare([runs_dir]):
        beta = row.get("model.bitwise.beta")
        rows.append({"dataset": row["data.dataset"], "seed": row["seed"], "arm": "float" if beta is None
                     else "bitwise", "beta": beta, "status": row["status"], "test_accuracy": row["test.accuracy"],
                     "model_bytes": row["model_bytes"], "zeros": zero_share(mlrun.load_model(row["path"])),
                     "run": row["path"]})
    return rows


def speeds(rows: list[dict], study: dict) -> dict:
    """Per dataset: rows/s of the seed-0 float and beta-0 bitwise models on SPEED_ROWS test-like rows."""
    from mlrun.training.setup import load_data

    out = {}
    for dataset in sorted({r["dataset"] for r in rows}):
        first = [r for r in rows if r["dataset"] == dataset and r["seed"] == study["seeds"][0]]
        runs = {r["arm"]: r["run"] for r in first if r["beta"] in (None, 0.0)}
        spec = arm_spec(study["spec"], dataset, study["seeds"][0], None)
        X = load_data(mlrun.load_config(spec)).X_test
        X = np.resize(X, (SPEED_ROWS, X.shape[1])).astype(np.float32)
        out[dataset] = {arm: rows_per_second(mlrun.load_model(path), X) for arm, path in runs.items()}
    return out


def _mean_std(values: list[float], digits: int = 4) -> str:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.{digits}f} ± {std:.{digits}f}"


def markdown(study: dict, rows: list[dict], speed: dict) -> str:
    lines = ["| dataset | network | test accuracy | gap to float (points) | model.npz | size ratio "
             "| inference rows/s | speed ratio |", "|---|---|---|---|---|---|---|---|"]
    for dataset in study["datasets"]:
        group = {arm: [r for r in rows if r["dataset"] == dataset and r["beta"] == beta]
                 for arm, beta in (("float", None), ("bitwise", 0.0))}
        acc = {arm: statistics.fmean(r["test_accuracy"] for r in g) for arm, g in group.items()}
        size = {arm: statistics.fmean(r["model_bytes"] for r in g) for arm, g in group.items()}
        for arm, g in group.items():
            gap = "" if arm == "float" else f"{100 * (acc['float'] - acc['bitwise']):.2f}"
            ratio = "1" if arm == "float" else f"{size['float'] / size['bitwise']:.1f}x smaller"
            rate = speed.get(dataset, {}).get(arm)
            fast = "1" if arm == "float" or rate is None else f"{rate / speed[dataset]['float']:.2f}"
            lines.append(f"| {dataset} | {arm} | {_mean_std([r['test_accuracy'] for r in g])} | {gap} "
                         f"| {size[arm] / 1000:.1f} kB | {ratio} | {rate or 0:,.0f} | {fast} |")
    first = study["datasets"][0]
    seeds = study["seeds"][:BETA_SEEDS]
    lines += ["", f"Effect of the sparsity boundary β ({first}, bitwise, seeds {seeds}):", "",
              "| β | test accuracy | weights at 0 | model.npz |", "|---|---|---|---|"]
    for beta in (0.0, *study["betas"]):
        g = [r for r in rows if r["dataset"] == first and r["beta"] == beta and r["seed"] in seeds]
        lines.append(f"| {beta:g} | {_mean_std([r['test_accuracy'] for r in g])} "
                     f"| {statistics.fmean(r['zeros'] for r in g):.1%} "
                     f"| {statistics.fmean(r['model_bytes'] for r in g) / 1000:.1f} kB |")
    return "\n".join(lines) + "\n"


PAPER = """\
The paper's own figures: we could not read them. Our reference corpus holds only the paper's abstract
and first page (Kim & Smaragdis 2016, arXiv 1601.06071), which say that it tests on MNIST "represented
using binary features" and that the bitwise network "performs almost as well as its corresponding
real-valued network", without numbers. The figures quoted here before (float 1.17 %, bitwise 1.33 %
MNIST test error) were from memory and stay unverified; we leave them out of the table."""


def _gap(rows: list[dict], dataset: str) -> float:
    acc = {arm: statistics.fmean(r["test_accuracy"] for r in rows if r["dataset"] == dataset and r["beta"] == beta)
           for arm, beta in (("float", None), ("bitwise", 0.0))}
    return 100 * (acc["float"] - acc["bitwise"])


def _size(rows: list[dict], dataset: str, beta) -> float:
    return statistics.fmean(r["model_bytes"] for r in rows if r["dataset"] == dataset and r["beta"] == beta)


def section(study: dict, rows: list[dict], table: str, seconds: float, speed: dict) -> str:
    """The study's text in docs/studies.md: question, setup, the table, the paper beside it, reading."""
    spec = study["spec"]
    shape = " x ".join(str(spec["model"]["neurons"]) for _ in range(spec["model"]["hidden_layers"]))
    bw = spec["model"]["bitwise"]
    gaps = ", ".join(f"{d} {_gap(rows, d):.2f}" for d in study["datasets"])
    verdict = "within" if _gap(rows, study["datasets"][0]) <= 5 else "not within"
    ratios = ", ".join(f"{d} {_size(rows, d, None) / _size(rows, d, 0.0):.1f}x" for d in study["datasets"])
    first, seeds = study["datasets"][0], study["seeds"][:BETA_SEEDS]
    by_beta = [[100 * r["test_accuracy"] for r in rows if r["dataset"] == first and r["beta"] == beta
                and r["seed"] in seeds] for beta in (0.0, *study["betas"])]
    beta_spread = max(map(statistics.fmean, by_beta)) - min(map(statistics.fmean, by_beta))
    beta_std = max(statistics.stdev(v) for v in by_beta)
    rates = speed
    speeds = ", ".join(f"{d} {rates[d]['bitwise'] / rates[d]['float']:.2f}" for d in study["datasets"] if d in rates)
    return f"""\
## Bitwise networks (Kim & Smaragdis 2016)

*What does a network of ±1 weights and units cost in accuracy, and buy in size and speed, against the
float network of the same shape?* `python scripts/study_bitwise.py configs/studies/bitwise.yaml`
({len(rows)} trainings, {seconds / 60:.0f} minutes on 2 shared cores: two sweep workers,
nice 10). Hidden layers {shape};
float arm: tanh units, Adam {spec["optimizer"]["learning_rate"]:g}, {spec["training"]["epochs"]} epochs;
bitwise arm: the same spec with `model.bitwise` ({bw["compression_epochs"]} epochs of stage 1, weight
compression, then {spec["training"]["epochs"] - bw["compression_epochs"]} of stage 2, noisy backpropagation;
{bw["input_bits"]} bipolar bits per input feature, {bw["input_code"]} code), seeds {study["seeds"]}.
Test accuracy is mean ± sample std over seeds; model.npz is run.json's `model_bytes`; inference is the seed-0 models on
{SPEED_ROWS:,} rows, one BLAS thread, best of 5 (docs/bitwise.md).

{table}
{PAPER}

**Where we differ, and why.** The gap to the float network (points of test accuracy: {gaps}); on
digits it is {verdict} 5 points. Reasons we can name: (1) our networks are small ({shape}) and trained
for {spec["training"]["epochs"]} epochs: noisy backpropagation recovers slowly, and a wide layer averages
its binarisation noise away; (2) the input is {bw["input_bits"]} bits a feature ({bw["input_code"]} code:
equal-width bins of each feature's training range), far less than the float network reads;
(3) digits has about 1,260 training rows and MNIST-1D 3,500. MNIST-1D was 46 points behind with the
earlier code (thresholds at the normal quantiles, ±0.43σ): its classes are told apart by a few large
excursions, and equal-mass thresholds spend the bits on the noise near 0; a float network on that code
reached only 0.26. Equal-width bins put the two edges near ±1.6σ there and keep the excursions
(docs/bitwise.md). What remains, in a one-off diagnosis on seed 0 (docs/bitwise.md), is the input code
(a float network on the same 2-bit code: 0.52) and stage 1 underfitting (0.44 train accuracy after
15 epochs of stage 1 alone, against 0.78 for that float network).

**Size and speed.** A bitwise weight is one bit against 32; the whole model.npz is {ratios} smaller.
The bitwise file is one member: the sign words (raw at β 0, deflated when many weights are 0), and
a deflated header with the bias bits and the input thresholds, into which the scaler is folded
(under 1 kB); the float file holds the float32 network and the preprocessing as `data.*` arrays
(docs/bitwise.md). The sparsity boundary β
zeroes the weights whose |tanh w| is below it and then costs a mask word per 64 weights (the file
grows); between β values the test accuracy moved by at most {beta_spread:.1f} points, against a seed
spread (std) of up to {beta_std:.1f}. Inference of the trained models, packed against float: {speeds}
(rows/s ratio; above 1 the packed pass is faster). bench/bench_bitwise.py measures the layer widths
64-4,096 on their own (docs/performance.md).
"""


def write_docs(section: str, path: Path = DOCS) -> None:
    """Replace the text between this study's markers (appended at the end if they are missing)."""
    text = path.read_text()
    if BEGIN not in text:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(f"{head}{BEGIN}\n{section.strip()}\n{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", nargs="?", default="configs/studies/bitwise.yaml")
    parser.add_argument("--runs-dir", default="runs/studies/bitwise")
    parser.add_argument("--table-only", action="store_true", help="Re-render from results.json.")
    parser.add_argument("--no-docs", action="store_true", help="Leave docs/studies.md alone.")
    parser.add_argument("--jobs", type=int, default=2, help="Sweep worker processes (one BLAS thread each).")
    args = parser.parse_args()
    study, runs_dir = load_study(args.study), Path(args.runs_dir)
    if args.table_only:
        saved = json.loads((runs_dir / "results.json").read_text())
        rows, speed, seconds = saved["rows"], saved["speed"], saved["seconds"]
    else:
        started = time.time()
        rows = run_study(study, runs_dir, args.jobs)
        speed = speeds(rows, study)
        seconds = time.time() - started
        runs_dir.mkdir(parents=True, exist_ok=True)
        (runs_dir / "results.json").write_text(json.dumps({"rows": rows, "speed": speed, "seconds": seconds},
                                                          indent=2) + "\n")
    table = markdown(study, rows, speed)
    (runs_dir / "results.md").write_text(table)
    print(f"\n{len(rows)} trainings in {seconds:.0f} s\n\n{table}")
    if not args.no_docs:
        write_docs(section(study, rows, table, seconds, speed))


if __name__ == "__main__":
    main()
