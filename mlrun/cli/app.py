"""Command line: each command parses options, calls one library function, renders the result with rich.

No logic lives here; heavy libraries (scikit-learn, matplotlib, pydantic) load inside the commands so
``mlrun --help`` stays fast.
"""

from __future__ import annotations

import os
import signal
import sys

import click

from mlrun import __version__
from mlrun.cli.diagnose_command import diagnose
from mlrun.cli.ecosystem_commands import export, smoke
from mlrun.cli.report_command import report
from mlrun.cli.run_commands import predict, train
from mlrun.cli.spec_commands import registry_cmd, schema, validate
from mlrun.cli.study_commands import compare, lr_find_cmd, sweep


class MlrunGroup(click.Group):
    """The click group whose ``main`` (also what CliRunner calls) keeps mlrun's exit promises: usage
    errors in one line (exit 2), and any SIGINT/SIGTERM, wherever it lands, 130/143 (click's
    standalone mode would print "Aborted!" and exit 1)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        from mlrun.training.signals import Received, interruptible

        received = Received()
        try:
            with interruptible(received):
                code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "mlrun"
            click.echo(f"error: {exc.format_message()} (see {where} --help)", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except (click.exceptions.Abort, KeyboardInterrupt) as exc:
            sys.exit(_interrupted(exc, received))
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # the reader closed the pipe (mlrun registry | head): it has what it wanted, not an error;
            # stdout goes to /dev/null so the interpreter's final flush cannot fail again
            _stdout_to_devnull()
            ctx.exit(0)
        except OSError as exc:  # past the command's own handling: stdout on a full disk (mlrun schema > /dev/full)
            _stdout_to_devnull()
            where = f": {exc.filename}" if exc.filename else ""
            click.echo(f"error: {exc.strerror or exc}{where}", err=True)
            ctx.exit(1)


def _stdout_to_devnull() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _interrupted(exc: BaseException, received) -> int:
    """The exit code of an interrupt (130 SIGINT, 143 SIGTERM), after one line saying what stopped."""
    from mlrun.training.signals import EXIT_CODES, Interrupted

    cause = exc if isinstance(exc, KeyboardInterrupt) else exc.__cause__ or exc.__context__
    signum = cause.signum if isinstance(cause, Interrupted) else received.first
    try:
        click.echo(f"interrupted by {signal.Signals(signum).name}", err=True)
    except (OSError, ValueError):  # a closed pipe: the exit code still says it
        pass
    return EXIT_CODES.get(signum, 130)


@click.group(cls=MlrunGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlrun")
def cli() -> None:
    """mlrun: train NumPy networks from YAML specs, find learning rates, compare and sweep runs."""


for command in (train, predict, validate, schema, registry_cmd, lr_find_cmd, compare, sweep, report, diagnose,
                smoke, export):
    cli.add_command(command)


def main() -> None:
    try:
        cli.main(prog_name="mlrun")
    except KeyboardInterrupt:  # a signal after the command's own handling, while exiting
        sys.exit(130)
