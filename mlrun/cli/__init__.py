"""The command line: click commands (app.py) and one rich view per command."""

from mlrun.cli.app import main

__all__ = ["main"]
