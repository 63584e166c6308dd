"""Opening a file a user named: regular files only, and never larger than such a file can sensibly be.

A FIFO would block forever and ``/dev/zero`` would be read until memory runs out, so every file mlrun
reads on a user's behalf (a spec, a CSV, a run's JSON and npz files) is opened non-blocking, checked
with ``fstat`` on the open descriptor (no race with a swapped path) and read up to its size cap.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
MAX_BYTES = {  # what a file of each kind can sensibly weigh
    "spec": 4 * MiB,
    "run.json": 64 * MiB,
    "json": 64 * MiB,
    "npz": 8 * GiB,
    "csv": 64 * GiB,
    "parquet": 64 * GiB,
}
CHUNK = 16 * MiB


class InputFileError(ValueError):
    """A file that cannot be read as asked: missing, a directory, not a regular file, or too large."""


def size_text(n: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} bytes"


def physical_memory() -> int:
    """This machine's RAM in bytes (16 GiB if unknown): work estimated above it is refused up front."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 16 * GiB


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def open_regular(path, kind: str):
    """A binary file object of the regular file at ``path`` (symlinks followed), or InputFileError."""
    path = Path(path)
    limit = MAX_BYTES[kind]
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{path} is a directory, not a {kind} file") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot open it ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputFileError(f"{path} is a directory, not a {kind} file")
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(f"{path} is not a regular file (a FIFO, device or socket); "
                                 "mlrun reads only regular files")
        if info.st_size > limit:
            raise InputFileError(f"{path} is {size_text(info.st_size)}; a {kind} file is at most {size_text(limit)}")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path, kind: str) -> bytes:
    """The whole content of the regular file at ``path`` (see ``open_regular``)."""
    limit = MAX_BYTES[kind]
    with open_regular(path, kind) as fh:
        # read(limit + 1) would allocate the whole cap (64 GiB for a CSV) up front: the size fstat saw,
        # then whatever the file grew by since, chunk by chunk, up to the cap
        chunks = [fh.read(os.fstat(fh.fileno()).st_size + 1)]
        total = len(chunks[0])
        while total <= limit and (chunk := fh.read(min(CHUNK, limit + 1 - total))):
            chunks.append(chunk)
            total += len(chunk)
    if total > limit:
        raise InputFileError(f"{path} grew past {size_text(limit)} while it was read; a {kind} file is at most "
                             f"{size_text(limit)}")
    return b"".join(chunks)


def read_regular_text(path, kind: str) -> str:
    """``read_regular`` decoded as UTF-8 (a BOM is dropped); undecodable bytes are an InputFileError."""
    data = read_regular(path, kind)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path} is not UTF-8 text (byte {exc.start})") from None
