"""The process around a training loop: graceful signals and BLAS threads.

A run's whole life (loading data, the training loop, metrics, files, figures) is covered: inside the
loop the first SIGINT/SIGTERM stops after the current batch; anywhere else, or a second signal, raises
``Interrupted`` carrying the *first* signal, so the caller can record the run as interrupted and exit
130 or 143 whichever moment the signal hit.
"""

from __future__ import annotations

import contextlib
import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Interrupted(KeyboardInterrupt):
    """A signal that ends the run where it stands (``signum``: the first signal received)."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signum)
        self.signum = int(signum)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.signum, 130)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def _handlers(handler):
    if not _main_thread():  # signal handlers can only be set in the main thread
        yield
        return
    # a process told to ignore a signal (a sweep worker for SIGINT, nohup for SIGHUP) keeps ignoring it
    previous = {s: signal.signal(s, handler) for s in SIGNALS if signal.getsignal(s) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


class Received(list):
    """The signals a run received, in order; once ``closing`` is set they are only noted (the run is
    already writing its interrupted status: a few milliseconds of atomic writes)."""

    closing = False

    @property
    def first(self) -> int:
        return self[0] if self else signal.SIGINT


@contextlib.contextmanager
def interruptible(received: Received):
    """Any SIGINT/SIGTERM raises ``Interrupted(first signal)``, unless ``received.closing``."""

    def handler(signum, frame):
        received.append(signum)
        if not received.closing:
            raise Interrupted(received.first)

    with _handlers(handler):
        yield


@contextlib.contextmanager
def deferred_signals():
    """Hold SIGINT/SIGTERM while a few files are written together; a held signal is handled at the end."""
    if not _main_thread():
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)


@contextlib.contextmanager
def graceful_signals(trainer, received: list):
    """First SIGINT/SIGTERM: stop after the current batch (``received`` gets the signal). Second:
    ``Interrupted`` (with the first signal), which ends the run where it stands."""

    def handler(signum, frame):
        received.append(signum)
        if len(received) > 1 and not getattr(received, "closing", False):
            raise Interrupted(received[0])
        trainer.request_stop("interrupted")

    with _handlers(handler):
        yield


@contextlib.contextmanager
def blas_threads(threads: int | None):
    """Limit BLAS threads for a run (training.threads); None leaves the library's default."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(threads), user_api="blas"):
        yield
