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
    from mlrun.config import ConfigError
    from mlrun.data_types import DataError
    from mlrun.registry import RegistryError

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
    from mlrun import experiment
    from mlrun.config import load_config
    from mlrun.console import TrainProgress, make_console, render_run

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
        metric = "accuracy" if cfg.task != "regression" else "rmse"
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
    from mlrun.model import load_model, predict_csv

    with user_errors():
        result = predict_csv(load_model(run_dir), data)
    if output:
        from mlrun.runs import atomic_write

        atomic_write(output, result)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(result, nl=False)


def _compare_table(rows, cols, precision):
    """rich table of compare rows: numbers right-aligned and never cut, the best of each metric bold green."""
    from rich.table import Table

    from mlrun.row_formats import best_values, display_cells, display_columns

    status_style = {"completed": "green", "diverged": "red", "failed": "red", "interrupted": "yellow",
                    "stale": "yellow", "running": "cyan", "unreadable": "bold red"}
    shown = display_columns(cols)
    best = best_values(rows, cols)
    texts = [display_cells(row, cols, precision) for row in rows]
    table = Table(header_style="bold", pad_edge=False)
    for i, key in enumerate(shown):
        numeric = key not in ("run", "status") and any(isinstance(r.get(key), (int, float)) for r in rows)
        width = max([len(t[i]) for t in texts] or [1])
        # a truncated number would be a lie: numbers keep their width; text folds when space is short
        table.add_column(key, justify="right" if numeric else "left", no_wrap=numeric, overflow="fold",
                         min_width=width if numeric else min(width, 16))
    for row, cells in zip(rows, texts):
        for i, key in enumerate(shown):
            if key in best and row.get(key) == best[key]:
                cells[i] = f"[bold green]{cells[i]}[/]"
            elif key == "status":
                cells[i] = f"[{status_style.get(row['status'], '')}]{cells[i]}[/]"
        table.add_row(*cells)
    return table


def _print_table(rows, cols, precision) -> None:
    """Piped (CI logs, files): all the width the table needs. On a terminal too narrow for it, columns
    are dropped (parameters from the right, then epochs and duration, then metrics) and a note says so:
    rich would otherwise squeeze every column, cutting numbers."""
    from rich.console import Console
    from rich.measure import Measurement

    from mlrun.row_keys import is_metric

    console = Console(highlight=False)
    table = _compare_table(rows, cols, precision)
    needed = Measurement.get(console, console.options.update_width(10_000), table).maximum
    if not console.is_terminal:
        Console(highlight=False, width=max(console.width, needed)).print(table)
        return
    kept = list(cols)
    order = [c for c in reversed(cols) if c not in ("run", "n", "status") and not is_metric(c)]
    order += [c for c in reversed(cols) if is_metric(c)][:-1]  # the first metric always stays
    while needed > console.width and order:
        drop = order.pop(0)
        kept = [c for c in kept if c != drop]
        table = _compare_table(rows, kept, precision)
        needed = Measurement.get(console, console.options.update_width(10_000), table).maximum
    console.print(table)
    hidden = [c for c in cols if c not in kept and not c.endswith(".std")]
    if hidden:
        console.print(f"[dim]{len(hidden)} column(s) hidden to fit the terminal: {', '.join(hidden)} "
                      "(--metrics, --format markdown/csv, or a wider window)[/]")


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
    import importlib

    cmp = importlib.import_module("mlrun.compare")  # `from mlrun import compare` is the function
    from mlrun import row_formats

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
        _print_table(rows, rows.columns, precision)
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
    from mlrun import experiment
    from mlrun.config import ConfigError, load_config
    from mlrun.data_types import DataError
    from mlrun.registry import RegistryError
    from mlrun.spec_yaml import dump_yaml

    errors = []
    for spec in specs:
        try:
            cfg = load_config(spec, overrides)
            dataset = experiment.load_data(cfg) if check_data else None
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

    from mlrun.spec_schema import json_schema

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


