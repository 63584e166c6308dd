"""The fast paths of reading and splitting a table, each against the reference it must equal bit for bit:
the threaded CSV read against the checked reader on awkward files (and which of pyarrow's two row
finders it used), the stratified draw against scikit-learn's train_test_split, the block-wise standard
deviation against numpy's."""

from __future__ import annotations

import io

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

import mlrun.data.copies as copies
import mlrun.data.csv_fast as csv_fast
import mlrun.data.user_csv as user_csv
from mlrun.data.checked_csv import Where, checked_columns
from mlrun.data.dataset import DataError
from mlrun.data.sources import _auto_task, _encode, _std
from mlrun.data.splits import take, unique_codes

AWKWARD = {
    "plain": "a,b,label\n1,2.5,x\n-3,4e-3,y\n",
    "quoted header": '"a","b","label"\n1,2.5,x\n-3,4e-3,y\n',
    "quoted cells": 'a,b,label\n"1","2.5","x, or z"\n-3,4e-3,"y ""q"""\n',
    "crlf": "a,b,label\r\n1,2.5,x\r\n-3,4e-3,y\r\n",
    "quoted newline": 'a,b,label\n1,2.5,"x\ny"\n-3,4e-3,y\n',
    "bom": "\ufeffa,b,label\n1,2.5,x\n-3,4e-3,y\n",
    "bom quoted header": '\ufeff"a","b","label"\n1,2.5,x\n-3,4e-3,y\n',
    "spaces": "a , b,label\n 1 ,2.5 , x \n-3, 4e-3,y\n",
    "no final newline": "a,b,label\n1,2.5,x\n-3,4e-3,y",
    "blank lines": "a,b,label\n\n1,2.5,x\n\n-3,4e-3,y\n\n",
    "quote in a later row": "a,b,label\n1,2.5,x\n-3,4e-3,\"y\"\n",
    "header across lines": 'a,b,"la\nbel"\n1,2.5,x\n-3,4e-3,y\n',
}


def _fast(text: str, target: str):
    where = Where("t.csv")
    return user_csv.read_columns("t.csv", text.encode(), where, user_csv.training_picker([target], None, where))


def _checked(text: str, target: str):
    where = Where("t.csv")
    return checked_columns(text.lstrip("\ufeff"), where, user_csv.training_picker([target], None, where))


@pytest.mark.parametrize("name", AWKWARD)
def test_awkward_files_read_as_the_checked_reader_reads_them(name, monkeypatch):
    text = AWKWARD[name]
    target = "la\nbel" if name == "header across lines" else "label"
    modes = []
    real = csv_fast._parsed
    monkeypatch.setattr(csv_fast, "_parsed", lambda fh, types, newlines_in_values: modes.append(
        newlines_in_values) or real(fh, types, newlines_in_values))
    fast = _fast(text, target)
    header, X, labels, _ = _checked(text, target)
    assert fast.header == header
    np.testing.assert_array_equal(fast.X, X)
    assert fast.X.dtype == X.dtype == np.float64
    assert fast.labels[target].tolist() == labels[target].tolist()
    # rows end at every line break only when no data row holds a quote (pyarrow skips blank lines too)
    expected = {"quoted cells": [True], "quoted newline": [True],
                "quote in a later row": [True], "header across lines": [True]}.get(name, [False])
    assert modes == expected


@pytest.mark.parametrize(("text", "message"), [
    ("a,b,label,\n1,2,x,\n", "t.csv: column 4 has no name in the header row"),
    ("a,b,label\n1,2,x,\n3,4,y\n", "t.csv: line 2 has 4 fields, expected 3"),
    ('a,b,label\n1,2,"x\ny",\n3,4,y\n', "t.csv: line 2 has 4 fields, expected 3"),
    ("a,b,label\r\n1,,x\r\n3,4,y\r\n", "t.csv: column 'b' has an empty value on line 2"),
    ('a,b,label\n1,"x\ny",z\n3,nan,y\n', "t.csv: column 'b' is not numeric (e.g. 'x\\ny' on line 2)"),
    ("\ufeffa,b,label\n1,2,x\n3,inf,y\n", "t.csv: column 'b' has a missing or infinite value ('inf' on line 3)"),
])
def test_trailing_delimiters_and_bad_cells_keep_the_checked_readers_messages(text, message):
    with pytest.raises(DataError) as fast:
        _fast(text, "label")
    with pytest.raises(DataError) as checked:
        _checked(text, "label")
    assert str(fast.value) == str(checked.value) == message


