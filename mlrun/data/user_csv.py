"""The user's CSV file: read it, check it (one-line ``DataError`` naming the line and column), and
turn it into feature and target columns.

``raw_from_csv`` serves ``data.dataset: csv`` (training); ``read_feature_csv`` serves ``mlrun predict``.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from pathlib import Path

import numpy as np

from mlrun.data.dataset import DataError, RawData, join_values
from mlrun.inputs import InputFileError, read_regular_text

# A file's cells and column names are quoted in messages only when it is named as a table: a spec's
# data.path may point at any file, and an error must not print the first line of /etc/passwd.
TABLE_SUFFIXES = (".csv", ".tsv")
MAX_SHOWN = 40  # characters of a cell or column name in a message


class Where(str):
    """The source named in messages (a str), and whether its content may be quoted in them."""

    echo: bool

    def __new__(cls, name, echo: bool | None = None):
        self = super().__new__(cls, name)
        self.echo = Path(name).suffix.lower() in TABLE_SUFFIXES if echo is None else echo
        return self


def shown(text: str, where: Where) -> str:
    """A cell or name for a one-line message: newlines and control characters escaped, long text cut;
    nothing of a file not named as a table."""
    if not getattr(where, "echo", True):
        return "…"
    escaped = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return escaped if len(escaped) <= MAX_SHOWN else escaped[: MAX_SHOWN - 1] + "…"


def columns_text(header: list[str], where: Where) -> str:
    """'; columns: a, b' for a table, or how many columns a file not named as a table has."""
    if not getattr(where, "echo", True):
        return f"; its first row has {len(header)} field(s) (is it a CSV file with a header row?)"
    return f"; columns: {join_values(shown(name, where) for name in header)}"


def read_text(path) -> str:
    """A data file's text (what ``csv_text`` carries to remote workers); DataError when unreadable.
    Regular files only, under a size cap (a FIFO or /dev/zero would hang or exhaust memory)."""
    path = Path(path).expanduser()
    if not path.exists() and not path.is_symlink():
        raise DataError(f"data file not found: {path}")
    try:
        return read_regular_text(path, "csv")
    except InputFileError as exc:
        raise DataError(str(exc)) from None


def _csv_rows(text: str, where: Where) -> tuple[list[str], list[str], list[int]]:
    """Header, data rows (stripped cells) and the line each row starts on; blank lines are skipped."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows, lines = [], []
    start = 1
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                rows.append([cell.strip() for cell in row])
                lines.append(start)  # a quoted cell may span lines: the row is where it starts
            start = reader.line_num + 1
    except csv.Error as exc:
        raise DataError(f"{where}: line {start} is not valid CSV ({exc})") from None
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
    counts = Counter(header)  # header.count per name was quadratic: 100,000 columns took many minutes
    dupes = sorted(n for n, k in counts.items() if k > 1)
    if dupes:
        raise DataError(f"{where}: duplicate column names in the header: "
                        f"{join_values(shown(d, where) for d in dupes)}")


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
            raise DataError(f"{where}: column '{shown(name, where)}' has an empty value on line {line}")
        try:
            finite = math.isfinite(float(cell))
        except ValueError:
            finite = None
        if finite is None:
            raise DataError(f"{where}: column '{shown(name, where)}' is not numeric"
                            f" (e.g. '{shown(cell, where)}' on line {line})")
        if not finite:
            raise DataError(f"{where}: column '{shown(name, where)}' has a missing or infinite value "
                            f"('{shown(cell, where)}' on line {line})")
    return np.asarray([float(cell) for cell in cells])  # forms numpy rejects but Python reads (1_000)


def _target_column(cells: np.ndarray, lines: list[int], name: str, where: str) -> np.ndarray:
    """Numeric labels when every cell parses (int64 when integral), else text labels."""
    for i, cell in enumerate(cells):
        if cell == "":
            raise DataError(f"{where}: target column '{shown(name, where)}' has an empty value"
                            f" on line {lines[i]}")
    try:
        values = cells.astype(np.float64)
    except ValueError:
        return cells.astype(str)
    if not np.all(np.isfinite(values)):
        return cells.astype(str)
    return values.astype(np.int64) if np.all(values == np.round(values)) else values


def raw_from_csv(opts: dict, csv_text: str | None) -> RawData:
    path = opts["path"]
    where = Where(str(path)) if path is not None else Where("csv_text", echo=True)
    if csv_text is None:
        csv_text = read_text(path)
    header, rows, lines = _csv_rows(csv_text, where)
    targets = opts["target"]
    targets = [targets] if isinstance(targets, str) else list(targets or [])
    if not targets:
        raise DataError(f"dataset csv needs data.target (the label column){columns_text(header, where)}")
    for t in targets:
        if t not in header:
            raise DataError(f"target column '{t}' not in {where}{columns_text(header, where)}")
    features = [h for h in header if h not in targets]
    if not features:
        raise DataError(f"{where} has no feature columns besides the target")
    cells = np.asarray(rows, dtype=str)
    X = np.column_stack([_numeric_column(cells[:, header.index(f)], f, lines, where) for f in features])
    if len(targets) == 1:
        y = _target_column(cells[:, header.index(targets[0])], lines, targets[0], where)
    else:  # several targets: multi-target regression
        y = np.column_stack([_numeric_column(cells[:, header.index(t)], t, lines, where) for t in targets])
    return RawData(X, y, features, targets, None, str(where))


def read_feature_csv(path, feature_names: list[str]) -> np.ndarray:
    """The named feature columns of a CSV file (header row; other columns such as the target ignored)."""
    where = Where(str(path))
    header, rows, lines = _csv_rows(read_text(path), where)
    missing = [f for f in feature_names if f not in header]
    if missing:
        raise DataError(f"{where} lacks the model's feature columns {join_values(missing)}"
                        f"{columns_text(header, where)}")
    cells = np.asarray(rows, dtype=str)
    columns = [_numeric_column(cells[:, header.index(f)], f, lines, where) for f in feature_names]
    return np.column_stack(columns)
