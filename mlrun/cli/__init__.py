"""The command line: click commands (app.py) and one rich view per command."""

import sys

INTERRUPTED = (130, 143)  # SIGINT, SIGTERM


def main() -> None:
    """The ``mlrun`` command. Its modules load inside this function, so a Ctrl-C while they load (up to
    a second on a busy machine) exits 130 with one line, like any other interrupt, not a traceback."""
    try:
        from mlrun.cli.app import main as run
    except KeyboardInterrupt:
        print("interrupted by SIGINT", file=sys.stderr)
        sys.exit(130)
    try:
        run()
    except SystemExit as exc:
        if exc.code in INTERRUPTED:
            _exit_now(exc.code)
        raise


def _exit_now(code: int) -> None:
    """End an interrupted process once its run is recorded and its exit hooks have run, without the
    interpreter's teardown. A native thread of a loaded library can touch Python during that teardown
    ("Fatal Python error: PyThreadState_Get ... finalizing", SIGABRT instead of 130: 1 in 15-30
    double Ctrl-Cs on a loaded machine; pyarrow, which scikit-learn's pandas import loads, has such
    reports). Nothing is lost: run.json is written and the files are closed by then."""
    import atexit
    import os
    import threading

    # what the interpreter runs before its teardown, in its order: other threads joined (and their own
    # exit hooks, such as an executor's), then the exit hooks (figure processes, loky, Dask clean-up)
    threading._shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: the exit code still says it
            pass
    os._exit(code)


__all__ = ["main"]
