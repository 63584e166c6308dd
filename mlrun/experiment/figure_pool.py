"""Figure processes: a run's figures are drawn by up to three warm Python processes beside the run.

Drawing a run's seven figures costs a second or more of matplotlib's Python code, and importing
matplotlib another half second. Processes started when a training starts import matplotlib while the
run imports scikit-learn and trains; once the run's results are on disk they draw the figures, and the
run's own process draws one too whenever every figure process is busy. There is one process per CPU
beyond the run's own, up to three: on two CPUs, one, which imports matplotlib on the CPU the run
leaves idle. ``draw`` returns when every figure is written, so a finished run directory holds the same
files, byte for byte, as when the figures are all drawn in the run's own process. They are, with one
CPU, with ``MLRUN_FIGURE_WORKERS=0``, or when no process can start; a dead process's figures are drawn
there as well.

A job crosses the pipe as a JSON tree plus one .npz of its arrays (no pickle either way); the process
answers each job with one JSON line: its warning, or null. It ignores SIGINT (the run handles a
Ctrl-C) and exits when its input closes, so it never outlives the process that started it.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import select
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from mlrun.experiment.figure_jobs import DRAWERS, FigureJob
from mlrun.inputs import usable_cpus
from mlrun.spec.errors import ConfigError

ENV = "MLRUN_FIGURE_WORKERS"
MAX_WORKERS = 3  # seven figures; the largest is about a third of the drawing
MAX_PIPED_BYTES = 256 * 2**20  # bigger arrays are drawn in place rather than copied into a process


def worker_count() -> int:
    """How many figure processes: ``MLRUN_FIGURE_WORKERS`` if set, else one per CPU beyond the run's own,
    up to three (none on one CPU): they never take turns with the run while it imports and trains."""
    text = os.environ.get(ENV)
    if text is not None:
        if not text.strip().isdigit() or int(text) > 8:
            raise ConfigError(f"{ENV}={text!r}: the number of figure processes is a whole number from 0 to 8 "
                              "(0: draw in the run's own process)")
        return int(text)
    if os.name != "posix":  # the pool waits on its pipes with select(), which takes only sockets elsewhere
        return 0
    return min(MAX_WORKERS, usable_cpus() - 1)


# ---------------------------------------------------------------- a job on the pipe


_PLAIN = {str, int, float, bool, type(None), np.float64}  # JSON writes and reads back the same values


def _tree(obj, arrays: list):
    """A JSON-able tree of ``obj``; arrays go to ``arrays`` (dict keys keep their type: layers are ints)."""
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            return {"$objects": [_tree(v, arrays) for v in obj.tolist()]}
        arrays.append(obj)
        return {"$array": len(arrays) - 1}
    if isinstance(obj, dict):
        if all(type(k) is str and not k.startswith("$") and type(v) in _PLAIN for k, v in obj.items()):
            return obj  # a history row: as it is (a 2,000-epoch history in ~10 ms, not ~100)
        return {"$dict": [[_tree(k, arrays), _tree(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [_tree(v, arrays) for v in obj]
    if isinstance(obj, Path):
        return {"$path": str(obj)}
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    raise TypeError(f"a figure argument of type {type(obj).__name__} cannot be sent to a figure process")


def _untree(node, arrays):
    if isinstance(node, list):
        return [_untree(v, arrays) for v in node]
    if not isinstance(node, dict) or not any(key.startswith("$") for key in node):
        return node  # a scalar, or a dict of scalars with text keys
    if "$array" in node:
        return arrays[f"a{node['$array']}"]
    if "$objects" in node:
        return np.array([_untree(v, arrays) for v in node["$objects"]], dtype=object)
    if "$path" in node:
        return Path(node["$path"])
    return {_hashable(_untree(k, arrays)): _untree(v, arrays) for k, v in node["$dict"]}


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def encode(job: FigureJob) -> tuple[bytes, int]:
    """The job as one frame (header length, header, npz length, npz) and its arrays' bytes."""
    arrays: list[np.ndarray] = []
    header = json.dumps({"figure": job.figure, "group": job.group, "args": _tree(job.args, arrays)}).encode()
    buf = io.BytesIO()
    np.savez(buf, **{f"a{i}": a for i, a in enumerate(arrays)})
    payload = buf.getvalue()
    frame = struct.pack("<Q", len(header)) + header + struct.pack("<Q", len(payload)) + payload
    return frame, sum(a.nbytes for a in arrays)


def _read_exactly(stream, n: int) -> bytes | None:
    data = stream.read(n)
    return data if data is not None and len(data) == n else None


def decode(stream) -> FigureJob | None:
    """The next job on ``stream``; None at its end."""
    sizes = []
    for _ in range(2):
        size = _read_exactly(stream, 8)
        if size is None:
            return None
        block = _read_exactly(stream, struct.unpack("<Q", size)[0])
        if block is None:
            return None
        sizes.append(block)
    header = json.loads(sizes[0])
    if header["figure"] not in DRAWERS:
        raise ValueError(f"unknown figure {header['figure']!r}")
    with np.load(io.BytesIO(sizes[1]), allow_pickle=False) as arrays:
        args = _untree(header["args"], {k: arrays[k] for k in arrays.files})
    return FigureJob(header["figure"], header["group"], tuple(args))


# ---------------------------------------------------------------- the processes


