"""Finding run directories below a path, and the status a reader shows (``stale`` for a dead run)."""

from __future__ import annotations

import os
import socket
import time


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, it is just not ours
        return True
    except (OverflowError, ValueError):
        return False
    return True


def display_status(run: dict, now: float | None = None, stale_after: float = 3600.0) -> str:
    """The stored status, or "stale" for a "running" run whose process is gone on this host or whose
    heartbeat is older than ``stale_after`` seconds."""
    status = run.get("status") or "unknown"
    if status != "running":
        return status
    pid = run.get("pid")
    if run.get("host") == socket.gethostname() and isinstance(pid, int) and not _pid_alive(pid):
        return "stale"
    heartbeat = run.get("heartbeat")
    now = time.time() if now is None else now
    if isinstance(heartbeat, (int, float)) and now - heartbeat > stale_after:
        return "stale"
    return status


def run_dir_paths(paths) -> list[str]:
    """Every run directory (one holding run.json) at or below each path, depth-first in name order.

    Strings, not Paths, one stat per folder, and a run's own files are never listed (its subfolders
    are its own): this is on compare's path over 10,000 runs. Hidden folders are skipped and a
    symlinked folder is followed once.
    """
    found: dict[tuple[int, int], str] = {}
    seen: set[tuple[int, int]] = set()
    for root in [paths] if isinstance(paths, (str, os.PathLike)) else paths:
        root = os.path.normpath(os.fspath(root))
        if not os.path.exists(root):
            raise FileNotFoundError(f"no such file or directory: {root}")
        if os.path.isfile(root):
            if os.path.basename(root) != "run.json":
                raise NotADirectoryError(f"not a run directory: {root}")
            root = os.path.dirname(root) or "."
        st = os.stat(root)
        seen.add((st.st_dev, st.st_ino))  # a link back to a root is a loop
        _walk(root, found, seen)
    return list(found.values())


def _walk(folder: str, found: dict[tuple[int, int], str], seen: set[tuple[int, int]]) -> None:
    try:
        st = os.stat(os.path.join(folder, "run.json"))
    except OSError:
        st = None
    if st is not None:
        # keyed by run.json's inode: a run reached twice (a symlink to an ancestor folder) counts once
        found.setdefault((st.st_dev, st.st_ino), folder)
        return
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:  # unreadable or vanished folder: nothing to compare there
        return
    for entry in entries:
        if not entry.name.startswith(".") and _is_dir(entry, seen):
            _walk(entry.path, found, seen)


def _is_dir(entry: os.DirEntry, seen: set[tuple[int, int]]) -> bool:
    try:
        if not entry.is_symlink():
            return entry.is_dir(follow_symlinks=False)
        if not entry.is_dir():
            return False
        st = entry.stat()  # a symlinked folder: follow it once (guards against loops)
    except OSError:
        return False
    key = (st.st_dev, st.st_ino)
    if key in seen:
        return False
    seen.add(key)
    return True
