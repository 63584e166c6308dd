"""`mlrun lr-find`, `mlrun compare` and `mlrun sweep`: studies over one spec or many runs."""

from __future__ import annotations

import sys

import click

from mlrun.cli.errors import BadInput, check_output, one_of, user_errors


@click.command("lr-find", short_help="Learning-rate range test: suggest a rate.")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--start", default=1e-5, show_default=True, type=float, help="First learning rate.")
@click.option("--end", default=10.0, show_default=True, type=float, help="Last learning rate.")
@click.option("--steps", default=500, show_default=True, type=int, help="Steps of the ramp (>= 10).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a spec key (YAML).")
@click.option("--runs-dir", default="runs", show_default=True, type=click.Path(file_okay=False))
@click.option("--rule", type=click.Choice(["minimum", "steepest", "valley"]), default="minimum",
              show_default=True, help="Which suggestion is the one to use.")
@click.option("--write-spec", "write_spec", type=click.Path(dir_okay=False),
              help="Write the spec with the suggestion filled in to this YAML file.")
def lr_find_cmd(spec, start, end, steps, overrides, runs_dir, rule, write_spec):
    """Learning-rate range test: train under an exponential ramp from --start to --end, suggest a rate."""
    from mlrun.cli.console import make_console, styled
    from mlrun.cli.lr_find_view import render_lr_find
    from mlrun.lr_finder.range_test import check_range, lr_find, spec_text
    from mlrun.spec.loading import load_config

    console = make_console()
    if write_spec:
        check_output(write_spec, "--write-spec")  # before the range test, not after it
    with user_errors():
        check_range(start, end, steps, rule)  # before the data loads: bad input fails fast
        cfg = load_config(spec, overrides=overrides)
        for warning in cfg.warnings:
            console.print(styled(("warning:", "yellow"), f" {warning}"))
        res = lr_find(cfg, start=start, end=end, steps=steps, runs_dir=runs_dir, rule=rule, command=sys.argv)
    render_lr_find(console, res, cfg, spec, overrides)
    if write_spec and res.suggestion is not None:
        from mlrun.runs.files import atomic_write

        with user_errors():
            atomic_write(write_spec, spec_text(cfg, res.suggestion))
        console.print(f"wrote {write_spec}")
    if res.status == "interrupted":
        sys.exit(130)


@click.command(short_help="Compare runs in one table (or a plot).")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--sort", "sort_key", metavar="KEY", help="Sort key (default: test.accuracy or test.rmse).")
@click.option("--asc/--desc", "ascending", default=None, help="Direction (default: by the metric).")
@click.option("--filter", "filters", multiple=True, metavar="EXPR",
              help="key=value, key!=value, key>=n, key<n, key~text; repeat to AND.")
@click.option("--top", type=click.IntRange(min=1), help="Only the best N rows.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]), default="table",
              show_default=True)
@click.option("--precision", type=click.IntRange(1, 17), default=4, show_default=True,
              help="Significant digits of floats (table, markdown).")
@click.option("--metrics", metavar="A,B", help="Metric columns (default: the main ones).")
@click.option("--all-params", is_flag=True, help="Show every parameter, not only those that differ.")
@click.option("--group", is_flag=True, help="Runs differing only in seed become one row: n, mean ± std.")
@click.option("--kind", type=click.Choice(["train", "lr_find", "all"]), default="train", show_default=True)
@click.option("--include-smoke", is_flag=True, help="Include --smoke runs.")
@click.option("--plot", "plot_out", type=click.Path(dir_okay=False), help="Overlay learning curves (PNG).")
@click.option("--plot-key", default="val_loss", show_default=True, help="history.csv column to plot.")
@click.option("--findings", "show_findings", is_flag=True,
              help="Show each run's number of diagnostics findings (mlrun diagnose RUN_DIR lists them).")
def compare(paths, sort_key, ascending, filters, top, fmt, precision, metrics, all_params, group, kind,
            include_smoke, plot_out, plot_key, show_findings):
    """One table over the runs below PATHS (default: runs/): differing parameters and main metrics."""

    from mlrun.cli.compare_view import print_table
    from mlrun.comparison import formats as row_formats
    from mlrun.comparison import select as cmp

    def warn(message):
        click.echo(click.style("warning: ", fg="yellow") + message, err=True)

    if plot_out:
        check_output(plot_out, "--plot")
    try:
        rows = cmp.compare(paths or ("runs",), filters=filters, sort=sort_key,
                           descending=None if ascending is None else not ascending, top=top, group=group,
                           kind=None if kind == "all" else kind, include_smoke=include_smoke,
                           metrics=metrics, all_params=all_params, on_warning=warn)
    except (OSError, ValueError) as exc:
        raise BadInput(str(exc).splitlines()[0]) from None
    if show_findings:
        rows.columns = _with_findings(rows.columns)
    if fmt == "csv":
        click.echo(row_formats.to_csv(rows, row_formats.machine_columns(rows, rows.columns)), nl=False)
    elif fmt == "json":
        click.echo(row_formats.to_json(rows, row_formats.machine_columns(rows, rows.columns)), nl=False)
    elif fmt == "markdown":
        click.echo(row_formats.to_markdown(rows, rows.columns, precision), nl=False)
    elif rows:
        print_table(rows, rows.columns, precision)
    if not rows:
        click.echo(_nothing_found(paths or ("runs",), rows.loaded, filters, kind), err=True)
    if plot_out and rows:
        if len(rows) > 12:
            warn(f"plotting the first 12 of {len(rows)} rows (use --top or --filter)")
        with user_errors():
            row_formats.plot_curves(rows, plot_out, key=plot_key, limit=12)
        click.echo(f"plot: {plot_out}", err=True)