class FigurePool:
    """Warm figure processes, started once and kept for later runs in the same Python process. A process
    is sent jobs only once it has said it is ready (warm, reading its input): a frame never waits in a
    pipe behind matplotlib's import, and a process that never gets warm is simply never used."""

    def __init__(self):
        self._workers: list[subprocess.Popen] = []
        self._ready: set[int] = set()  # pids

    def warm(self) -> None:
        """Start the figure processes (if this machine gets any) so that they import matplotlib now."""
        self._prune()
        wanted = worker_count()
        if len(self._workers) > wanted:  # asked for fewer since the last run
            extra, self._workers = self._workers[wanted:], self._workers[:wanted]
            _close(extra, kill=True)
        while len(self._workers) < wanted:
            worker = _start()
            if worker is None:
                break
            self._workers.append(worker)

    def draw(self, jobs: list[FigureJob]) -> list[str]:
        """Draw every job, in the figure processes and in this one alike; the warnings, in job order."""
        self._prune()
        warnings: dict[int, str | None] = {}
        if not self._workers:
            warnings = {index: job.draw() for index, job in enumerate(jobs)}
        else:
            try:
                self._share(list(enumerate(jobs)), warnings)
            except BaseException:  # a signal or an error mid-draw: those processes are in an unknown state
                self.close(kill=True)
                raise
        return [warnings[i] for i in sorted(warnings) if warnings[i]]

    def _share(self, todo: list, warnings: dict) -> None:
        """Send each idle process the next job; while every process is busy (or still warming), draw one
        here, from the other end of the list. Jobs too big to copy, or whose process died, are drawn
        here too."""
        here: list = []
        busy: dict[int, tuple] = {}  # stdout fd -> (worker, index, job); index None: warming
        idle = []
        for worker in self._workers:
            if worker.pid in self._ready:
                idle.append(worker)
            else:
                busy[worker.stdout.fileno()] = (worker, None, None)
        while todo or here or any(index is not None for _, index, _ in busy.values()):
            while todo and idle:
                index, job = todo.pop(0)
                frame, size = encode(job)  # when sent: a job drawn here is never encoded
                if size > MAX_PIPED_BYTES:
                    here.append((index, job))
                    continue
                worker = idle.pop()
                if _send(worker, frame):
                    busy[worker.stdout.fileno()] = (worker, index, job)
                else:  # its input is closed: it has died
                    self._drop(worker)
                    here.append((index, job))
            if here or todo:
                index, job = (here or todo).pop()
                warnings[index] = job.draw()
            for fd in _readable(busy, wait=not (here or todo)):
                worker, index, job = busy.pop(fd)
                if index is None:
                    if self._heard_ready(worker):
                        idle.append(worker)
                    continue
                answer = worker.stdout.readline()
                if not answer:  # the process died: its job is drawn here
                    self._drop(worker)
                    here.append((index, job))
                    continue
                warnings[index] = json.loads(answer)["warning"]
                idle.append(worker)

    def wait_until_ready(self, timeout: float = 60.0) -> int:
        """Wait until every figure process is warm (or ``timeout`` seconds); how many are."""
        deadline = time.monotonic() + timeout
        while len(self._ready) < len(self._workers) and time.monotonic() < deadline:
            warming = {w.stdout.fileno(): w for w in self._workers if w.pid not in self._ready}
            ready, _, _ = select.select(list(warming), [], [], max(0.0, deadline - time.monotonic()))
            for fd in ready:
                self._heard_ready(warming[fd])
        return len(self._ready)

    def _heard_ready(self, worker: subprocess.Popen) -> bool:
        """Read a warming process's "ready" line: whether it is warm now (if it died instead, it is dropped)."""
        if worker.stdout.readline():
            self._ready.add(worker.pid)
            return True
        self._drop(worker)
        return False

    def _prune(self) -> None:
        for worker in [w for w in self._workers if w.poll() is not None]:
            self._drop(worker)

    def _drop(self, worker: subprocess.Popen) -> None:
        self._workers.remove(worker)
        self._ready.discard(worker.pid)
        _close([worker], kill=True)

    def close(self, kill: bool = False) -> None:
        """End the processes: their input closes and they exit (``kill``: at once)."""
        _close(self._workers, kill)
        self._workers, self._ready = [], set()


def _readable(busy: dict, wait: bool) -> list[int]:
    """The busy processes' outputs with a line (or an end) to read; ``wait``: until there is one."""
    if not busy:
        return []
    ready, _, _ = select.select(list(busy), [], [], None if wait else 0)
    return ready


def _close(workers: list[subprocess.Popen], kill: bool = False) -> None:
    for worker in workers:
        if kill and worker.poll() is None:
            worker.kill()
        for stream in (worker.stdin, worker.stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            worker.wait(timeout=10)  # an idle process exits as soon as its input closes
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _start() -> subprocess.Popen | None:
    """One figure process, or None if it cannot start (its figures are then drawn in place)."""
    package_root = str(Path(__file__).resolve().parents[2])  # the mlrun this process runs, in the child too
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": package_root + (os.pathsep + path if path else "")}
    try:
        return subprocess.Popen([sys.executable, "-m", "mlrun.experiment.figure_worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, close_fds=True)
    except OSError:
        return None


def _send(worker: subprocess.Popen, frame: bytes) -> bool:
    try:
        worker.stdin.write(frame)
        worker.stdin.flush()
    except (BrokenPipeError, OSError):
        return False
    return True


POOL = FigurePool()
# idle processes exit when their input closes; killing them at exit also ends one still importing
atexit.register(POOL.close, kill=True)
