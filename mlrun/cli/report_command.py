"""`mlrun report`: one offline HTML file of the runs `mlrun compare` would show."""

from __future__ import annotations

import click

from mlrun.cli.errors import BadInput, check_output, user_errors


@click.command(short_help="One offline HTML file of a study: table, figures, every run.")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False),
              help="The HTML file to write.")
@click.option("--sort", "sort_key", metavar="KEY", help="Sort key (default: test.accuracy or test.rmse).")
@click.option("--asc/--desc", "ascending", default=None, help="Direction (default: by the metric).")
@click.option("--filter", "filters", multiple=True, metavar="EXPR",
              help="key=value, key!=value, key>=n, key<n, key~text; repeat to AND.")
@click.option("--top", type=click.IntRange(min=1), help="Only the best N rows.")
@click.option("--metrics", metavar="A,B", help="Metric columns of the table (default: the main ones).")
@click.option("--metric", metavar="KEY", help="The figures' metric (default: the sort key, else the main metric).")
@click.option("--group", is_flag=True, help="Runs differing only in seed become one row: n, mean ± std.")
@click.option("--kind", type=click.Choice(["train", "lr_find", "all"]), default="train", show_default=True)
@click.option("--include-smoke", is_flag=True, help="Include --smoke runs.")
@click.option("--images", type=click.IntRange(min=0), default=10, show_default=True,
              help="Embed the PNG figures of this many runs (the table's first).")
@click.option("--precision", type=click.IntRange(1, 17), default=4, show_default=True,
              help="Significant digits of floats in the table.")
def report(paths, out, sort_key, ascending, filters, top, metrics, metric, group, kind, include_smoke, images,
           precision):
    """Write one self-contained HTML file (no network needed to open it) about the runs below PATHS."""
    from mlrun.inputs import size_text
    from mlrun.report.page import write_report
    from mlrun.report.study import gather

    def warn(message):
        click.echo(click.style("warning: ", fg="yellow") + message, err=True)

    check_output(out, "--output")
    try:
        study = gather(paths or ("runs",), filters=filters, sort=sort_key,
                       descending=None if ascending is None else not ascending, top=top, group=group,
                       kind=None if kind == "all" else kind, include_smoke=include_smoke, metrics=metrics,
                       metric=metric, on_warning=warn)
    except (OSError, ValueError) as exc:
        raise BadInput(str(exc).splitlines()[0]) from None
    if not study.runs:
        raise BadInput(f"no runs to report under {', '.join(paths or ('runs',))}")
    with user_errors():
        written = write_report(study, out, precision, images)
    click.echo(f"report: {written.path} ({size_text(written.bytes)}, {written.runs} runs, {written.rows} rows)")
