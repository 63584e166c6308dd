"""Command line: each command parses options, calls one library function, renders the result with rich.

No logic lives here; heavy libraries (scikit-learn, matplotlib, pydantic) load inside the commands so
``mlrun --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import sys

import click

from mlrun import __version__


class BadInput(click.ClickException):
    """One-line error, exit code 2, no traceback."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


@contextlib.contextmanager
def user_errors():
    """Turn the library's user-facing errors into one-line messages with exit code 2."""
    from mlrun.data.dataset import DataError
    from mlrun.registry import RegistryError
    from mlrun.spec.errors import ConfigError

    try:
        yield
    except (ConfigError, DataError, RegistryError, FileNotFoundError) as exc:
        raise BadInput(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlrun")
def cli() -> None:
    """mlrun: train NumPy networks from YAML specs, find learning rates, compare and sweep runs."""


EXIT_BY_STATUS = {"completed": 0, "diverged": 1, "failed": 1}
EXIT_BY_SIGNAL = {2: 130, 15: 143}


@cli.command()
@click.argument("spec", required=False, type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a spec key (YAML value).")
@click.option("--runs-dir", default="runs", show_default=True, type=click.Path(file_okay=False))
@click.option("--name", help="Run-name prefix (default: the spec's name).")
@click.option("--seed", type=int, help="Seed (overrides the spec's seed).")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@click.option("--smoke", is_flag=True, help="2 epochs on at most 512 rows: prove the spec works end to end.")
@click.option("--resume", "resume_dir", type=click.Path(file_okay=False), help="Continue an interrupted run.")
def train(spec, overrides, runs_dir, name, seed, quiet, smoke, resume_dir):
    """Train the network a YAML SPEC describes and write a run directory."""
    from mlrun.cli.console import TrainProgress, make_console, render_run
    from mlrun.experiment import run as experiment
    from mlrun.metrics.names import main_metric
    from mlrun.spec.loading import load_config

    console = make_console()
    if bool(spec) == bool(resume_dir):
        raise BadInput("give a SPEC to train, or --resume RUN_DIR (not both)")
    with user_errors():
        if resume_dir:
            if overrides or seed is not None or smoke or name:
                raise BadInput("--resume continues a run as it was: --set, --seed, --name and --smoke do not apply")
            cfg = experiment.resumable(resume_dir)[2]
        else:
            cfg = load_config(spec, overrides=[*overrides, *([f"seed={seed}"] if seed is not None else [])])
        for warning in cfg.warnings:
            console.print(f"[yellow]warning:[/] {warning}")
        metric = main_metric(cfg.task)
        callbacks = [] if quiet else [TrainProgress(console, cfg.training.epochs, metric, name or cfg.name)]
        if resume_dir:
            run = experiment.resume(resume_dir, callbacks=callbacks)
        else:
            run = experiment.train(cfg, runs_dir, callbacks, name=name, smoke=smoke, command=sys.argv)
    render_run(console, run)
    if run.status == "interrupted":
        console.print(f"resume with: mlrun train --resume {run.path}")
        sys.exit(EXIT_BY_SIGNAL.get(run.signal, 130))
    sys.exit(EXIT_BY_STATUS.get(run.status, 1))


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write predictions here (default: stdout).")
def predict(run_dir, data, output):
    """Apply a trained run to the raw feature rows of DATA.csv (a header row; a target column is ignored)."""
    from mlrun.experiment.model import load_model, predict_csv

    with user_errors():
        result = predict_csv(load_model(run_dir), data)
    if output:
        from mlrun.runs.files import atomic_write

        atomic_write(output, result)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(result, nl=False)


@cli.command()
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
def compare(paths, sort_key, ascending, filters, top, fmt, precision, metrics, all_params, group, kind,
            include_smoke, plot_out, plot_key):
    """One table over the runs below PATHS (default: runs/): differing parameters and main metrics."""

    from mlrun.cli.compare_view import print_table
    from mlrun.comparison import formats as row_formats
    from mlrun.comparison import select as cmp

    def warn(message):
        click.echo(click.style("warning: ", fg="yellow") + message, err=True)

    try:
        rows = cmp.compare(paths or ("runs",), filters=filters, sort=sort_key,
                           descending=None if ascending is None else not ascending, top=top, group=group,
                           kind=None if kind == "all" else kind, include_smoke=include_smoke,
                           metrics=metrics, all_params=all_params, on_warning=warn)
    except (OSError, ValueError) as exc:
        raise BadInput(str(exc).splitlines()[0]) from None
    if fmt == "csv":
        click.echo(row_formats.to_csv(rows, row_formats.machine_columns(rows, rows.columns)), nl=False)
    elif fmt == "json":
        click.echo(row_formats.to_json(rows, row_formats.machine_columns(rows, rows.columns)), nl=False)
    elif fmt == "markdown":
        click.echo(row_formats.to_markdown(rows, rows.columns, precision), nl=False)
    elif rows:
        print_table(rows, rows.columns, precision)
    if not rows:
        click.echo(f"no runs found under {', '.join(paths or ('runs',))}", err=True)
    if plot_out and rows:
        if len(rows) > 12:
            warn(f"plotting the first 12 of {len(rows)} rows (use --top or --filter)")
        row_formats.plot_curves(rows, plot_out, key=plot_key, limit=12)
        click.echo(f"plot: {plot_out}", err=True)


@cli.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path())
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a key (YAML value).")
@click.option("--show", is_flag=True, help="Print the resolved spec (every default filled in) as YAML.")
@click.option("--data", "check_data", is_flag=True,
              help="Also load the data (read and check the CSV, or build the dataset) and print its splits.")
def validate(specs, overrides, show, check_data):
    """Check specs without training: "ok: SPEC" (and warnings), or a one-line error (exit 2)."""
    from mlrun.data.dataset import DataError
    from mlrun.registry import RegistryError
    from mlrun.spec.errors import ConfigError
    from mlrun.spec.loading import load_config
    from mlrun.spec.yaml_text import dump_yaml

    errors = []
    for spec in specs:
        try:
            cfg = load_config(spec, overrides)
            dataset = None
            if check_data:
                from mlrun.training.setup import load_data  # only --data needs the training modules

                dataset = load_data(cfg)
        except (ConfigError, DataError, RegistryError) as exc:
            text = str(exc) if str(exc).startswith(str(spec)) else f"{spec}: {exc}"
            errors.append(text)
            if len(specs) > 1:
                click.echo(f"error: {text}", err=True)
            continue
        click.echo(f"ok: {spec}" + (f" (data: {dataset.summary()})" if dataset is not None else ""))
        for warning in cfg.warnings:
            click.echo(click.style("warning: ", fg="yellow") + f"{spec}: {warning}", err=True)
        if show:
            click.echo(dump_yaml(cfg.to_dict()), nl=False)
    if errors:
        raise BadInput(errors[0] if len(specs) == 1 else f"{len(errors)} of {len(specs)} specs are invalid")


@cli.command()
def schema():
    """Print the spec's JSON Schema (for yaml-language-server: `# yaml-language-server: $schema=...`)."""
    import json

    from mlrun.spec.schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@cli.command("registry")
@click.argument("kind", required=False)
def registry_cmd(kind):
    """List the registered parts (all kinds, or one: activation initializer layer loss optimizer schedule)."""
    from rich.console import Console
    from rich.table import Table

    from mlrun import registry

    kinds = [kind] if kind else list(registry.KINDS)
    try:
        rows = {k: registry.describe(k) for k in kinds}
    except registry.RegistryError as exc:
        raise BadInput(str(exc)) from None
    console = Console(highlight=False)
    for k, parts in rows.items():
        table = Table(title=k, title_justify="left", show_lines=False)
        for column in ("name", "parameters", "summary"):
            table.add_column(column, overflow="fold")
        for part in parts:
            params = ", ".join(p if info["required"] else f"{p}={info['default']!r}"
                               for p, info in part["params"].items())
            table.add_row(part["name"], params or "-", part["summary"])
        console.print(table)


@cli.command("lr-find")
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
    from mlrun.cli.console import make_console
    from mlrun.cli.lr_find_view import render_lr_find
    from mlrun.lr_finder.range_test import check_range, lr_find, spec_text
    from mlrun.spec.loading import load_config

    console = make_console()
    with user_errors():
        check_range(start, end, steps, rule)  # before the data loads: bad input fails fast
        cfg = load_config(spec, overrides=overrides)
        for warning in cfg.warnings:
            console.print(f"[yellow]warning:[/] {warning}")
        res = lr_find(cfg, start=start, end=end, steps=steps, runs_dir=runs_dir, rule=rule, command=sys.argv)
    render_lr_find(console, res, cfg, spec, overrides)
    if write_spec and res.suggestion is not None:
        from mlrun.runs.files import atomic_write

        atomic_write(write_spec, spec_text(cfg, res.suggestion))
        console.print(f"wrote {write_spec}")
    if res.status == "interrupted":
        sys.exit(130)


@cli.command()
@click.argument("spec", required=False, type=click.Path(dir_okay=False))
@click.option("--grid", "grids", multiple=True, metavar="KEY=V1,V2,...",
              help="An axis: values split on top-level commas, each YAML (mappings too) or range(a,b[,s]).")
@click.option("--random", "n_random", type=click.IntRange(min=1), metavar="N",
              help="Random search: N draws (seeded by the spec's seed) instead of the full grid.")
@click.option("--seeds", type=click.IntRange(min=1), metavar="K",
              help="Run every trial with seeds seed, ..., seed+K-1 (default: sweep.seeds, else 1).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Local worker processes (default: the cores).")
@click.option("--dask", metavar="ADDRESS|local", help="Run on a Dask scheduler (local: a LocalCluster).")
@click.option("--runs-dir", default="runs", show_default=True, type=click.Path(file_okay=False))
@click.option("--fail-fast", is_flag=True, help="Stop at the first failed trial.")
@click.option("--dry-run", is_flag=True, help="Print the trial count and the first trials; run nothing.")
@click.option("--plots", is_flag=True, help="Draw each run's figures (slow: the driver draws them in turn).")
@click.option("--resume", "resume_dir", type=click.Path(file_okay=False),
              help="Rerun the failed, interrupted and missing trials of SWEEP_DIR.")
@click.option("--quiet", "-q", is_flag=True, help="No progress display (failures are still reported).")
def sweep(spec, grids, n_random, seeds, jobs, dask, runs_dir, fail_fast, dry_run, plots, resume_dir, quiet):
    """Run SPEC over --grid axes (or its sweep: section) x --seeds, in parallel; exit 1 if a trial failed."""
    import signal

    from mlrun.cli.console import make_console
    from mlrun.cli.sweep_view import SweepProgress, render_dry_run, sweep_summary
    from mlrun.sweeps import driver as sw
    console = make_console()
    if bool(spec) == bool(resume_dir):
        raise BadInput("give a SPEC to sweep, or --resume SWEEP_DIR (not both)")
    if resume_dir and (grids or n_random or seeds or dry_run or plots):
        raise BadInput("--resume reruns a sweep as it was: --grid, --random, --seeds, --dry-run and --plots "
                       "do not apply")
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
                                         on_event=progress, command=sys.argv)
            else:
                result = sw.sweep(spec, grid=list(grids), seeds=seeds, jobs=jobs, dask=dask,
                                  runs_dir=runs_dir, random=n_random, fail_fast=fail_fast, dry_run=dry_run,
                                  plots=plots, on_event=progress, command=sys.argv)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if dry_run:
        render_dry_run(console, result)
        return
    sweep_summary(console, result)
    if result.interrupted:
        sys.exit(143 if received else 130)
    sys.exit(result.exit_code)


def main() -> None:
    try:
        cli.main(prog_name="mlrun", standalone_mode=True)
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        sys.exit(130)
