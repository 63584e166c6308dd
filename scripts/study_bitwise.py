"""The bitwise study of configs/studies/bitwise.yaml: bitwise against float networks of the same shape.

The YAML is the bitwise base spec; its ``sweep:`` section gives the datasets and the number of seeds.
Per dataset and seed: the float arm (model.bitwise removed, tanh units, same epochs) and the bitwise arm
(beta 0); on the first dataset also the BETAS arms. Reported: test accuracy (mean ± sample std), the
model.npz bytes (run.json's model_bytes), the share of weights at 0, and the inference speed of the
trained seed-0 models (packed XNOR + popcount against the float BLAS pass, same rows, one BLAS thread,
best of 5). Writes runs/studies/bitwise/results.{json,md} and rewrites the text between
``<!-- study:bitwise -->`` and ``<!-- /study:bitwise -->`` in docs/studies.md.

    python scripts/study_bitwise.py [configs/studies/bitwise.yaml] [--runs-dir runs/studies/bitwise]
                                    [--table-only] [--no-docs]
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
BETA_SEEDS = 3  # the beta arms run on the first three seeds (the compute budget)
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
        spec["name"] = f"{base['name']}-{dataset}-float"
        spec["model"].update(bitwise=None, activation="tanh")  # same hidden shape, real-valued
    else:
        spec["name"] = f"{base['name']}-{dataset}-beta{beta:g}".replace(".", "_")
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


def run_study(study: dict, runs_dir: Path) -> list[dict]:
    rows = []
    for dataset in study["datasets"]:
        for i, seed in enumerate(study["seeds"]):
            extra = study["betas"] if dataset == study["datasets"][0] and i < BETA_SEEDS else ()
            for beta in (None, 0.0, *extra):
                run = mlrun.train(arm_spec(study["spec"], dataset, seed, beta), runs_dir=runs_dir / dataset)
                info = json.loads((run.path / "run.json").read_text())
                rows.append({"dataset": dataset, "seed": seed, "arm": "float" if beta is None else "bitwise",
                             "beta": beta, "status": run.status, "test_accuracy": run.metrics["test"]["accuracy"],
                             "model_bytes": info["model_bytes"], "zeros": zero_share(mlrun.load_model(run.path)),
                             "run": str(run.path)})
                print(f"{dataset:8} seed {seed} {rows[-1]['arm']:7} beta {beta!s:5} test acc "
                      f"{rows[-1]['test_accuracy']:.4f}  {info['model_bytes']:>9,} B", flush=True)
    return rows


def speeds(rows: list[dict], study: dict) -> dict:
    """Per dataset: rows/s of the seed-0 float and beta-0 bitwise models on SPEED_ROWS test-like rows."""
    from mlrun.training.setup import load_data

    out = {}
    for dataset in study["datasets"]:
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
    args = parser.parse_args()
    study, runs_dir = load_study(args.study), Path(args.runs_dir)
    if args.table_only:
        saved = json.loads((runs_dir / "results.json").read_text())
        rows, speed, seconds = saved["rows"], saved["speed"], saved["seconds"]
    else:
        started = time.time()
        rows = run_study(study, runs_dir)
        speed = speeds(rows, study)
        seconds = time.time() - started
        runs_dir.mkdir(parents=True, exist_ok=True)
        (runs_dir / "results.json").write_text(json.dumps({"rows": rows, "speed": speed, "seconds": seconds},
                                                          indent=2) + "\n")
    table = markdown(study, rows, speed)
    (runs_dir / "results.md").write_text(table)
    print(f"\n{len(rows)} trainings in {seconds:.0f} s\n\n{table}")
    if not args.no_docs:
        from study_bitwise_text import section  # the prose around the table, kept apart from the code

        write_docs(section(study, table, seconds))


if __name__ == "__main__":
    main()
