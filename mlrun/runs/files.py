"""Atomic file writes and safe reads: every mlrun file goes through here.

Every file is written to a dot-prefixed temporary name in the same folder, fsynced and renamed with
``os.replace``, so a reader (compare, dvc, pandas) never sees half a file. npz files are read with
``allow_pickle=False``.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import yaml

from mlrun.inputs import open_regular, read_regular_text


def _read_umask() -> int:
    # mkstemp creates files 0600; renamed results should get the usual 0666 & ~umask.
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_read_umask()


def atomic_write(path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder + fsync + os.replace.

    Only a regular file (or nothing) is replaced: renaming onto ``/dev/null`` or a FIFO would put a file
    where the device was (as root, for every program on the machine)."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise OSError(errno.EEXIST, "exists and is not a regular file; mlrun replaces only regular files",
                      str(path))
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


def read_json(path, kind: str = "json"):
    """A JSON file mlrun wrote (run.json, checkpoint.json, sweep.json): a regular file under its size
    cap (``mlrun.inputs``); FileNotFoundError if missing, ValueError if it is not such a file or JSON."""
    if not os.path.lexists(path):
        raise FileNotFoundError(f"no such file: {path}")
    text = read_regular_text(path, kind)
    try:
        return json.loads(text)
    except RecursionError:  # json is recursive: deeply nested input exhausts the stack
        raise ValueError(f"{path} is nested too deeply to be an mlrun file") from None


# libyaml's emitter when PyYAML was built with it: the same text (tests/test_runs.py) at a fraction of the
# pure-Python emitter's cost, which was the largest part of a sweep driver's time per trial
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def yaml_text(obj, dumper=None) -> str:
    """``obj`` as block-style YAML in insertion order (``yaml.safe_dump``'s text)."""
    return yaml.dump(obj, Dumper=dumper or _DUMPER, sort_keys=False, default_flow_style=False)


def write_yaml(path, obj) -> Path:
    return atomic_write(path, yaml_text(obj))


def csv_text(header, rows) -> str:
    """CSV text with a header row, quoted where a cell needs it (a comma, a quote); None is an empty cell."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def write_csv(path, header, rows) -> Path:
    """``csv_text`` written atomically."""
    return atomic_write(path, csv_text(header, rows))


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
    """Every array of an npz file, read eagerly with allow_pickle=False (the file is closed).

    Only a regular file that is a zip archive is read (anything else is a ValueError that says so:
    numpy would call it "pickled data"); a damaged archive is a ValueError too."""
    import zipfile

    with open_regular(path, "npz") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise ValueError(f"{path} is not an npz file (not a zip archive)")
        fh.seek(0)
        try:
            with np.load(fh, allow_pickle=False) as npz:
                return {key: npz[key] for key in npz.files}
        except (zipfile.BadZipFile, EOFError, KeyError, OSError) as exc:
            raise ValueError(f"{path} is a damaged npz file ({type(exc).__name__}: {exc})") from None
