"""A table's columns read by pyarrow: what the CSV fast path (``csv_fast``) and Parquet share, and
the Parquet reader.

pyarrow rather than pandas: the one library reads both formats, the columns come out typed as NumPy
arrays without a DataFrame in between (pandas' pyarrow engine is this reader plus that copy), and it
is a single dependency. A Parquet file is read a block of rows at a time straight into the one
float64 array the splits are cut from, so its table is never whole beside it. A Parquet file has
typed columns, so its problems are named here, by checks on the whole table that run only once the
fast path has found one."""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

import numpy as np

PARQUET_SUFFIXES = (".parquet", ".pq")
Opener = Callable[[], BinaryIO]  # a fresh binary stream of the table's content, from its start


class Unclean(Exception):
    """The fast CSV path cannot vouch for the file: the checked reader decides."""


class ParquetProblem(ValueError):
    """A Parquet file's one-line problem (the caller adds where)."""


def _stacked(table) -> tuple[np.ndarray, bool]:
    """A table of float64 columns without nulls as one C-ordered (rows, columns) array, and whether
    every value is finite. Filled a block of rows (about a MiB) at a time: each column slice read
    without a copy and written into rows that stay in cache, where they are checked too; column by
    column, each write would stride across the whole array."""
    X = np.empty((table.num_rows, table.num_columns))
    finite, start = True, 0
    for batch in table.to_batches(max_chunksize=_block_rows(table.num_columns)):
        finite = stack_into(X[start: start + batch.num_rows], batch.columns) and finite
        start += batch.num_rows
    return X, finite


def stack_into(rows: np.ndarray, columns) -> bool:
    """Arrow float64 columns written side by side into ``rows`` (a block of X); whether all are finite."""
    # from_dlpack: a view of arrow's buffer (to_numpy() would import pandas, ~0.5 s)
    np.stack([np.from_dlpack(column) for column in columns], axis=1, out=rows)
    return bool(np.isfinite(rows).all())


