"""The user's table read by pyarrow (CSV and Parquet), published splits (data.test_path,
data.split_column), and the checked reader taking over for what the fast path cannot vouch for."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mlrun.data.user_csv as user_csv
from mlrun.data.dataset import DataError
from mlrun.data.sources import load_dataset
from mlrun.data.user_csv import read_feature_csv
from mlrun.spec.errors import ConfigError
from mlrun.spec.loading import load_config


def _table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n).round(4), rng.integers(0, 100, n)
    label = np.where(a > 0, "up", "down")
    return a, b, label


def _write_csv(path, a, b, label, extra=None):
    head = "a,b,label" + ("," + extra[0] if extra else "")
    lines = [f"{x},{y},{z}" + ("," + str(extra[1][i]) if extra else "") for i, (x, y, z) in enumerate(zip(a, b, label))]
    path.write_text(head + "\n" + "\n".join(lines) + "\n")
    return path


def _checked_calls(monkeypatch):
    calls = []
    real = user_csv.checked_columns
    monkeypatch.setattr(user_csv, "checked_columns", lambda *args: calls.append(1) or real(*args))
    return calls


def test_a_clean_csv_takes_the_fast_path_and_equals_the_checked_reader(tmp_path, monkeypatch):
    a, b, label = _table()
    path = _write_csv(tmp_path / "t.csv", a, b, label)
    calls = _checked_calls(monkeypatch)
    fast = load_dataset({"dataset": "csv", "path": str(path), "target": "label"})
    assert calls == []
    checked = load_dataset({"dataset": "csv", "path": "t.csv", "target": "label"},
                           csv_text=path.read_text().replace("\n", "\n  \n"))  # blank rows: checked path
    assert calls == [1]
    for key in ("X_train", "X_val", "X_test", "y_train", "y_test", "rows_test"):
        np.testing.assert_array_equal(getattr(fast, key), getattr(checked, key))
    assert fast.classes.tolist() == ["down", "up"]


def test_a_form_python_reads_and_pyarrow_does_not_is_still_read(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    path.write_text("a,y\n1_000,x\n2,y\n3,x\n4,y\n5,x\n6,y\n7,x\n8,y\n9,x\n10,y\n")
    calls = _checked_calls(monkeypatch)
    X = read_feature_csv(path, ["a"])
    assert calls == [1] and X[:, 0].tolist() == [1000.0, 2, 3, 4, 5, 6, 7, 8, 9, 10]


@pytest.mark.parametrize(("text", "message"), [
    ("a,y\n1,x\n2,\n3,y\n", "t.csv: target column 'y' has an empty value on line 3"),
    ("a,y\n1,x\n2,y,z\n", "t.csv: line 3 has 3 fields, expected 2"),
])
def test_what_the_fast_path_cannot_vouch_for_gets_the_checked_readers_message(tmp_path, text, message):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as info:
        load_dataset({"dataset": "csv", "path": str(path), "target": "y"})
    assert str(tmp_path) in str(info.value) and "\n" not in str(info.value)


def test_parquet_gives_the_csv_numbers(tmp_path):
    a, b, label = _table()
    csv_path = _write_csv(tmp_path / "t.csv", a, b, label)
    pq.write_table(pa.table({"a": a, "b": b, "label": pa.array(label).dictionary_encode()}), tmp_path / "t.parquet")
    d_csv = load_dataset({"dataset": "csv", "path": str(csv_path), "target": "label"})
    d_pq = load_dataset({"dataset": "csv", "path": str(tmp_path / "t.parquet"), "target": "label"})
    np.testing.assert_array_equal(d_csv.X_train, d_pq.X_train)
    np.testing.assert_array_equal(d_csv.y_test, d_pq.y_test)
    assert d_pq.name == "t" and d_pq.feature_names == ["a", "b"]
    content = user_csv.read_text(tmp_path / "t.parquet")  # what a sweep sends its workers: the file's bytes
    d_sent = load_dataset({"dataset": "csv", "path": "elsewhere/t.parquet", "target": "label"}, csv_text=content)
    assert isinstance(content, bytes) and np.array_equal(d_sent.X_test, d_pq.X_test)
    X = read_feature_csv(tmp_path / "t.parquet", ["b", "a"])
    np.testing.assert_array_equal(X, np.column_stack([b, a]))


@pytest.mark.parametrize(("columns", "message"), [
    ({"a": [1.0, None, 3.0], "label": ["x", "y", "x"]}, "t.parquet: column 'a' has an empty value at row index 1"),
    ({"a": [1.0, 2.0, np.inf], "label": ["x", "y", "x"]},
     "t.parquet: column 'a' has a missing or infinite value \\(inf at row index 2\\)"),
    ({"a": ["p", "q", "r"], "label": ["x", "y", "x"]}, "t.parquet: column 'a' is not numeric \\(type string\\)"),
    ({"a": [1, 2, 3], "other": ["x", "y", "x"]}, "target column .label. not in .*t.parquet; columns: a, other"),
])
def test_parquet_problems_are_one_line(tmp_path, columns, message):
    pq.write_table(pa.table(columns), tmp_path / "t.parquet")
    with pytest.raises(DataError, match=message):
        load_dataset({"dataset": "csv", "path": str(tmp_path / "t.parquet"), "target": "label"})


def test_a_file_named_parquet_that_is_not_one(tmp_path):
    path = tmp_path / "t.parquet"
    path.write_text("root:x:0:0:root:/root:/bin/bash\n")
    with pytest.raises(DataError, match="t.parquet: not a readable Parquet file") as info:
        load_dataset({"dataset": "csv", "path": str(path), "target": "y"})
    assert "bash" not in str(info.value)


# ---------------------------------------------------------------------------------- published splits
def test_a_split_column_is_used_exactly(tmp_path):
    a, b, label = _table(40)
    split = np.array(["train"] * 25 + ["validation"] * 5 + ["test"] * 10)
    path = _write_csv(tmp_path / "t.csv", a, b, label, ("fold", split))
    d = load_dataset({"dataset": "csv", "path": str(path), "target": "label", "split_column": "fold"})
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == (25, 5, 10)
    assert d.feature_names == ["a", "b"] and d.rows_test.tolist() == list(range(30, 40))
    raw_test = d.X_test * d.scaler["scale"] + d.scaler["center"]
    np.testing.assert_allclose(raw_test, np.column_stack([a, b])[30:], atol=1e-9)
    assert d.scaler["center"][0] == pytest.approx(a[:25].mean())  # scaled on the published training rows


def test_a_split_column_without_validation_rows_draws_validation_from_train(tmp_path):
    a, b, label = _table(40)
    split = np.array(["train"] * 30 + ["Test"] * 10)  # case and spaces do not matter
    path = _write_csv(tmp_path / "t.csv", a, b, label, ("fold", split))
    d = load_dataset({"dataset": "csv", "path": str(path), "target": "label", "split_column": "fold",
                      "validation_size": 0.1, "stratify": False})
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == (26, 4, 10)
    assert d.rows_test.tolist() == list(range(30, 40))


@pytest.mark.parametrize(("fold", "message"), [
    (["train"] * 5 + ["dev"] + ["test"] * 4,
     "t.csv: split column 'fold' has 'dev' on line 7; its values must be train, validation, test"),
    (["train"] * 10, "t.csv: split column 'fold' marks no row as test"),
    (["test"] * 10, "t.csv: split column 'fold' marks no row as train"),
])
def test_split_column_values_are_checked(tmp_path, fold, message):
    a, b, label = _table(10)
    path = _write_csv(tmp_path / "t.csv", a, b, label, ("fold", fold))
    with pytest.raises(DataError, match=message):
        load_dataset({"dataset": "csv", "path": str(path), "target": "label", "split_column": "fold"})


def test_a_missing_split_column_names_the_columns(tmp_path):
    a, b, label = _table(10)
    path = _write_csv(tmp_path / "t.csv", a, b, label)
    with pytest.raises(DataError, match="split column 'fold' not in .*t.csv; columns: a, b, label"):
        load_dataset({"dataset": "csv", "path": str(path), "target": "label", "split_column": "fold"})


def test_a_test_file_is_the_test_split(tmp_path):
    a, b, label = _table(50)
    train = _write_csv(tmp_path / "train.csv", a[:40], b[:40], label[:40])
    pq.write_table(pa.table({"label": label[40:], "b": b[40:], "a": a[40:]}), tmp_path / "test.parquet")
    d = load_dataset({"dataset": "csv", "path": str(train), "target": "label",
                      "test_path": str(tmp_path / "test.parquet"), "stratify": False})
    assert len(d.y_test) == 10 and len(d.y_train) + len(d.y_val) == 40
    assert d.rows_test.tolist() == list(range(10))  # rows of the test file
    raw_test = d.X_test * d.scaler["scale"] + d.scaler["center"]
    np.testing.assert_allclose(raw_test, np.column_stack([a, b])[40:], atol=1e-9)


def test_a_test_file_with_other_columns_is_refused(tmp_path):
    a, b, label = _table(20)
    train = _write_csv(tmp_path / "train.csv", a, b, label)
    other = tmp_path / "test.csv"
    other.write_text("a,c,label\n1,2,up\n")
    with pytest.raises(DataError, match="test.csv must have the columns of .*train.csv: missing b; extra c"):
        load_dataset({"dataset": "csv", "path": str(train), "target": "label", "test_path": str(other)})


def test_the_spec_checks_the_published_split_keys(tmp_path):
    a, b, label = _table(20)
    train = _write_csv(tmp_path / "train.csv", a, b, label)
    spec = {"data": {"dataset": "csv", "path": str(train), "target": "label"}}
    with pytest.raises(ConfigError, match="data.test_path: test file not found: .*nowhere.csv"):
        load_config({**spec, "data": {**spec["data"], "test_path": "nowhere.csv"}})
    with pytest.raises(ConfigError, match="data.split_column: the split column 'label' is also data.target"):
        load_config({**spec, "data": {**spec["data"], "split_column": "label"}})
    with pytest.raises(ConfigError, match="data.split_column applies to dataset csv only"):
        load_config({"data": {"dataset": "iris", "split_column": "fold"}})
    assert "test_path" not in load_config(spec).to_dict()["data"]  # a spec without them writes what it wrote
    (tmp_path / "specs").mkdir()
    _write_csv(tmp_path / "specs" / "test.csv", a, b, label)
    (tmp_path / "specs" / "s.yaml").write_text(f"data: {{dataset: csv, path: {train}, target: label, "
                                               "test_path: test.csv}\n")
    assert load_config(tmp_path / "specs" / "s.yaml").data.test_path == str(tmp_path / "specs" / "test.csv")