def _nothing_found(paths, loaded: int, filters, kind: str) -> str:
    where = ", ".join(paths)
    if loaded and filters:
        runs = "run" if loaded == 1 else "runs"
        return f"no runs match: the filters removed all {loaded} {runs} found under {where} ({' and '.join(filters)})"
    what = "" if kind == "all" else f"{kind} "
    return f"no {what}runs found under {where}"


@click.command(short_help="Run a spec over a grid of values, in parallel.")
@click.argument("spec", required=False, type=click.Path(dir_okay=False))
@click.option("--grid", "grids", multiple=True, metavar="KEY=V1,V2,...",
              help="An axis: values split on top-level commas, each YAML (mappings too) or range(a,b[,s]).")
@click.option("--random", "n_random", type=click.IntRange(min=1), metavar="N",
              help="Random search: N draws (seeded by the spec's seed) instead of the full grid.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a spec key (YAML) before the axes apply.")
@click.option("--seeds", type=click.IntRange(min=1), metavar="K",
              help="Run every trial with seeds seed, ..., seed+K-1 (default: sweep.seeds, else 1).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Local worker processes (default: the cores).")
@click.option("--dask", metavar="ADDRESS|local", help="Run on a Dask scheduler (local: a LocalCluster).")
@click.option("--dask-wait", type=click.FloatRange(min=0), default=60, show_default=True, metavar="SECONDS",
              help="How long a Dask cluster without workers is waited for before the sweep stops (resumable).")
@click.option("--runs-dir", default="runs", show_default=True, type=click.Path(file_okay=False))
@click.option("--fail-fast", is_flag=True, help="Stop at the first failed trial.")
@click.option("--dry-run", is_flag=True, help="Print the trial count and the first trials; run nothing.")
@click.option("--plots", is_flag=True, help="Draw each run's figures (slow: the driver draws them in turn).")
@click.option("--resume", "resume_dir", type=click.Path(file_okay=False),
              help="Rerun the failed, interrupted and missing trials of SWEEP_DIR.")
@click.option("--prune", type=click.Choice(["asha", "median"]),
              help="Stop trials that are behind at the rungs: ASHA (Ray Tune's) or Optuna's median rule.")
@click.option("--prune-metric", metavar="COLUMN",
              help="The history column pruning compares (default val_loss; val_accuracy, val_rmse, train_loss).")
@click.option("--grace-period", type=click.IntRange(min=1), metavar="EPOCHS",
              help="The first rung, in epochs (default 1); rungs at grace * factor^k.")
@click.option("--reduction-factor", type=click.FloatRange(min=1, min_open=True), metavar="ETA",
              help="Rung spacing and the share kept at each rung, 1/ETA (default 4).")
@click.option("--quiet", "-q", is_flag=True, help="No progress display (failures are still reported).")
def sweep(spec, grids, n_random, overrides, seeds, jobs, dask, dask_wait, runs_dir, fail_fast, dry_run, plots,
          resume_dir, quiet, prune, prune_metric, grace_period, reduction_factor):
    """Run SPEC over --grid axes (or its sweep: section) x --seeds, in parallel; exit 1 if a trial failed."""
    import signal

    from mlrun.cli.console import make_console
    from mlrun.cli.sweep_view import SweepProgress, render_dry_run, sweep_summary
    from mlrun.sweeps import driver as sw
    console = make_console()
    one_of(spec, resume_dir, "sweep", "SWEEP_DIR")
    if resume_dir and (grids or n_random or overrides or seeds or dry_run or plots):
        raise BadInput("--resume reruns a sweep as it was: --grid, --random, --set, --seeds, --dry-run and "
                       "--plots do not apply")
    tuning = {"metric": prune_metric, "grace_period": grace_period, "reduction_factor": reduction_factor}
    tuned = any(v is not None for v in tuning.values())
    if (resume_dir and (prune or tuned)) or (tuned and not prune):
        raise BadInput("--prune-metric, --grace-period and --reduction-factor go with --prune, on a new sweep "
                       "(--resume keeps the sweep's own pruning)")
    progress = SweepProgress(console, quiet)
    received = []

    def on_term(signum, frame):
        received.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        with user_errors():
            if resume_dir:
                result = sw.resume_sweep(resume_dir, jobs=jobs, dask=dask, fail_fast=fail_fast,
                                         on_event=progress, command=sys.argv, dask_wait=dask_wait)
            else:
                if overrides:
                    from mlrun.spec.loading import load_config

                    spec = load_config(spec, overrides=overrides)
                result = sw.sweep(spec, grid=list(grids), seeds=seeds, jobs=jobs, dask=dask,
                                  runs_dir=runs_dir, random=n_random, fail_fast=fail_fast, dry_run=dry_run,
                                  plots=plots, on_event=progress, command=sys.argv,
                                  prune={"rule": prune, **tuning} if prune else None, dask_wait=dask_wait)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if dry_run:
        render_dry_run(console, result)
        return
    sweep_summary(console, result)
    if result.interrupted:
        sys.exit(143 if received else 130)
    sys.exit(result.exit_code)


def _with_findings(columns: list[str]) -> list[str]:
    """The columns with "findings" after "epochs"."""
    columns = [c for c in columns if c != "findings"]
    at = columns.index("epochs") + 1 if "epochs" in columns else len(columns)
    return columns[:at] + ["findings"] + columns[at:]
