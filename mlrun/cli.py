"""Command line: each command parses options, calls one library function, renders the result with rich.

No logic lives here; heavy libraries (scikit-learn, matplotlib, pydantic) load inside the commands so
``mlrun --help`` stays fast.
"""

from __future__ import annotations

import sys

import click

from mlrun import __version__


class BadInput(click.ClickException):
    """One-line error, exit code 2, no traceback."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlrun")
def cli() -> None:
    """mlrun: train NumPy networks from YAML specs, find learning rates, compare and sweep runs."""


def main() -> None:
    try:
        cli.main(prog_name="mlrun", standalone_mode=True)
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        sys.exit(130)
