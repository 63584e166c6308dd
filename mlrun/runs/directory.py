"""One run directory (docs/run-directory.md): claim it, write its files atomically, keep run.json.

    runs/<name>-<YYYYmmdd-HHMMSS>-<4 hex>/   claimed with os.mkdir, never reused
    --out DIR                                exactly DIR: absent or empty, or (force) a previous run's
"""

from __future__ import annotations

import functools
import os
import platform
import secrets
import shutil
import socket
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from mlrun.runs.discovery import display_status
from mlrun.runs.files import read_json, write_csv, write_json, write_npz, write_yaml
from mlrun.spec.errors import ConfigError
from mlrun.spec.names import sanitize_name

STATUSES = ("running", "completed", "diverged", "pruned", "interrupted", "failed")


def versions() -> dict:
    """Python, numpy, scikit-learn and mlrun versions (package metadata, no heavy imports); a copy of
    the process's first answer (importlib.metadata scans sys.path on every call, and a sweep's driver
    asks for each trial; installed versions do not change under a running process)."""
    return dict(_versions())


@functools.lru_cache(maxsize=1)
def _versions() -> dict:
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
    """threadpoolctl's view of the loaded BLAS/OpenMP libraries, with their thread counts as of now."""
    return [
        {
            "internal_api": lib.get("internal_api"),
            "num_threads": lib.get("num_threads"),
            "version": lib.get("version"),
            "filepath": os.path.basename(lib.get("filepath") or ""),
        }
        for lib in _controller(len(sys.modules)).info()
    ]


@functools.lru_cache(maxsize=1)
def _controller(n_modules: int):
    """threadpoolctl's scan of the loaded libraries (every shared object of the process), redone only
    when modules were imported since (a new import is how a new BLAS or OpenMP library gets loaded);
    its ``info()`` still asks each library for its current thread count."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


class RunFailed(Exception):
    """A run stopped by the operating system (disk full, permissions): its run.json says ``failed``."""


def check_runs_dir(runs_dir, name: str) -> None:
    """Before any work: ``runs_dir`` exists or can be made, is a writable folder, and can hold a run
    directory named after ``name`` (else a one-line ConfigError)."""
    runs_dir = Path(runs_dir)
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"--runs-dir {runs_dir}: it is a file, not a folder") from None
    except OSError as exc:
        raise ConfigError(f"--runs-dir {runs_dir}: cannot create it ({exc.strerror or exc})") from None
    if not os.access(runs_dir, os.W_OK | os.X_OK):
        raise ConfigError(f"--runs-dir {runs_dir}: not writable (permission denied or a read-only file system)")
    try:
        limit = os.pathconf(runs_dir, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    size = len(os.fsencode(f"{sanitize_name(name)}-YYYYmmdd-HHMMSS-abcd"))
    if size > limit:
        raise ConfigError(f"the run name is too long for a folder name: {size} bytes with its date stamp, at "
                          f"most {limit} (use a shorter name or --name)")
def _replaceable(path: Path, force: bool) -> None:
    """Refuse to empty ``path`` unless asked to and it holds a previous, no longer running mlrun run."""
    if not force:
        raise ConfigError(f"--out {path} is not empty; give --force to replace the run in it, or another directory")
    try:
        info = read_json(path / "run.json")
    except (OSError, ValueError):
        info = None
    if not isinstance(info, dict) or "status" not in info:
        raise ConfigError(f"--out {path} is not empty and holds no mlrun run (no run.json); "
                          "--force only replaces a previous run")
    if display_status(info) == "running":
        raise ConfigError(f"--out {path} holds a run that is still running (pid {info.get('pid')})")


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class RunDir:
    """One run directory: runs/<name>-<YYYYmmdd-HHMMSS>-<4 hex>/ (claimed with os.mkdir)."""

    def __init__(self, path) -> None:
        self.path = Path(path)
        self.staged: dict | None = None  # run.json held back by start(write=False)
        if not self.path.is_dir():
            raise FileNotFoundError(f"no such run directory: {self.path}")

    @classmethod
    def open(cls, path) -> tuple[RunDir, dict]:
        """An existing run directory and its run.json, or a one-line ConfigError saying what is wrong."""
        path = Path(path)
        if not path.is_dir():
            raise ConfigError(f"not a run directory: {path}" if path.exists() else f"no such run directory: {path}")
        try:
            info = read_json(path / "run.json", "run.json")
        except FileNotFoundError:
            raise ConfigError(f"not a run directory: {path} (no run.json)") from None
        except (OSError, ValueError) as exc:
            why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(f"{path / 'run.json'} is unreadable ({why})") from None
        if not isinstance(info, dict) or "status" not in info:
            raise ConfigError(f"{path / 'run.json'} is not an mlrun run (no status)")
        return cls(path), info

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
            return cls(path)
        raise FileExistsError(f"could not claim a new run directory under {runs_dir}")

    @classmethod
    def claim(cls, path, force: bool = False) -> RunDir:
        """Exactly ``path`` (a DVC stage's declared output): absent or empty, or with ``force`` a previous
        run's directory, emptied. Anything else is a ConfigError: --force never deletes what mlrun did not write."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise ConfigError(f"--out {path} is a file, not a directory")
        try:
            os.makedirs(path, exist_ok=True)
            entries = sorted(os.listdir(path))
        except OSError as exc:
            raise ConfigError(f"--out {path}: cannot create it ({exc.strerror or exc})") from None
        if entries:
            _replaceable(path, force)
            for entry in entries:
                target = path / entry
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                else:
                    target.unlink()
        return cls(path)

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
        path = write_json(self._target(rel), obj)
        if rel == "run.json":
            self.staged = None
        return path

    def write_yaml(self, rel, obj) -> Path:
        return write_yaml(self._target(rel), obj)

    def write_csv(self, rel, header, rows) -> Path:
        return write_csv(self._target(rel), header, rows)

    def write_npz(self, rel, **arrays) -> Path:
        return write_npz(self._target(rel), **arrays)

    def read_json(self, rel):
        return read_json(self.file(rel))

    # -- run.json life cycle (only the driver process writes it, so no lock is needed)

    def start(self, kind, params, resolved, seed, smoke, command, extra=None, write: bool = True) -> dict:
        """Write run.json with status "running", pid, host, start time, heartbeat, versions, BLAS.

        ``write=False`` holds it back until ``update``/``finish`` (a sweep's driver records a trial that
        has already ended: "running" would last milliseconds and cost a write and an fsync; without
        run.json the directory is not a run, so nobody sees it half recorded)."""
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
        if write:
            self.write_json("run.json", run)
        else:
            self.staged = run
        return run

    def info(self) -> dict:
        return dict(self.staged) if self.staged is not None else self.read_json("run.json")

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