def _block_rows(width: int) -> int:
    """Rows of float64 in about a MiB: a block that stays in cache while it is copied and checked."""
    return max(64, (1 << 20) // (8 * max(1, width)))


def text_column(column, strip: bool = True) -> np.ndarray:
    """A text column's cells (stripped) as a str array: converted once per distinct value (a label
    column holds few), then spread to the rows by index."""
    import pyarrow.compute as pc

    column = pc.utf8_trim_whitespace(column) if strip else column
    encoded = column.combine_chunks().dictionary_encode()
    values = np.asarray(encoded.dictionary.to_pylist(), dtype=str)  # to_numpy() would import pandas
    return values[np.from_dlpack(encoded.indices)]


def label_values(cells: np.ndarray) -> np.ndarray:
    """A label column's text -> numbers when every cell is a finite number (int64 when integral),
    else the text itself (the checked reader's rule). Decided on the distinct values, so a text
    column (the usual case) is never cast cell by cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        distinct = pc.cast(pa.array(np.unique(cells)), pa.float64()).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return cells
    if not np.isfinite(distinct).all():
        return cells
    return integral(pc.cast(pa.array(cells), pa.float64()).to_numpy())


def integral(values: np.ndarray) -> np.ndarray:
    """int64 when every value is a whole number (labels 0, 1, 2), else the floats."""
    return values.astype(np.int64) if np.all(values == np.round(values)) else values


# -------------------------------------------------------------------------------------------- parquet
def parquet_names(open_table: Opener) -> list[str]:
    """The column names of a Parquet file; ParquetProblem if it is not one."""
    with open_table() as fh:
        return _parquet(fh).schema_arrow.names


def _parquet(fh):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # pages read as they are decoded: pre-buffering would hold every column chunk at once
        return pq.ParquetFile(fh, pre_buffer=False)
    except (pa.ArrowException, OSError, ValueError):
        raise ParquetProblem("not a readable Parquet file") from None


def parquet_columns(open_table: Opener, numeric: list[str], labels: list[str]):
    """(X float64 (n, len(numeric)), {label: array of numbers or text}) from a Parquet file; a null,
    non-finite or non-numeric feature is a ParquetProblem naming the column and the row index."""
    import pyarrow as pa

    with open_table() as fh:
        pq_file = _parquet(fh)
        try:
            try:
                X, texts = _parquet_streamed(pq_file, numeric, labels)
            except Unclean:  # a feature cell is not clean: the checks on the whole table name it
                X, texts = _parquet_checked(pq_file.read(columns=[*numeric, *labels], use_threads=True), numeric)
        except (pa.ArrowException, OSError):
            raise ParquetProblem("not a readable Parquet file") from None
    return X, {name: _parquet_label(texts.column(name), name) for name in labels}


def _parquet_streamed(pq_file, numeric: list[str], labels: list[str]):
    """(X, the label columns as a table), a block of rows at a time into X (its size is in the file's
    metadata), so the whole table is never in memory beside X; Unclean on any unclean feature."""
    import pyarrow as pa

    X = np.empty((pq_file.metadata.num_rows, len(numeric)))
    if not len(X):
        raise ParquetProblem("has a schema but no rows")
    if not all(_is_number(pq_file.schema_arrow.field(name).type) for name in numeric):
        raise Unclean
    start, texts = 0, []
    for batch in pq_file.iter_batches(batch_size=_block_rows(len(numeric)), columns=[*numeric, *labels]):
        columns = [batch.column(name) for name in numeric]
        if any(column.null_count for column in columns) or start + batch.num_rows > len(X):
            raise Unclean
        rows = slice(start, start + batch.num_rows)
        np.stack([np.from_dlpack(column.cast(pa.float64())) for column in columns], axis=1, out=X[rows])
        if not np.isfinite(X[rows]).all():
            raise Unclean
        texts.append(batch.select(labels))
        start += batch.num_rows
    if start != len(X):
        raise Unclean
    return X, pa.Table.from_batches(texts)


def _parquet_checked(table, numeric: list[str]):
    """The whole table's features checked column by column, naming the first problem (the order of
    the checks decides which of several problems is named)."""
    if table.num_rows == 0:
        raise ParquetProblem("has a schema but no rows")
    for name in numeric:
        table = table.set_column(table.schema.get_field_index(name), name,
                                 _parquet_numbers(table.column(name), name))
    X, finite = _stacked(table.select(numeric))
    if not finite:  # the error path: find the first bad cell
        bad = np.flatnonzero(~np.isfinite(X).all(axis=1))
        j = int(np.flatnonzero(~np.isfinite(X[bad[0]]))[0])
        raise ParquetProblem(f"column '{numeric[j]}' has a missing or infinite value ({X[bad[0], j]} at row "
                             f"index {bad[0]})")
    return X, table


def _is_number(kind) -> bool:
    import pyarrow as pa

    kind = kind.value_type if pa.types.is_dictionary(kind) else kind
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def _first_null(column) -> int:
    return int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])


def _parquet_numbers(column, name: str) -> np.ndarray:
    import pyarrow as pa

    if not _is_number(column.type):
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        raise ParquetProblem(f"column '{name}' is not numeric (type {kind})")
    if column.null_count:
        raise ParquetProblem(f"column '{name}' has an empty value at row index {_first_null(column)}")
    return column.cast(pa.float64())


def _parquet_label(column, name: str) -> np.ndarray:
    import pyarrow as pa

    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if column.null_count:
        raise ParquetProblem(f"column '{name}' has an empty value at row index {_first_null(column)}")
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        values = np.from_dlpack(column.cast(pa.float64()).combine_chunks())
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            raise ParquetProblem(f"column '{name}' has a missing or infinite value ({values[bad[0]]} at row "
                                 f"index {bad[0]})")
        return integral(values)
    if pa.types.is_boolean(kind):
        return np.where(column.to_numpy(zero_copy_only=False), "True", "False")
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return text_column(column, strip=False)
    raise ParquetProblem(f"column '{name}' has type {kind}; a label column holds numbers or text")
