"""`mlrun diagnose RUN_DIR`: the per-layer table and the advisor's findings of an existing run."""

from __future__ import annotations

import click

from mlrun.cli.errors import user_errors


@click.command(short_help="Per-layer diagnostics and findings of a run.")
@click.argument("run_dir", type=click.Path())
def diagnose(run_dir):
    """Per-layer measurements (last measured epoch) and findings of the run in RUN_DIR."""
    from mlrun.cli.console import make_console, render_findings, render_report
    from mlrun.diagnostics.report import load_report

    console = make_console()
    with user_errors():
        report = load_report(run_dir)
    if report.note:
        console.print(report.note, markup=False)
        return
    render_report(console, report)
    render_findings(console, report.findings)
