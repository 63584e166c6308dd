"""Commands for the tools users already have: `mlrun smoke` (CI and pre-commit), `mlrun export mlflow`."""

from __future__ import annotations

import sys

import click

from mlrun.cli.errors import BadInput, Failed, check_output, user_errors


@click.command(short_help="Validate and smoke-train many specs (CI, JUnit XML).")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--junit-xml", "junit_path", type=click.Path(dir_okay=False), help="Also write a JUnit XML report.")
@click.option("--jobs", "-j", default=1, show_default=True, type=click.IntRange(min=1), help="Worker processes.")
@click.option("--runs-dir", type=click.Path(file_okay=False),
              help="Keep the smoke runs here (default: a temporary folder per spec, removed after).")
def smoke(paths, junit_path, jobs, runs_dir):
    """Validate and smoke-train every SPEC (or every *.yaml in a folder) in one process; exit 1 if any fails."""
    from mlrun.experiment.smoke_check import expand_specs, junit_xml, smoke_many

    with user_errors():
        specs = expand_specs(paths)
    if junit_path:
        check_output(junit_path, "--junit-xml")  # before the smoke runs, not after them
    results = smoke_many(specs, runs_dir=runs_dir, jobs=jobs)
    width = max(len(r.spec) for r in results)
    for r in results:
        detail = r.message if r.ok else click.style(r.message, fg="red")
        click.echo(f"{_mark(r.verdict)}  {r.spec:<{width}}  {r.seconds:5.1f}s  {detail}")
    counts = {v: sum(r.verdict == v for r in results) for v in ("ok", "invalid", "failed")}
    click.echo(f"{len(results)} specs: {counts['ok']} ok, {counts['invalid']} invalid, {counts['failed']} failed")
    if junit_path:
        from mlrun.runs.files import atomic_write

        try:
            atomic_write(junit_path, junit_xml(results))
        except OSError as exc:
            raise BadInput(f"cannot write {junit_path}: {exc.strerror or exc}") from None
        click.echo(f"wrote {junit_path}", err=True)
    sys.exit(0 if counts["ok"] == len(results) else 1)


def _mark(verdict: str) -> str:
    color = {"ok": "green", "invalid": "red", "failed": "red"}[verdict]
    return click.style(f"{verdict:<7}", fg=color)


@click.group(short_help="Write run directories into other tools' stores (MLflow).")
def export():
    """Write existing run directories into other tools' stores."""


@export.command("mlflow", short_help="Log run directories to an MLflow tracking store, idempotently.")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--tracking-uri", default=None,
              help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else MLflow's own default).")
@click.option("--experiment", default="mlrun", show_default=True, help="MLflow experiment (created if missing).")
def export_mlflow_cmd(paths, tracking_uri, experiment):
    """Log every run directory at or below PATHS as one MLflow run: params, metrics with per-epoch
    history, plots, model and config as artifacts, status and tags. Exporting again skips unchanged
    runs and replaces changed ones."""
    from mlrun.exports.mlflow_runs import ExportError, export_mlflow

    try:
        results = export_mlflow(paths, tracking_uri, experiment)
    except ExportError as exc:
        raise BadInput(str(exc)) from None
    except OSError as exc:
        raise Failed(f"export stopped: {exc.strerror or exc}") from None
    for r in results:
        click.echo(f"{r.action:<9}  {r.run_id}  {r.path}")
    counts = {a: sum(r.action == a for r in results) for a in ("created", "replaced", "unchanged")}
    click.echo(f"{len(results)} runs to experiment '{experiment}': " + ", ".join(f"{n} {a}" for a, n in counts.items()))
