"""Run directory (DESIGN section 5): create, atomic writes, run.json life cycle, listing, status.

Every file is written to a dot-prefixed temporary name in the same folder and renamed with
``os.replace``, so a reader (compare, dvc, pandas) never sees half a file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import re
import secrets
import socket
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import yaml

from mlrun.spec.names import sanitize_name

STATUSES = ("running", "completed", "diverged", "interrupted", "failed")
HISTORY_HEAD = ("epoch", "learning_rate", "momentum", "train_loss", "val_loss", "grad_norm")


def _read_umask() -> int:
    # mkstemp creates files 0600; renamed results should get the usual 0666 & ~umask.
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_read_umask()


# ---------------------------------------------------------------- names and status


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


def find_runs(paths, kind: str | None = None) -> list[Path]:
    """Every directory at or below each path that holds a run.json, sorted (optionally of one kind)."""
    runs = [Path(p) for p in sorted(set(run_dir_paths(paths)), key=lambda p: p.split(os.sep))]
    if kind is not None:
        runs = [p for p in runs if _run_kind(p) == kind]
    return runs


def run_dir_paths(paths) -> list[str]:
    """Every run directory (one holding run.json) at or below each path, depth-first in name order.

    Strings, not Paths, one stat per folder, and a run's own files are never listed (its subfolders
    are its own): this is on compare's path over 10,000 runs. Hidden folders are skipped and a
    symlinked folder is followed once.
    """
    found: dict[str, None] = {}
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
    return list(found)


def _walk(folder: str, found: dict[str, None], seen: set[tuple[int, int]]) -> None:
    if os.path.exists(os.path.join(folder, "run.json")):
        found[folder] = None
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


def _run_kind(path: Path) -> str | None:
    try:
        return read_json(path / "run.json").get("kind")
    except (OSError, ValueError, AttributeError):
        return None


# ---------------------------------------------------------------- atomic file writes


def atomic_write(path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder + fsync + os.replace."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def _json_default(obj):
    # numpy scalars/arrays and paths are common in params and metrics; NaN still raises afterwards.
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def to_json(obj) -> str:
    """JSON text as every mlrun file holds it: indent 2, no NaN/Infinity, trailing newline."""
    return json.dumps(obj, indent=2, allow_nan=False, sort_keys=False, default=_json_default) + "\n"


def write_json(path, obj) -> Path:
    """Atomic JSON write; NaN or infinity raise ValueError (undefined metrics must be null)."""
    return atomic_write(path, to_json(obj))


def read_json(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def write_yaml(path, obj) -> Path:
    return atomic_write(path, yaml.safe_dump(obj, sort_keys=False, default_flow_style=False))


def write_csv(path, header, rows) -> Path:
    """CSV with a header row; None becomes an empty cell."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return atomic_write(path, buf.getvalue())


def write_npz(path, **arrays) -> Path:
    """np.savez into memory, then an atomic write; object arrays are refused (they would need pickle)."""
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    for key, value in arrays.items():
        if value.dtype.hasobject:
            raise TypeError(f"array {key!r} has object dtype; npz files here are loaded without pickle")
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return atomic_write(path, buf.getvalue())


def load_npz(path) -> dict[str, np.ndarray]:
    """Every array of an npz file, read eagerly with allow_pickle=False (the file is closed)."""
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


# ---------------------------------------------------------------- history.csv


def history_header(metric_names=()) -> list[str]:
    """history.csv columns: epoch, learning_rate, momentum, train_loss, val_loss, grad_norm,
    val_<metric>..., seconds."""
    metrics = [m if m.startswith("val_") else f"val_{m}" for m in metric_names]
    metrics = [m for m in dict.fromkeys(metrics) if m not in HISTORY_HEAD]
    return [*HISTORY_HEAD, *metrics, "seconds"]


def history_metric_names(history: list[dict]) -> list[str]:
    """The val_<metric> keys of history records in first-seen order (val_loss excluded)."""
    keys = dict.fromkeys(k for row in history for k in row)
    return [k for k in keys if k.startswith("val_") and k != "val_loss"]


def history_rows(history: list[dict], header: list[str]) -> list[list]:
    """One list per epoch in header order; missing values are None (an empty cell)."""
    return [[_cell(row.get(key)) for key in header] for row in history]


def _cell(value):
    if isinstance(value, np.generic):
        value = value.item()
    return value


def write_history(path, history: list[dict], metric_names=None) -> Path:
    """Write history.csv (atomically; the whole file each epoch, it is small)."""
    names = history_metric_names(history) if metric_names is None else metric_names
    header = history_header(names)
    return write_csv(path, header, history_rows(history, header))


def read_history(path) -> list[dict]:
    """history.csv back as dicts: epoch an int, the rest floats, empty cells None."""
    with open(path, encoding="utf-8", newline="") as fh:
        return [{k: _parse_cell(k, v) for k, v in row.items()} for row in csv.DictReader(fh)]


