"""User errors at the command line: one line, exit code 2, never a traceback."""

from __future__ import annotations

import contextlib

import click


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


def one_of(spec, resume_dir, what: str, resumed: str) -> None:
    """SPEC or --resume DIR: exactly one; the message says which mistake was made."""
    if spec and resume_dir:
        raise BadInput(f"give a SPEC or --resume {resumed}, not both")
    if not spec and not resume_dir:
        raise BadInput(f"give a SPEC to {what} (a YAML file), or --resume {resumed} to continue one")
