"""The process around a training loop: graceful signals and BLAS threads."""

from __future__ import annotations

import contextlib
import signal
import threading


@contextlib.contextmanager
def graceful_signals(trainer, received: list):
    """First SIGINT/SIGTERM: stop after the current batch (``received`` gets the signal). Second: abort."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if received:
            raise KeyboardInterrupt
        received.append(signum)
        trainer.request_stop("interrupted")

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@contextlib.contextmanager
def blas_threads(threads: int | None):
    """Limit BLAS threads for a run (training.threads); None leaves the library's default."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(threads), user_api="blas"):
        yield
