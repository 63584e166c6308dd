"""A figure process (figure_pool): import matplotlib and draw one figure first, then draw each job read
from standard input, answering with one JSON line per job, until the input closes."""

from __future__ import annotations

import json
import signal
import sys


def _warm_up() -> None:
    """Import the drawing modules and draw one small figure with text: fonts and caches load now, while
    the run trains, not when its first figure is due."""
    import importlib

    from mlrun.experiment.figure_jobs import DRAWERS
    from mlrun.runs import plots

    for module, _ in set(DRAWERS.values()):
        importlib.import_module(module)
    fig, ax = plots._figure(size=(2.0, 1.5))
    ax.plot([0, 1], [0, 1], label="warm")
    ax.set_xlabel("epoch")
    ax.legend()
    fig.canvas.draw()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle; our input closing ends us
    from mlrun.experiment.figure_pool import decode

    _warm_up()
    requests, answers = sys.stdin.buffer, sys.stdout
    answers.write("ready\n")  # jobs are sent from now on
    answers.flush()
    while True:
        try:
            job = decode(requests)
        except (ValueError, KeyError, TypeError, OSError) as exc:
            answers.write(json.dumps({"warning": f"plots: a figure job could not be read ({exc})"}) + "\n")
            answers.flush()
            return
        if job is None:
            return
        answers.write(json.dumps({"warning": job.draw()}) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
