"""Command line: each command parses options, calls one library function, renders the result with rich.

No logic lives here; heavy libraries (scikit-learn, matplotlib, pydantic) load inside the commands so
``mlrun --help`` stays fast.
"""

from __future__ import annotations

import os
import sys

import click

from mlrun import __version__
from mlrun.cli.ecosystem_commands import smoke
from mlrun.cli.run_commands import predict, train
from mlrun.cli.spec_commands import registry_cmd, schema, validate
from mlrun.cli.study_commands import compare, lr_find_cmd, sweep


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # the reader closed the pipe (mlrun registry | head): it has what it wanted, not an error;
            # stdout goes to /dev/null so the interpreter's final flush cannot fail again
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(0)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlrun")
def cli() -> None:
    """mlrun: train NumPy networks from YAML specs, find learning rates, compare and sweep runs."""


for command in (train, predict, validate, schema, registry_cmd, lr_find_cmd, compare, sweep, smoke):
    cli.add_command(command)


def main() -> None:
    try:
        cli.main(prog_name="mlrun", standalone_mode=True)
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        sys.exit(130)
