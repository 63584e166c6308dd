"""The user's table, CSV or Parquet (by its suffix), for training and for ``mlrun predict``.

A CSV is read by pyarrow (``csv_fast``) and converted once to float64 columns; a file that path cannot
vouch for goes to the checked reader (``checked_csv``), which names the line, column and cell of the
problem. ``raw_from_csv`` serves ``data.dataset: csv`` (with ``data.test_path`` and
``data.split_column``, a published split); ``read_feature_csv`` serves ``mlrun predict``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlrun.data.checked_csv import Where, check_header, checked_columns, columns_text, shown
from mlrun.data.csv_fast import csv_columns, csv_header, csv_line_of_row
from mlrun.data.dataset import DataError, RawData, join_values
from mlrun.data.splits import split_codes
from mlrun.data.tables import (
    PARQUET_SUFFIXES,
    Opener,
    ParquetProblem,
    Unclean,
    label_values,
    parquet_columns,
    parquet_names,
)
from mlrun.inputs import InputFileError, open_regular, read_regular, read_regular_text

__all__ = ["Where", "raw_from_csv", "read_feature_csv", "read_text", "TableColumns", "read_columns"]


def is_parquet(path) -> bool:
    return path is not None and Path(str(path)).suffix.lower() in PARQUET_SUFFIXES


def _existing(path) -> Path:
    path = Path(path).expanduser()
    if not path.exists() and not path.is_symlink():
        raise DataError(f"data file not found: {path}")
    return path


def read_text(path) -> str | bytes:
    """A data file's content (what ``csv_text`` carries to remote workers): a CSV's text, a Parquet
    file's bytes; DataError when unreadable. Regular files only, under a size cap."""
    path = _existing(path)
    try:
        return read_regular(path, "parquet") if is_parquet(path) else read_regular_text(path, "csv")
    except InputFileError as exc:
        raise DataError(str(exc)) from None


def _opener(path, content: str | bytes | None) -> Opener:
    """Fresh binary streams of the table: of ``content`` when given, else of the regular file at
    ``path`` (checked once now, so a FIFO is refused before anything is read)."""
    if content is not None:
        data = content.encode("utf-8") if isinstance(content, str) else content
        return lambda: io.BytesIO(data)
    path = _existing(path)
    kind = "parquet" if is_parquet(path) else "csv"

    def open_table():
        try:
            return open_regular(path, kind)
        except InputFileError as exc:
            raise DataError(str(exc)) from None

    open_table().close()
    return open_table


@dataclass
class TableColumns:
    header: list[str]  # the column names, stripped
    X: np.ndarray  # float64 (n, len(numeric)): the numeric columns ``pick`` named, in its order
    labels: dict[str, np.ndarray]  # each label column: text (CSV) or numbers or text (Parquet)
    locate: Callable[[int], str]  # data row index -> "line 7" (CSV) or "row index 6" (Parquet)


def read_columns(path, content, where: Where, pick) -> TableColumns:
    """The columns ``pick(header) -> (numeric names, {label name: what it is})`` chooses, every cell
    checked; ``pick`` raises the DataError about the header (a missing column)."""
    open_table = _opener(path, content)
    if is_parquet(path):
        return _parquet_table(open_table, where, pick)
    try:
        raw_header = csv_header(open_table)
        header = [name.strip() for name in raw_header]
        check_header(header, where)
        numeric, labels = pick(header)
        X, texts = csv_columns(open_table, raw_header, numeric, list(labels))
        return TableColumns(header, X, texts, lambda i: f"line {csv_line_of_row(open_table, i)}")
    except Unclean:
        header, X, texts, lines = checked_columns(_text(path, content), where, pick)
        return TableColumns(header, X, texts, lambda i: f"line {lines[i]}")


def _text(path, content) -> str:
    if isinstance(content, str):
        return content
    try:
        if content is not None:
            return content.decode("utf-8-sig")
        return read_regular_text(_existing(path), "csv")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    except InputFileError as exc:
        raise DataError(str(exc)) from None


def _parquet_table(open_table: Opener, where: Where, pick) -> TableColumns:
    try:
        header = parquet_names(open_table)
        check_header(header, where)
        numeric, labels = pick(header)
        X, values = parquet_columns(open_table, numeric, list(labels))
    except ParquetProblem as exc:
        raise DataError(f"{where}: {exc}") from None
    return TableColumns(header, X, values, lambda i: f"row index {i}")


def labels_of(values: np.ndarray) -> np.ndarray:
    """Text labels become numbers when all are finite numbers (the CSV rule); typed ones stay."""
    return label_values(values) if values.dtype.kind == "U" else values


