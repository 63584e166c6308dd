"""The user's CSV file: read it, check it (one-line ``DataError`` naming the line and column), and
turn it into feature and target columns.

``raw_from_csv`` serves ``data.dataset: csv`` (training); ``read_feature_csv`` serves ``mlrun predict``.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from mlrun.data.dataset import DataError, RawData, join_values


def read_text(path) -> str:
    """A data file's text (what ``csv_text`` carries to remote workers); DataError when unreadable."""
    try:
        return Path(path).expanduser().read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"data file not found: {path}") from None
    except IsADirectoryError:
        raise DataError(f"data path is a directory, not a file: {path}") from None
    except UnicodeDecodeError:
        raise DataError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from None


def _csv_rows(text: str, where: str) -> tuple[list[str], list[str], list[int]]:
    """Header, data rows (stripped cells) and their line numbers; blank lines are skipped."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows, lines = [], []
    for row in reader:
        if row and any(cell.strip() for cell in row):
            rows.append([cell.strip() for cell in row])
            lines.append(reader.line_num)
    if not rows:
        raise DataError(f"{where} is empty")
    header, rows, lines = rows[0], rows[1:], lines[1:]
    if not rows:
        raise DataError(f"{where} has a header row but no data rows")
    for row, line in zip(rows, lines):
        if len(row) != len(header):
            raise DataError(f"{where}: line {line} has {len(row)} fields, expected {len(header)}")
    _check_header(header, where)
    return header, rows, lines


def _check_header(header: list[str], where: str) -> None:
    for i, name in enumerate(header):
        if not name:
            raise DataError(f"{where}: column {i + 1} has no name in the header row")
    dupes = sorted({n for n in header if header.count(n) > 1})
    if dupes:
        raise DataError(f"{where}: duplicate column names in the header: {join_values(dupes)}")


def _numeric_column(cells: np.ndarray, name: str, lines: list[int], where: str) -> np.ndarray:
    """A column of text cells -> float64, or DataError naming the first bad cell and its line."""
    try:
        values = cells.astype(np.float64)
        if np.all(np.isfinite(values)):
            return values
    except ValueError:
        pass
    for cell, line in zip(cells, lines):
        if cell == "":
            raise DataError(f"{where}: column '{name}' has an empty value on line {line}")
        try:
            finite = math.isfinite(float(cell))
        except ValueError:
            finite = None
        if finite is None:
            raise DataError(f"{where}: column '{name}' is not numeric (e.g. '{cell}' on line {line})")
        if not finite:
            raise DataError(f"{where}: column '{name}' has a missing or infinite value "
                            f"('{cell}' on line {line})")
    return np.asarray([float(cell) for cell in cells])  # forms numpy rejects but Python reads (1_000)


def _target_column(cells: np.ndarray, lines: list[int], name: str, where: str) -> np.ndarray:
    """Numeric labels when every cell parses (int64 when integral), else text labels."""
    for i, cell in enumerate(cells):
        if cell == "":
            raise DataError(f"{where}: target column '{name}' has an empty value on line {lines[i]}")
    try:
        values = cells.astype(np.float64)
    except ValueError:
        return cells.astype(str)
    if not np.all(np.isfinite(values)):
        return cells.astype(str)
    return values.astype(np.int64) if np.all(values == np.round(values)) else values


def raw_from_csv(opts: dict, csv_text: str | None) -> RawData:
    path = opts["path"]
    where = str(path) if path is not None else "csv_text"
    if csv_text is None:
        csv_text = read_text(path)
    header, rows, lines = _csv_rows(csv_text, where)
    targets = opts["target"]
    targets = [targets] if isinstance(targets, str) else list(targets or [])
    if not targets:
        raise DataError(f"dataset csv needs data.target (the label column); columns: {join_values(header)}")
    for t in targets:
        if t not in header:
            raise DataError(f"target column '{t}' not in {where}; columns: {join_values(header)}")
    features = [h for h in header if h not in targets]
    if not features:
        raise DataError(f"{where} has no feature columns besides the target")
    cells = np.asarray(rows, dtype=str)
    X = np.column_stack([_numeric_column(cells[:, header.index(f)], f, lines, where) for f in features])
    if len(targets) == 1:
        y = _target_column(cells[:, header.index(targets[0])], lines, targets[0], where)
    else:  # several targets: multi-target regression
        y = np.column_stack([_numeric_column(cells[:, header.index(t)], t, lines, where) for t in targets])
    return RawData(X, y, features, targets, None, where)


def read_feature_csv(path, feature_names: list[str]) -> np.ndarray:
    """The named feature columns of a CSV file (header row; other columns such as the target ignored)."""
    where = str(path)
    header, rows, lines = _csv_rows(read_text(path), where)
    missing = [f for f in feature_names if f not in header]
    if missing:
        raise DataError(f"{where} lacks the model's feature columns {join_values(missing)}; "
                        f"columns: {join_values(header)}")
    cells = np.asarray(rows, dtype=str)
    columns = [_numeric_column(cells[:, header.index(f)], f, lines, where) for f in feature_names]
    return np.column_stack(columns)
