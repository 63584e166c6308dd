"""The checked CSV reader: the csv module, cell by cell, so that every problem is one ``DataError``
naming the line, the column and the cell. ``user_csv`` reads a table with pyarrow first and comes here
only for a file that path cannot vouch for (or to name what is wrong with it), so these messages are
the contract of both paths.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from pathlib import Path

import numpy as np

from mlrun.data.dataset import DataError, join_values

# A file's cells and column names are quoted in messages only when it is named as a table: a spec's
# data.path may point at any file, and an error must not print the first line of /etc/passwd.
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
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


def csv_rows(text: str, where: Where) -> tuple[list[str], list[str], list[int]]:
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
    check_header(header, where)
    return header, rows, lines


def check_header(header: list[str], where: str) -> None:
    for i, name in enumerate(header):
        if not name:
            raise DataError(f"{where}: column {i + 1} has no name in the header row")
    counts = Counter(header)  # header.count per name was quadratic: 100,000 columns took many minutes
    dupes = sorted(n for n, k in counts.items() if k > 1)
    if dupes:
        raise DataError(f"{where}: duplicate column names in the header: "
                        f"{join_values(shown(d, where) for d in dupes)}")


def numeric_column(cells: np.ndarray, name: str, lines: list[int], where: str) -> np.ndarray:
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


def label_column(cells: np.ndarray, lines: list[int], name: str, where: str, what: str = "target column") -> np.ndarray:
    """A column of labels as text; an empty cell is a DataError naming its line."""
    for i, cell in enumerate(cells):
        if cell == "":
            raise DataError(f"{where}: {what} '{shown(name, where)}' has an empty value on line {lines[i]}")
    return cells.astype(str)


def checked_columns(text: str, where: Where, pick):
    """(header, X of the numeric columns, {label: text}, lines) with every cell checked; ``pick(header)``
    names the (numeric, label) columns or raises the DataError about the header."""
    header, rows, lines = csv_rows(text, where)
    numeric, labels = pick(header)
    cells = np.asarray(rows, dtype=str)
    X = np.column_stack([numeric_column(cells[:, header.index(f)], f, lines, where) for f in numeric])
    texts = {name: label_column(cells[:, header.index(name)], lines, name, where, kind)
             for name, kind in labels.items()}
    return header, X, texts, lines
