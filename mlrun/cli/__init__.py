"""The command line: click commands (app.py) and one rich view per command."""

import sys


def main() -> None:
    """The ``mlrun`` command. Its modules load inside this function, so a Ctrl-C while they load (up to
    a second on a busy machine) exits 130 with one line, like any other interrupt, not a traceback."""
    try:
        from mlrun.cli.app import main as run
    except KeyboardInterrupt:
        print("interrupted by SIGINT", file=sys.stderr)
        sys.exit(130)
    run()


__all__ = ["main"]
