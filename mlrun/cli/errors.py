"""User errors at the command line: one line, exit code 2 (bad input) or 1 (a run the OS stopped),
never a traceback."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import click


class BadInput(click.ClickException):
    """One-line error, exit code 2, no traceback."""

    exit_code = 2

    def show(self, file=None) -> None:
        # a message quoting user text (a --set value, a CSV cell) stays one line however that text breaks
        message = self.format_message().replace("\r", "\\r").replace("\n", "\\n")
        click.echo(f"error: {message}", err=True)


class Failed(BadInput):
    """One-line error, exit code 1: the input was fine, the work failed (disk full, permissions)."""

    exit_code = 1


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__


@contextlib.contextmanager
def user_errors():
    """Turn the library's user-facing errors into one-line messages: exit 2 for bad input, 1 for a
    failed run or write (the run directory's status says so)."""
    from mlrun.data.dataset import DataError
    from mlrun.inputs import InputFileError
    from mlrun.registry import RegistryError
    from mlrun.runs.directory import RunFailed
    from mlrun.spec.errors import ConfigError

    try:
        yield
    except (ConfigError, DataError, RegistryError, InputFileError, FileNotFoundError) as exc:
        raise BadInput(_first_line(exc)) from None
    except RunFailed as exc:
        raise Failed(_first_line(exc)) from None
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        raise Failed(f"{exc.strerror or _first_line(exc)}{where}") from None


def one_of(spec, resume_dir, what: str, resumed: str) -> None:
    """SPEC or --resume DIR: exactly one; the message says which mistake was made."""
    if spec and resume_dir:
        raise BadInput(f"give a SPEC or --resume {resumed}, not both")
    if not spec and not resume_dir:
        raise BadInput(f"give a SPEC to {what} (a YAML file), or --resume {resumed} to continue one")


def check_output(path, option: str) -> None:
    """Before the work: ``path`` (an output file option) can be written: its folder exists and is
    writable, and it is not a folder itself."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise BadInput(f"{option} {path}: is a folder; give a file name")
    if path.exists() and not path.is_file():  # the write would replace the device or FIFO with a file
        raise BadInput(f"{option} {path}: is not a regular file (a device, FIFO or socket); give a file name")
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise BadInput(f"{option} {path}: the folder {folder} {what}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadInput(f"{option} {path}: the folder {folder} is not writable")