@pytest.mark.parametrize(("text", "unquoted"), [
    (b'"a","b"\n1,2\n', True),
    (b"a,b\r\n1,2\r\n", True),
    (b"a,b\n1,\"2\"\n", False),
    (b"a,b\r1,2\r", False),  # old Mac line ends: the first line is the whole file
    (b"\na,b\n1,2\n", False),  # a blank first line: the header is further down
    (b'a,"b\n"\n1,2\n', False),
    (b",,\na,b\n1,2\n", False),  # a first row of empty cells is skipped: the header is the next one
])
def test_rows_are_cut_at_every_line_break_only_when_that_is_exact(text, unquoted):
    header = csv_fast.csv_header(lambda: io.BytesIO(text))
    assert csv_fast._unquoted_rows(io.BytesIO(text), header) is unquoted


def test_a_quote_past_the_first_scan_block_is_found(monkeypatch):
    monkeypatch.setattr(csv_fast, "SCAN_BYTES", 16)
    body = b"a,b\n" + b"1,2\n" * 40
    assert csv_fast._unquoted_rows(io.BytesIO(body), ["a", "b"]) is True
    assert csv_fast._unquoted_rows(io.BytesIO(body + b'3,"4"\n'), ["a", "b"]) is False


def test_the_stratified_draw_is_train_test_splits_exactly():
    rng = np.random.default_rng(1)
    for _ in range(200):
        n, k = int(rng.integers(10, 300)), int(rng.integers(2, 6))
        labels = rng.integers(0, k, size=n)
        labels[: 2 * k] = np.repeat(np.arange(k), 2)
        idx = np.sort(rng.choice(3 * n, size=n, replace=False))  # a part of the rows, as validation draws
        codes = np.zeros(3 * n, dtype=np.int64)
        codes[idx] = labels
        n_take, seed = int(rng.integers(k, n - k)), int(rng.integers(0, 10_000))
        kept, taken = take(idx, codes, n_take, True, seed, "test", None)
        ref_kept, ref_taken = train_test_split(idx, test_size=n_take, random_state=seed, stratify=labels)
        assert kept.dtype == ref_kept.dtype
        np.testing.assert_array_equal(kept, ref_kept)
        np.testing.assert_array_equal(taken, ref_taken)


def test_without_the_private_helper_the_split_is_scikit_learns_own(monkeypatch):
    from mlrun.data import splits

    def missing(*args):
        raise ImportError("cannot import name '_approximate_mode'")

    monkeypatch.setattr(splits, "stratified_draw", missing)
    labels = np.repeat([0, 1, 2], [30, 50, 20])
    idx = np.arange(100)
    kept, taken = take(idx, labels, 25, True, 7, "test", None)
    ref_kept, ref_taken = train_test_split(idx, test_size=25, random_state=7, stratify=labels)
    np.testing.assert_array_equal(kept, ref_kept)
    np.testing.assert_array_equal(taken, ref_taken)


@pytest.mark.parametrize("width", [1, 2, 3, 30])
@pytest.mark.parametrize("rows", [1, 4095, 4097, 20_000])
@pytest.mark.parametrize("order", ["C", "F"])
def test_the_block_wise_std_is_numpys_bit_for_bit(width, rows, order):
    # values over six decades, so that summing pairwise or row after row differ in the last bits
    rng = np.random.default_rng(width * rows)
    X = np.asarray(rng.normal(size=(rows, width)) * 10.0 ** rng.uniform(-3, 3, size=(rows, width)), order=order)
    np.testing.assert_array_equal(_std(X, X.mean(axis=0)), X.std(axis=0))


