"""A table read a block at a time: CSV batches copied into one float64 array as they are parsed (its
rows guessed, grown, cut), Parquet batches likewise, labels converted per distinct value, and what
that costs in memory; every problem still named as the checked readers name it."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mlrun.data.csv_fast as csv_fast
import mlrun.data.tables as tables
import mlrun.data.user_csv as user_csv
from mlrun.data.checked_csv import Where
from mlrun.data.dataset import DataError
from mlrun.data.sources import load_dataset
from mlrun.data.tables import label_values

_POOLS_KEPT = []


@pytest.fixture
def small_blocks(monkeypatch):
    """Chunks of 2 KiB of CSV text, so a file of a few hundred rows spans many of them."""
    monkeypatch.setattr(csv_fast, "BLOCK_BYTES", 2048)


def _read(path, target="label"):
    where = Where(str(path))
    return user_csv.read_columns(path, None, where, user_csv.training_picker([target], None, where))


def _write(path, rows):
    path.write_text("a,b,label\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
    return path


def _fast_path_only(monkeypatch):
    monkeypatch.setattr(user_csv, "checked_columns", lambda *args: pytest.fail("the checked reader was used"))


@pytest.mark.parametrize("long_first", [True, False], ids=["rows-guessed-low", "rows-guessed-high"])
def test_many_batches_give_the_exact_cells(tmp_path, small_blocks, monkeypatch, long_first):
    # the first batch's rows per byte sizes the array: long rows first guess too few rows (it grows),
    # short rows first too many (it is cut)
    n = 600
    a = np.arange(n) * 1.25 - 300
    b = np.where((np.arange(n) < n // 3) == long_first, 1 / 3, 7.0)  # 0.3333333333333333 or 7.0
    label = np.where(np.arange(n) % 3 == 0, "yes", " no ")
    path = _write(tmp_path / "t.csv", zip(a, b, label))
    _fast_path_only(monkeypatch)
    table = _read(path)
    assert table.X.shape == (n, 2) and table.X.flags.c_contiguous
    np.testing.assert_array_equal(table.X, np.column_stack([a, b]))
    assert table.labels["label"].tolist() == [s.strip() for s in label]


@pytest.mark.parametrize(("cell", "message"), [
    ("", "t.csv: column 'b' has an empty value on line 502"),
    ("nan", "t.csv: column 'b' has a missing or infinite value \\('nan' on line 502\\)"),
    ("-inf", "t.csv: column 'b' has a missing or infinite value \\('-inf' on line 502\\)"),
    ("1.5x", "t.csv: column 'b' is not numeric \\(e.g. '1.5x' on line 502\\)"),
])
def test_a_bad_cell_in_a_later_batch_is_named_by_line(tmp_path, small_blocks, cell, message):
    rows = [(i, i / 7, "yes" if i % 2 else "no") for i in range(600)]
    rows[500] = (500, cell, "no")  # line 502: the header is line 1
    path = _write(tmp_path / "t.csv", rows)
    with pytest.raises(DataError, match=f"^{tmp_path}/{message}$"):
        load_dataset({"dataset": "csv", "path": str(path), "target": "label"})


def test_a_csv_read_holds_its_table_and_its_array_once(tmp_path, monkeypatch):
    # 20,000 rows x 20 features (3.2 MB as float64, 1.8 MB of text) in 16 KiB chunks: arrow holds the
    # parsed table once (its float64 columns are the array's size), and Python holds the array once
    # (no column copies, no second stack)
    monkeypatch.setattr(csv_fast, "BLOCK_BYTES", 1 << 14)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 20)).round(1)  # 4-5 characters a cell: the text is half the array
    header = ",".join(f"x{i}" for i in range(20)) + ",label\n"
    body = "\n".join(",".join(map(str, row)) + ("," + ("u" if row[0] > 0 else "d")) for row in X.tolist())
    path = tmp_path / "t.csv"
    path.write_text(header + body + "\n")
    _read(_write(tmp_path / "warm.csv", [(1, 2, "u")]))  # the lazy imports, before anything is counted
    pool = pa.proxy_memory_pool(pa.system_memory_pool())
    # kept for the whole session: pyarrow's threads may free a buffer into it after the read returns
    # (a pool destroyed under them crashes the process)
    _POOLS_KEPT.append(pool)
    monkeypatch.setattr(pa, "system_memory_pool", lambda: pool)
    tracemalloc.start()
    try:
        table = _read(path)
        numpy_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(table.X, X)
    # the table once, and at most the file's text that the threads read ahead of the parse
    assert 0.9 * table.X.nbytes < pool.max_memory() < 1.1 * table.X.nbytes + path.stat().st_size
    assert numpy_peak < 1.25 * table.X.nbytes + 4 * csv_fast.BLOCK_BYTES


@pytest.mark.parametrize(("cells", "expected"), [
    (["2", "0", "1", "2"], np.array([2, 0, 1, 2])),
    (["0.5", "1", "0.5"], np.array([0.5, 1.0, 0.5])),
    (["1", "nan", "1"], np.array(["1", "nan", "1"])),
    (["1", "x", "2"], np.array(["1", "x", "2"])),
    (["1_000", "2"], np.array(["1_000", "2"])),  # arrow's rule for labels: not a number
])
def test_labels_become_numbers_only_when_every_cell_is_one(cells, expected):
    values = label_values(np.array(cells))
    assert values.dtype == expected.dtype and values.tolist() == expected.tolist()


def _parquet(path, columns, row_group_size):
    pq.write_table(pa.table(columns), path, row_group_size=row_group_size)
    return path


def test_parquet_row_groups_are_stacked_exactly(tmp_path, monkeypatch):
    n = 5_000
    a, b = np.arange(n, dtype=np.int32), np.linspace(-1, 1, n, dtype=np.float32)
    label = np.where(np.arange(n) % 4 == 0, "x", "y")
    path = _parquet(tmp_path / "t.parquet", {"a": a, "b": b, "label": pa.array(label).dictionary_encode()}, 700)
    monkeypatch.setattr(tables, "_parquet_checked", lambda *args: pytest.fail("the whole-table checks ran"))
    table = _read(path)
    np.testing.assert_array_equal(table.X, np.column_stack([a, b.astype(np.float64)]))
    assert table.labels["label"].tolist() == label.tolist()


@pytest.mark.parametrize(("columns", "message"), [
    # in a later row group, at the row index in the whole file
    ({"a": [1.0] * 2_000 + [None] + [1.0] * 9, "label": ["x"] * 2_010},
     "column 'a' has an empty value at row index 2000"),
    ({"a": [1.0] * 1_500 + [np.nan] + [1.0] * 9, "label": ["x"] * 1_510},
     "column 'a' has a missing or infinite value \\(nan at row index 1500\\)"),
    # two problems: the first column's is named, as by the checks on the whole table
    ({"a": [1.0] * 1_500 + [None] + [1.0] * 9, "b": [np.inf] + [1.0] * 1_509, "label": ["x"] * 1_510},
     "column 'a' has an empty value at row index 1500"),
    ({"a": [1.0] * 1_500 + [None] + [1.0] * 9, "b": ["p"] * 1_510, "label": ["x"] * 1_510},
     "column 'a' has an empty value at row index 1500"),
])
def test_parquet_problems_in_later_row_groups_are_named_exactly(tmp_path, columns, message):
    path = _parquet(tmp_path / "t.parquet", columns, 400)
    with pytest.raises(DataError, match=f"^{tmp_path}/t.parquet: {message}$"):
        load_dataset({"dataset": "csv", "path": str(path), "target": "label"})
