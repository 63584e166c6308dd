"""A run directory's diagnostics read back: the per-layer table of its last measured epoch and its
findings (what ``mlrun diagnose RUN_DIR`` shows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlrun.diagnostics import table
from mlrun.runs.directory import RunDir
from mlrun.spec.errors import ConfigError


@dataclass
class Report:
    """``note`` says why there is nothing to show (an older run, diagnostics off); else the table."""

    path: Path
    note: str | None = None
    epoch: int | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)
    layers: list[dict] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)


def load_report(path) -> Report:
    """The diagnostics of the run at ``path`` (a ConfigError when it is no run directory)."""
    run_dir, info = RunDir.open(path)
    summary = info.get("diagnostics")
    csv_path = run_dir.file(table.FILE)
    if not isinstance(summary, dict) or not csv_path.exists():
        why = ("training.diagnostics was off" if "diagnostics" in info and summary is None
               else "it was trained before mlrun measured layers" if "diagnostics" not in info
               else "it has no hidden layers")
        return Report(run_dir.path, note=f"{run_dir.path} has no diagnostics ({why})")
    try:
        rows = table.read_rows(csv_path)
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"{csv_path} is unreadable ({type(exc).__name__})") from None
    epoch, columns, layer_rows = table.last_epoch_table(rows)
    activations = {info_["layer"]: info_["activation"] for info_ in summary.get("layers", [])}
    found = [a for a in info.get("advice") or [] if isinstance(a, dict) and a.get("rule") != "metrics"]
    columns = [columns[0], "activation", *columns[1:]] if columns else columns
    layer_rows = [[r[0], activations.get(r[0], "?"), *r[1:]] for r in layer_rows]
    return Report(run_dir.path, None, epoch, columns, layer_rows, summary.get("layers", []), found)