@pytest.fixture
def three_threads(monkeypatch):
    """Every copy, however small, spread over three threads."""
    monkeypatch.setattr(copies, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(copies, "threads", lambda: 3)


def test_a_gather_on_several_threads_is_the_plain_gather(three_threads):
    X = np.random.default_rng(0).normal(size=(1000, 7))
    for idx in (np.array([5, -1, 5, 0, 999]), np.random.default_rng(1).permutation(1000)[:601], np.arange(0)):
        out = copies.gathered(X, idx)
        assert out.flags.c_contiguous and out.dtype == X.dtype
        np.testing.assert_array_equal(out, X[idx])
    mask = np.arange(1000) % 3 == 0  # a boolean mask is not an index list: numpy's own indexing
    np.testing.assert_array_equal(copies.gathered(X, mask), X[mask])


def test_chunks_stacked_on_several_threads_give_the_exact_cells(three_threads, monkeypatch):
    monkeypatch.setattr(csv_fast, "BLOCK_BYTES", 512)  # dozens of chunks, cut into three runs
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 3)).round(4)
    text = "a,b,c,label\n" + "".join(f"{a},{b},{c},{'yes' if a > 0 else 'no'}\n" for a, b, c in X.tolist())
    np.testing.assert_array_equal(_fast(text, "label").X, X)
    bad = text.replace(f"{X[350, 1]},", "inf,", 1)  # a cell in the last run
    with pytest.raises(DataError, match="has a missing or infinite value \\('inf' on line 352\\)"):
        _fast(bad, "label")


@pytest.mark.parametrize("y", [
    np.array(["yes", "no", "no", "maybe", "yes"]),
    np.array([3, -1, 3, 7, 0, 0]),
    np.array([0.5, -0.0, 0.0, 2.0, 0.5]),
    np.array(["b", 2, "a"], dtype=object).astype(str),
    np.array([[1], [0], [1]]),
])
def test_class_codes_are_np_uniques_inverse(y):
    classes, codes = _encode(y, "classification")
    ref_classes, ref_codes = np.unique(y, return_inverse=True)
    np.testing.assert_array_equal(classes, ref_classes)
    assert codes.dtype == np.int64
    np.testing.assert_array_equal(codes, ref_codes.ravel())


def test_text_labels_are_a_classification_as_type_of_target_says():
    from sklearn.utils.multiclass import type_of_target

    for y in (np.array(["a", "b", "a"]), np.array(["a", "b", "c"]), np.array(["1.5", "2"]), np.array(["only"])):
        assert type_of_target(y) in ("binary", "multiclass")
        assert _auto_task(y) == "classification"


def test_the_parsed_table_is_freed_before_its_pages_are_handed_back(tmp_path, monkeypatch):
    import pyarrow as pa

    # in chunks of 4 KiB: the last chunk parsed may still be held by pyarrow's threads for a moment
    monkeypatch.setattr(csv_fast, "BLOCK_BYTES", 1 << 12)
    held, pool = [], pa.system_memory_pool()
    monkeypatch.setattr(csv_fast, "_hand_back_freed_pages", lambda: held.append(pool.bytes_allocated()))
    rng = np.random.default_rng(3)
    X = rng.normal(size=(5000, 8)).round(4)
    text = ",".join(f"x{i}" for i in range(8)) + ",label\n" + "".join(
        ",".join(map(str, row)) + ",a\n" for row in X.tolist())
    before = pool.bytes_allocated()
    np.testing.assert_array_equal(_fast(text, "label").X, X)
    assert len(held) == 1 and held[0] - before < X.nbytes / 4  # the label column, not the numbers


@pytest.mark.parametrize("labels", [
    np.array([2, 0, 2, 5, 0, 2]), np.array([0, 0, 1], dtype=np.int8), np.array([7]), np.array([3, -1, 3]),
    np.array([10**9, 1]), np.array([1.0, 0.0, 1.0]), np.array(["b", "a", "b"]),
])
def test_class_codes_are_counted_as_np_unique_finds_them(labels):
    mine = unique_codes(labels)
    ref = np.unique(labels, return_inverse=True, return_counts=True)
    for a, b in zip(mine, ref):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