def _lr_find_curve(lrs, smoothed, found: dict, width: int = 64, height: int = 10) -> list[str]:
    """The smoothed loss over log10(lr) as text, one letter per suggestion under the axis."""
    import numpy as np

    ok = np.isfinite(smoothed)
    x, y = np.log10(lrs[ok]), smoothed[ok]
    if len(x) < 2:
        return []
    low, first = float(y.min()), float(np.median(y[: max(1, len(y) // 20)]))
    high = first + 0.5 * (first - low) if first > low else low + (abs(low) * 0.1 or 1.0)
    col = lambda v: int(round((v - x[0]) / (x[-1] - x[0]) * (width - 1)))  # noqa: E731
    rows = np.rint((np.clip(y, low, high) - low) / (high - low) * (height - 1)).astype(int)
    grid = [[" "] * width for _ in range(height)]
    for xi, r in zip(x, rows):
        grid[height - 1 - r][col(xi)] = "•"
    marks = [" "] * width
    for name, lr in found.items():
        if lr is not None:
            marks[min(max(col(np.log10(lr)), 0), width - 1)] = name[0]
    labels = {0: f"{high:.3g}", height - 1: f"{low:.3g}"}
    lines = [f"{labels.get(i, ''):>8} │{''.join(row)}" for i, row in enumerate(grid)]
    lines.append(f"{'':>8} └{'─' * width}")
    lines.append(f"{'':>8}  {''.join(marks)}")
    lines.append(f"{'':>8}  {f'{lrs[0]:.0e}':<{width // 2}}{f'{lrs[-1]:.1e}':>{width - width // 2}}")
    return lines


def _render_lr_find(console, res, cfg, spec, overrides) -> None:
    import shlex

    from rich.table import Table

    from mlrun.console import fmt
    from mlrun.lr_find import override_for

    last = fmt(float(res.lrs[-1]), 3) if len(res.lrs) else "-"
    console.print(f"[green]{res.status}[/] ({res.stop_reason}) after {len(res.losses)} of {res.steps} steps,"
                  f" learning rate {fmt(res.start, 3)} → {last}")
    for line in _lr_find_curve(res.lrs, res.smoothed, res.suggestions):
        console.print(line, markup=False)
    table = Table(title="suggestions (smoothed loss vs log learning rate)", title_justify="left")
    for column, justify in (("rule", "left"), ("learning rate", "right"), ("", "left")):
        table.add_column(column, justify=justify)
    notes = {"minimum": "lr at the loss minimum / 10", "steepest": "steepest descent",
             "valley": "2/3 down the longest valley"}
    for rule, lr in res.suggestions.items():
        chosen = rule == res.rule
        table.add_row(f"[bold]{rule} ({rule[0]})[/]" if chosen else f"{rule} ({rule[0]})", fmt(lr, 3),
                      notes[rule] + ("  [bold green]← --rule[/]" if chosen else ""))
    console.print(table)
    if res.suggestion is None:
        console.print("[yellow]no suggestion:[/] the loss was not finite from the first step; lower --start")
    else:
        words = ["mlrun", "train", spec, *[w for o in overrides for w in ("--set", o)],
                 "--set", override_for(cfg, res.suggestion)]
        console.print("train with: [bold]" + " ".join(shlex.quote(w) for w in words) + "[/]", soft_wrap=True)
    for warning in res.warnings:
        console.print(f"[dim]warning: {warning}[/]")
    console.print(f"run directory: [bold]{res.path}[/]")


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
    from mlrun.config import load_config
    from mlrun.console import make_console
    from mlrun.lr_find import check_range, lr_find, spec_text

    console = make_console()
    with user_errors():
        check_range(start, end, steps, rule)  # before the data loads: bad input fails fast
        cfg = load_config(spec, overrides=overrides)
        for warning in cfg.warnings:
            console.print(f"[yellow]warning:[/] {warning}")
        res = lr_find(cfg, start=start, end=end, steps=steps, runs_dir=runs_dir, rule=rule, command=sys.argv)
    _render_lr_find(console, res, cfg, spec, overrides)
    if write_spec and res.suggestion is not None:
        from mlrun.runs import atomic_write

        atomic_write(write_spec, spec_text(cfg, res.suggestion))
        console.print(f"wrote {write_spec}")
    if res.status == "interrupted":
        sys.exit(130)


class _SweepProgress:
    """on_event callback of a sweep: a live bar over trials (done / running / failed, best so far) on a
    terminal, one line per trial elsewhere; a failed trial is reported the moment it happens."""

    def __init__(self, console, quiet: bool = False) -> None:
        self.console, self.quiet = console, quiet
        self.progress = self.task = None
        self.done = 0

    @staticmethod
    def label(trial) -> str:
        return "  ".join([*trial.overrides, f"seed={trial.seed}"])

    def info(self, result) -> str:
        from mlrun.console import fmt

        parts = [f"running {result.running}", f"failed {result.n_failed}"]
        best = result.best()
        if best is not None:
            parts.append(f"best {result.metric} {fmt(best.metrics[result.metric])} ({self.label(best)})")
        return "  ".join(parts)

    def __call__(self, event, result, trial=None) -> None:
        getattr(self, f"on_{event}")(result, trial)

    def on_start(self, result, trial) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        total, todo = len(result.trials), len(result.to_run)
        skipped = f" ({total - todo} already done)" if todo < total else ""
        self.console.print(f"sweep [bold]{result.name}[/]: {todo} trials{skipped} on {result.executor} "
                           f"-> {result.path}")
        if self.console.is_terminal and not self.quiet and todo:
            self.progress = Progress(TextColumn("[bold]trials"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), TextColumn("{task.fields[info]}"),
                                     console=self.console, transient=False)
            self.progress.start()
            self.task = self.progress.add_task("trials", total=todo, info=self.info(result))

    def on_trial(self, result, trial) -> None:
        from mlrun.console import STATUS_STYLE, fmt

        self.done += 1
        style = STATUS_STYLE.get(trial.status, "")
        if trial.status == "failed":
            self.console.print(f"[red]failed[/] {self.label(trial)}: {trial.error} ({trial.run})")
        if self.progress is not None:
            self.progress.update(self.task, completed=self.done, info=self.info(result))
        elif not self.quiet and trial.status != "failed":
            value = trial.metrics.get(result.metric or "")
            metric = f"  {result.metric} {fmt(value)}" if value is not None else ""
            self.console.print(f"[{self.done}/{len(result.to_run)}] [{style}]{trial.status}[/] "
                               f"{self.label(trial)}{metric}  ({fmt(trial.seconds, 3)} s)")

    def on_end(self, result, trial) -> None:
        if self.progress is not None:
            self.progress.update(self.task, info=self.info(result))
            self.progress.stop()


def _sweep_summary(console, result, top: int = 12) -> None:
    """Counts, the seed-grouped comparison of the sweep's runs, and the commands to go further."""
    import importlib

    cmp = importlib.import_module("mlrun.compare")
    counts = ", ".join(f"{n} {s}" for s, n in result.counts.items())
    console.print(f"{len(result.trials)} trials: {counts}")
    try:
        rows = cmp.compare([str(result.path)], group=True, top=top, on_warning=lambda message: None)
    except (OSError, ValueError):
        rows = []
    if rows:
        _print_table(rows, rows.columns, 4)
    console.print(f"compare: [bold]mlrun compare {result.path} --group[/]")
    if result.interrupted or result.n_failed or result.stopped:
        console.print(f"rerun what did not finish: [bold]mlrun sweep --resume {result.path}[/]")


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
    import importlib
    import signal

    from mlrun.console import make_console

    sw = importlib.import_module("mlrun.sweep")  # `from mlrun import sweep` is the function
    console = make_console()
    if bool(spec) == bool(resume_dir):
        raise BadInput("give a SPEC to sweep, or --resume SWEEP_DIR (not both)")
    if resume_dir and (grids or n_random or seeds or dry_run or plots):
        raise BadInput("--resume reruns a sweep as it was: --grid, --random, --seeds, --dry-run and --plots "
                       "do not apply")
    progress = _SweepProgress(console, quiet)
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
        _render_dry_run(console, result)
        return
    _sweep_summary(console, result)
    if result.interrupted:
        sys.exit(143 if received else 130)
    sys.exit(result.exit_code)


def _render_dry_run(console, result, first: int = 10) -> None:
    n = len(result.trials)
    console.print(f"{n} trial{'s' if n != 1 else ''} of sweep [bold]{result.name}[/] "
                  f"(fingerprint {result.fingerprint[:12]})")
    for trial in result.trials[:first]:
        console.print(f"  {trial.index:>4}  {_SweepProgress.label(trial)}")
    if n > first:
        console.print(f"  ... and {n - first} more")


def main() -> None:
    try:
        cli.main(prog_name="mlrun", standalone_mode=True)
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        sys.exit(130)
