"""`mlrun train` (and --resume) and `mlrun predict`."""

from __future__ import annotations

import sys

import click

from mlrun.cli.errors import BadInput, check_output, one_of, user_errors

EXIT_BY_STATUS = {"completed": 0, "diverged": 1, "failed": 1}
EXIT_BY_SIGNAL = {2: 130, 15: 143}


def _check_out(runs_dir, out, force, resume_dir) -> None:
    source = click.get_current_context().get_parameter_source("runs_dir")
    if out and source is not click.core.ParameterSource.DEFAULT:
        raise BadInput("--out names the run directory itself; --runs-dir does not apply")
    if out and resume_dir:
        raise BadInput("--resume continues a run in its own directory; --out does not apply")
    if force and not out:
        raise BadInput("--force only applies with --out DIR")


@click.command(short_help="Train the network a YAML spec describes.")
@click.argument("spec", required=False, type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a spec key (YAML value).")
@click.option("--runs-dir", default="runs", show_default=True, type=click.Path(file_okay=False))
@click.option("--name", help="Run-name prefix (default: the spec's name).")
@click.option("--seed", type=int, help="Seed (overrides the spec's seed).")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@click.option("--smoke", is_flag=True, help="2 epochs on at most 512 rows: prove the spec works end to end.")
@click.option("--resume", "resume_dir", type=click.Path(file_okay=False), help="Continue an interrupted run.")
@click.option("--out", type=click.Path(file_okay=False), help="Write the run into exactly this directory (for DVC).")
@click.option("--force", is_flag=True, help="With --out: replace the previous run in that directory.")
def train(spec, overrides, runs_dir, name, seed, quiet, smoke, resume_dir, out, force):
    """Train the network a YAML SPEC describes and write a run directory."""
    from mlrun.cli.console import TrainProgress, make_console, render_run, styled
    from mlrun.experiment import run as experiment
    from mlrun.metrics.names import main_metric
    from mlrun.spec.loading import load_config

    console = make_console()
    one_of(spec, resume_dir, "train", "RUN_DIR")
    _check_out(runs_dir, out, force, resume_dir)
    with user_errors():
        if resume_dir:
            if overrides or seed is not None or smoke or name:
                raise BadInput("--resume continues a run as it was: --set, --seed, --name and --smoke do not apply")
            cfg = experiment.resumable(resume_dir)[2]
        else:
            # --name obeys the spec's rule for name (letters, digits, - and _), as --set name=... would
            extra = [*([f"seed={seed}"] if seed is not None else []), *([f"name={name}"] if name else [])]
            cfg = load_config(spec, overrides=[*overrides, *extra])
        for warning in cfg.warnings:
            console.print(styled(("warning:", "yellow"), f" {warning}"))
        metric = main_metric(cfg.task)
        callbacks = [] if quiet else [TrainProgress(console, cfg.training.epochs, metric, name or cfg.name)]
        if resume_dir:
            run = experiment.resume(resume_dir, callbacks=callbacks)
        else:
            run = experiment.train(cfg, runs_dir, callbacks, name=name, smoke=smoke, command=sys.argv,
                                   out=out, force=force)
    render_run(console, run)
    if run.status == "interrupted":
        console.print(f"resume with: mlrun train --resume {run.path}")
        sys.exit(EXIT_BY_SIGNAL.get(run.signal, 130))
    sys.exit(EXIT_BY_STATUS.get(run.status, 1))


@click.command(short_help="Predict with a trained run on a CSV file.")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write predictions here (default: stdout).")
def predict(run_dir, data, output):
    """Apply a trained run to the raw feature rows of DATA.csv (a header row; a target column is ignored)."""
    from mlrun.experiment.model import load_model, predict_csv

    if output:
        check_output(output, "-o")
    with user_errors():
        model = load_model(run_dir)
        if model.warning:
            click.echo(f"warning: {model.warning}", err=True)
        result = predict_csv(model, data)
        if output:
            from mlrun.runs.files import atomic_write

            atomic_write(output, result)
    if output:
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(result, nl=False)