# ------------------------------------------------------------------------------------------- public
def _targets(opts: dict) -> list[str]:
    targets = opts["target"]
    return [targets] if isinstance(targets, str) else list(targets or [])


def training_picker(targets: list[str], split_column: str | None, where: Where):
    """``pick`` for a training table: the features are every column but the targets and the split column."""

    def pick(header: list[str]):
        if not targets:
            raise DataError(f"dataset csv needs data.target (the label column){columns_text(header, where)}")
        for t in targets:
            if t not in header:
                raise DataError(f"target column '{t}' not in {where}{columns_text(header, where)}")
        if split_column is not None and split_column not in header:
            raise DataError(f"split column '{split_column}' not in {where}{columns_text(header, where)}")
        features = [h for h in header if h not in targets and h != split_column]
        if not features:
            raise DataError(f"{where} has no feature columns besides the target")
        labels = {targets[0]: "target column"} if len(targets) == 1 else {}
        if split_column is not None:
            labels[split_column] = "split column"
        return features + (targets if len(targets) > 1 else []), labels

    return pick


def raw_from_csv(opts: dict, csv_text: str | bytes | None) -> RawData:
    """The training table as RawData; with data.split_column or data.test_path, each row's published
    split too (``RawData.split``, SPLITS codes, which ``splits.published_split`` uses)."""
    path = opts["path"]
    where = Where(str(path)) if path is not None else Where("csv_text", echo=True)
    targets, split_column = _targets(opts), opts.get("split_column")
    table = read_columns(path, csv_text, where, training_picker(targets, split_column, where))
    features = [h for h in table.header if h not in targets and h != split_column]
    raw = _raw(table, features, targets, where)
    if split_column is not None:
        raw.split = split_codes(table.labels[split_column], table.locate, where, split_column,
                                need_test=opts.get("test_path") is None)
    if opts.get("test_path") is not None:
        raw = with_test_file(raw, opts["test_path"], table.header, split_column, where)
    return raw


def _raw(table: TableColumns, features: list[str], targets: list[str], where: str) -> RawData:
    if len(targets) == 1:
        y = labels_of(table.labels[targets[0]])
    else:  # several targets: multi-target regression
        y = table.X[:, len(features):]
    return RawData(table.X[:, : len(features)], y, features, targets, None, str(where))


def with_test_file(raw: RawData, test_path, header: list[str], split_column, where: str) -> RawData:
    """``raw`` (the data.path rows) followed by the rows of data.test_path, which must have the same
    columns (the split column may be left out); those rows are the test split."""
    test_where = Where(str(test_path))
    if raw.split is not None and (raw.split == 2).any():
        raise DataError(f"{where}: split column '{split_column}' marks rows as test, but data.test_path "
                        f"({test_where}) holds the test rows; use one or the other")
    expected = [h for h in header if h != split_column]
    targets = raw.target_names

    def pick(test_header: list[str]):
        names = [h for h in test_header if h != split_column]
        if sorted(names) != sorted(expected):
            missing = [h for h in expected if h not in names]
            extra = [h for h in names if h not in expected]
            missing = join_values(shown(h, where) for h in missing)  # a file not named as a table: no names
            extra = join_values(shown(h, test_where) for h in extra)
            what = "; ".join(part for part in (missing and f"missing {missing}", extra and f"extra {extra}") if part)
            raise DataError(f"{test_where} must have the columns of {where}: {what}")
        return training_picker(targets, None, test_where)([h for h in expected])

    table = read_columns(test_path, None, test_where, pick)
    test = _raw(table, raw.feature_names, targets, test_where)
    n, n_test = len(raw.X), len(test.X)
    numeric = raw.y.dtype.kind in "if" and test.y.dtype.kind in "if"
    y = np.concatenate([raw.y, test.y] if numeric or raw.y.dtype.kind == test.y.dtype.kind else
                       [raw.y.astype(str), test.y.astype(str)])
    split = np.zeros(n, dtype=np.int8) if raw.split is None else raw.split
    return RawData(np.concatenate([raw.X, test.X]), y, raw.feature_names, raw.target_names, raw.task, raw.where,
                   split=np.concatenate([split, np.full(n_test, 2, dtype=np.int8)]),
                   source_rows=np.concatenate([np.arange(n), np.arange(n_test)]))


def read_feature_csv(path, feature_names: list[str]) -> np.ndarray:
    """The named feature columns of a CSV or Parquet file (other columns such as the target ignored)."""
    where = Where(str(path))

    def pick(header: list[str]):
        missing = [f for f in feature_names if f not in header]
        if missing:
            raise DataError(f"{where} lacks the model's feature columns {join_values(missing)}"
                            f"{columns_text(header, where)}")
        return list(feature_names), {}

    return read_columns(path, None, where, pick).X