def _parse_cell(key: str, value: str | None):
    if value is None or value == "":
        return None
    number = float(value)
    if key == "epoch" and number.is_integer():
        return int(number)
    return number


# ---------------------------------------------------------------- environment


def versions() -> dict:
    """Python, numpy, scikit-learn and mlrun versions (package metadata, no heavy imports)."""
    from importlib import metadata

    out = {"python": platform.python_version(), "numpy": np.__version__}
    for dist in ("scikit-learn", "mlrun"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    if out["mlrun"] is None:
        from mlrun import __version__

        out["mlrun"] = __version__
    return out


def blas_info() -> list[dict]:
    """threadpoolctl's view of the loaded BLAS/OpenMP libraries."""
    from threadpoolctl import threadpool_info

    return [
        {
            "internal_api": lib.get("internal_api"),
            "num_threads": lib.get("num_threads"),
            "version": lib.get("version"),
            "filepath": os.path.basename(lib.get("filepath") or ""),
        }
        for lib in threadpool_info()
    ]


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------- the run directory


class RunDir:
    """One run directory: runs/<name>-<YYYYmmdd-HHMMSS>-<4 hex>/ (claimed with os.mkdir)."""

    def __init__(self, path) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise FileNotFoundError(f"no such run directory: {self.path}")

    @classmethod
    def create(cls, runs_dir, name: str, kind: str = "train") -> RunDir:
        """Claim a fresh directory; a name collision retries with new hex digits, never reuses."""
        runs_dir = Path(runs_dir)
        runs_dir.mkdir(parents=True, exist_ok=True)
        prefix = sanitize_name(name)
        for _ in range(10_000):
            stamp = time.strftime("%Y%m%d-%H%M%S")
            path = runs_dir / f"{prefix}-{stamp}-{secrets.token_hex(2)}"
            try:
                os.mkdir(path)
            except FileExistsError:
                continue
            run = cls(path)
            run.kind = kind
            return run
        raise FileExistsError(f"could not claim a new run directory under {runs_dir}")

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    @property
    def name(self) -> str:
        return self.path.name

    def file(self, rel) -> Path:
        return self.path / rel

    def _target(self, rel) -> Path:
        path = self.file(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def plots_dir(self) -> Path:
        path = self.path / "plots"
        path.mkdir(exist_ok=True)
        return path

    def write_json(self, rel, obj) -> Path:
        return write_json(self._target(rel), obj)

    def write_yaml(self, rel, obj) -> Path:
        return write_yaml(self._target(rel), obj)

    def write_csv(self, rel, header, rows) -> Path:
        return write_csv(self._target(rel), header, rows)

    def write_npz(self, rel, **arrays) -> Path:
        return write_npz(self._target(rel), **arrays)

    def write_history(self, history: list[dict], metric_names=None) -> Path:
        return write_history(self._target("history.csv"), history, metric_names)

    def read_json(self, rel):
        return read_json(self.file(rel))

    def read_history(self) -> list[dict]:
        return read_history(self.file("history.csv"))

    # -- run.json life cycle (only the driver process writes it, so no lock is needed)

    def start(self, kind, params, resolved, seed, smoke, command, extra=None) -> dict:
        """Write run.json with status "running", pid, host, start time, heartbeat, versions, BLAS."""
        now = time.time()
        run = {
            "name": self.name,
            "kind": kind,
            "status": "running",
            "stop_reason": None,
            "epochs": 0,
            "seed": seed,
            "smoke": bool(smoke),
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": _utc_now(),
            "started_unix": now,
            "heartbeat": now,
            "finished": None,
            "params": params,
            "resolved": resolved,
            "timings": None,
            "command": command,
            "versions": versions(),
            "blas": blas_info(),
            "error": None,
            **(extra or {}),
        }
        self.write_json("run.json", run)
        return run

    def info(self) -> dict:
        return self.read_json("run.json")

    def update(self, **fields) -> dict:
        """Read-modify-write of run.json (atomic)."""
        run = self.info()
        run.update(fields)
        self.write_json("run.json", run)
        return run

    def heartbeat(self, **fields) -> dict:
        return self.update(heartbeat=time.time(), **fields)

    def finish(self, status, stop_reason, epochs, timings=None, error=None, **extra) -> dict:
        """Final status, stop reason, epochs, finish time, timings {train_seconds, total_seconds}, error."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}; got {status!r}")
        run = self.info()
        now = time.time()
        if timings is None:
            started = run.get("started_unix")
            total = now - started if isinstance(started, (int, float)) else None
            timings = {"train_seconds": None, "total_seconds": total}
        if isinstance(error, BaseException):
            error = f"{type(error).__name__}: {error}"
        run.update(
            status=status,
            stop_reason=stop_reason,
            epochs=epochs,
            finished=_utc_now(),
            heartbeat=now,
            timings=timings,
            error=error,
            **extra,
        )
        self.write_json("run.json", run)
        return run
