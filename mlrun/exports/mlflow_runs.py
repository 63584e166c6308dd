"""Existing run directories logged to MLflow, idempotently, through MLflow's own client.

One MLflow run per run directory, in one experiment: params = run.json's ``params`` (the resolved
spec as dotted keys), metrics = metrics.json's numbers as "<split>.<metric>" plus history.csv's
columns as metric histories (step = epoch), artifacts = config.yaml, model.npz, history.csv,
predictions.csv and plots/, tags = status, stop reason, seed, kind, mlrun version, the run directory.
The MLflow run carries the directory's name (``mlrun.run_id``) and a fingerprint of its files: an
unchanged run exported again is skipped, a changed one (it finished since) replaces its old export.
mlflow (``pip install mlrun[mlflow]``, mlflow-skinny) is imported only here.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from mlrun.inputs import InputFileError, open_regular, read_regular
from mlrun.runs.discovery import run_dir_paths
from mlrun.runs.files import read_json

ARTIFACTS = ("config.yaml", "model.npz", "history.csv", "predictions.csv")
STATUS = {"completed": "FINISHED", "diverged": "FAILED", "failed": "FAILED", "interrupted": "KILLED",
          "running": "RUNNING"}
RUN_ID_TAG, FINGERPRINT_TAG = "mlrun.run_id", "mlrun.fingerprint"
BATCH = 1000  # MLflow's most entities in one log_batch (of which at most 100 params and tags)
MAX_PARAM = 6000  # characters of a param value MLflow keeps


class ExportError(ValueError):
    """A one-line problem: mlflow missing, a store MLflow refuses, an unreadable run directory."""


@dataclass
class Exported:
    path: str  # the run directory
    run_id: str  # the MLflow run's id
    action: str  # created | replaced | unchanged


def _client(tracking_uri):
    try:
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise ExportError("mlrun export mlflow needs MLflow: pip install 'mlrun[mlflow]' "
                          "(or mlflow-skinny)") from None
    try:
        client = MlflowClient(tracking_uri=tracking_uri)
        client.search_experiments(max_results=1)  # the store is opened lazily: open it now
    except MlflowException as exc:
        raise ExportError(f"MLflow refused the tracking store {tracking_uri or '(its default)'}: "
                          f"{_first_sentence(exc.message)}{_store_hint(exc.message)}") from None
    return client


def _store_hint(message: str) -> str:
    if "MLFLOW_ALLOW_FILE_STORE" in message:
        return " MLflow still opens one with MLFLOW_ALLOW_FILE_STORE=true in the environment."
    if "sqlite" in message:
        return " A sqlite store needs the full mlflow package (pip install mlflow), or pass --tracking-uri."
    return ""


def _first_sentence(text: str) -> str:
    line = str(text).strip().splitlines()[0] if str(text).strip() else "unknown error"
    return line.split(". ")[0].rstrip(".") + "."


def _experiment(client, name: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is None:
        return client.create_experiment(name)
    if found.lifecycle_stage == "deleted":
        raise ExportError(f"the MLflow experiment '{name}' is deleted; restore it or choose --experiment")
    return found.experiment_id


def _fingerprint(run_dir: Path) -> str:
    digest = hashlib.sha256()
    for name in ("run.json", "metrics.json", "history.csv"):
        path = run_dir / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + read_regular(path, "csv" if name.endswith("csv") else "json"))
    return digest.hexdigest()[:16]


def _param_value(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= MAX_PARAM else text[: MAX_PARAM - 1] + "…"


def _final_metrics(metrics: dict, prefix: str = ""):
    """(dotted key, number) for every finite number in metrics.json (the confusion matrix is not one)."""
    for key, value in metrics.items():
        if isinstance(value, dict):
            yield from _final_metrics(value, f"{prefix}{key}.")
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            yield prefix + key, float(value)


def _history(run_dir: Path):
    """(column, epoch, value) for every number in history.csv."""
    path = run_dir / "history.csv"
    if not path.is_file():
        return
    for row in csv.DictReader(io.StringIO(read_regular(path, "csv").decode("utf-8"))):
        try:
            epoch = int(float(row.get("epoch") or ""))
        except ValueError:
            continue
        for key, cell in row.items():
            if key and key != "epoch" and cell not in (None, ""):
                try:
                    value = float(cell)
                except ValueError:
                    continue
                if math.isfinite(value):
                    yield key, epoch, value


def _entities(run_dir: Path, run: dict, metrics: dict, start_ms: int):
    from mlflow.entities import Metric, Param, RunTag

    params = [Param(k, _param_value(v)) for k, v in (run.get("params") or {}).items()]
    values = [Metric(k, v, start_ms, 0) for k, v in _final_metrics(metrics)]
    values += [Metric(k, v, start_ms, epoch) for k, epoch, v in _history(run_dir)]
    versions = run.get("versions") or {}
    tags = {"mlrun.status": run.get("status"), "mlrun.stop_reason": run.get("stop_reason"),
            "mlrun.seed": run.get("seed"), "mlrun.kind": run.get("kind"), "mlrun.version": versions.get("mlrun"),
            "mlrun.smoke": run.get("smoke"), "mlrun.path": str(run_dir.resolve())}
    return params, values, [RunTag(k, str(v)) for k, v in tags.items() if v is not None]


def _log(client, run_id: str, params, values, tags) -> None:
    for i in range(0, len(params), 100):
        client.log_batch(run_id, params=params[i:i + 100])
    for i in range(0, len(tags), 100):
        client.log_batch(run_id, tags=tags[i:i + 100])
    for i in range(0, len(values), BATCH):
        client.log_batch(run_id, metrics=values[i:i + BATCH])


def _artifacts(client, run_id: str, run_dir: Path) -> None:
    files = [(run_dir / name, None) for name in ARTIFACTS]
    plots = run_dir / "plots"
    if plots.is_dir():
        files += [(path, "plots") for path in sorted(plots.glob("*.png"))]
    for path, folder in files:
        if not path.is_file():
            continue
        try:  # a regular file under its cap: a FIFO named model.npz must not block the copy
            open_regular(path, "npz").close()
        except InputFileError as exc:
            raise ExportError(str(exc)) from None
        client.log_artifact(run_id, os.fspath(path), folder)


def export_run(client, experiment_id: str, run_dir: Path) -> Exported:
    """One run directory into the experiment (see the module's docstring)."""
    try:
        run = read_json(run_dir / "run.json", "run.json")
        metrics = read_json(run_dir / "metrics.json") if (run_dir / "metrics.json").exists() else {}
    except (OSError, ValueError) as exc:
        raise ExportError(f"{run_dir}: cannot read it ({exc})") from None
    fingerprint = _fingerprint(run_dir)
    name = run_dir.name
    if "'" in name or "`" in name:  # it goes into an MLflow filter string, which has no escapes
        raise ExportError(f"{run_dir}: a run directory name with quotes cannot be looked up in MLflow; rename it")
    earlier = client.search_runs([experiment_id], filter_string=f"tags.`{RUN_ID_TAG}` = '{name}'")
    if earlier and earlier[0].data.tags.get(FINGERPRINT_TAG) == fingerprint:
        return Exported(str(run_dir), earlier[0].info.run_id, "unchanged")
    for old in earlier:
        client.delete_run(old.info.run_id)
    start_ms = int(1000 * float(run.get("started_unix") or run_dir.stat().st_mtime))
    created = client.create_run(experiment_id, start_time=start_ms, run_name=name,
                                tags={RUN_ID_TAG: name, FINGERPRINT_TAG: fingerprint})
    run_id = created.info.run_id
    _log(client, run_id, *_entities(run_dir, run, metrics, start_ms))
    _artifacts(client, run_id, run_dir)
    status = STATUS.get(run.get("status"), "FAILED")
    if status != "RUNNING":
        seconds = (run.get("timings") or {}).get("total_seconds") or 0.0
        client.set_terminated(run_id, status, end_time=start_ms + int(1000 * seconds))
    return Exported(str(run_dir), run_id, "replaced" if earlier else "created")


def export_mlflow(paths, tracking_uri: str | None = None, experiment: str = "mlrun") -> list[Exported]:
    """Every run directory at or below ``paths`` into the MLflow ``experiment`` at ``tracking_uri``
    (None: MLflow's own default, $MLFLOW_TRACKING_URI first)."""
    try:
        run_dirs = [Path(p) for p in run_dir_paths(paths)]
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise ExportError(str(exc)) from None
    if not run_dirs:
        raise ExportError(f"no run directories (folders with a run.json) in {', '.join(map(str, paths))}")
    client = _client(tracking_uri)
    from mlflow.exceptions import MlflowException  # importable: _client has checked

    try:
        experiment_id = _experiment(client, experiment)
        return [export_run(client, experiment_id, run_dir) for run_dir in run_dirs]
    except MlflowException as exc:
        raise ExportError(f"MLflow: {_first_sentence(exc.message)}") from None
