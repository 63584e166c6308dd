"""Loading, splitting, scaling and encoding (mlrun.data: sources, user_csv, dataset)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import datasets as skd

from mlrun.data.dataset import DataError, Dataset, Preprocessor
from mlrun.data.names import DATASETS, DEFAULTS
from mlrun.data.sources import load_dataset
from mlrun.data.user_csv import read_feature_csv, read_text
from mlrun.spec.models import DataSpec

PENGUINS = Path(__file__).resolve().parents[1] / "configs" / "examples" / "penguins_small.csv"

# name -> (task, rows, features, outputs)
SHAPES = {
    "iris": ("classification", 150, 4, 3),
    "digits": ("classification", 1797, 64, 10),
    "wine": ("classification", 178, 13, 3),
    "breast_cancer": ("classification", 569, 30, 2),
    "diabetes": ("regression", 442, 10, 1),
    "linnerud": ("regression", 20, 3, 3),
    "make_moons": ("classification", 100, 2, 2),
    "make_circles": ("classification", 100, 2, 2),
    "make_blobs": ("classification", 100, 2, 3),
    "make_classification": ("classification", 100, 20, 2),
    "make_regression": ("regression", 100, 100, 1),
    "make_friedman1": ("regression", 100, 10, 1),
}


def _csv(text: str, task: str = "auto", **data) -> Dataset:
    return load_dataset({"dataset": "csv", "path": "mem.csv", **data}, task=task, csv_text=text)


def _splits(d: Dataset):
    return [(d.X_train, d.y_train), (d.X_val, d.y_val), (d.X_test, d.y_test)]


def _rows_in(rows: np.ndarray, table: np.ndarray) -> bool:
    """Every row of `rows` equals (to 1e-9) some row of `table`."""
    return all(np.isclose(table, r, rtol=0, atol=1e-9).all(axis=1).any() for r in rows)


# ----------------------------------------------------------------------------------------- loaders
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_loader_shapes_dtypes_and_task(name):
    task, n, n_features, n_outputs = SHAPES[name]
    d = load_dataset({"dataset": name})
    assert (d.task, d.n_features, d.n_outputs, d.name) == (task, n_features, n_outputs, name)
    assert sum(len(X) for X, _ in _splits(d)) == n
    assert len(d.feature_names) == n_features
    for X, y in _splits(d):
        assert X.dtype == np.float64 and X.ndim == 2 and X.shape[1] == n_features and len(y) == len(X)
        if task == "classification":
            assert y.dtype == np.int64 and y.ndim == 1 and y.min() >= 0 and y.max() < n_outputs
        else:
            assert y.dtype == np.float64 and y.shape == (len(X), n_outputs)
    assert (d.classes is None) == (task == "regression")
    assert (d.y_mean is None) == (task == "classification")
    assert (d.positive_class is not None) == (task == "classification" and n_outputs == 2)


def test_readable_labels_for_named_sets():
    assert load_dataset({"dataset": "iris"}).classes.tolist() == ["setosa", "versicolor", "virginica"]
    assert load_dataset({"dataset": "digits"}).classes.tolist() == list(range(10))


def test_generator_params_pass_through_and_seed():
    d = load_dataset({"dataset": "make_regression", "params": {"n_samples": 50, "n_targets": 2,
                                                               "n_features": 3}})
    assert d.n_outputs == 2 and d.y_train.shape[1] == 2 and d.n_features == 3
    assert sum(len(X) for X, _ in _splits(d)) == 50
    # the generator draws from random_state unless params give one
    X0, _ = skd.make_moons(n_samples=40, noise=0.1, random_state=7)
    d = load_dataset({"dataset": "make_moons", "params": {"n_samples": 40, "noise": 0.1},
                      "scale": "none"}, random_state=7)
    assert _rows_in(d.X_train, X0)
    d = load_dataset({"dataset": "make_moons", "params": {"n_samples": 40, "noise": 0.1, "random_state": 7},
                      "scale": "none"}, random_state=3)
    assert _rows_in(d.X_train, X0)


def test_bad_generator_value_is_named():  # names, datasets and ranges are the spec's (test_config)
    with pytest.raises(DataError, match="make_moons: The 'n_samples' parameter"):
        load_dataset({"dataset": "make_moons", "params": {"n_samples": -1}})


def test_the_defaults_for_a_partial_section_are_the_specs():
    spec = DataSpec().model_dump()
    assert {k: v for k, v in DEFAULTS.items() if k not in ("dataset", "params")} == \
        {k: v for k, v in spec.items() if k not in ("dataset", "params")}
    assert list(DEFAULTS) == list(spec) and DATASETS[-1] == "csv"


# ------------------------------------------------------------------------------------------ splits
@pytest.mark.parametrize(("name", "test_size", "val_size", "sizes"), [
    ("iris", 0.2, 0.1, (105, 15, 30)),
    ("iris", 0.25, 0.15, (89, 23, 38)),  # 37.5 -> 38, 22.5 -> 23: rounded to nearest
    ("digits", 0.2, 0.1, (1258, 180, 359)),
    ("diabetes", 0.3, 0.0, (309, 0, 133)),
])
def test_split_sizes_are_fractions_of_the_whole(name, test_size, val_size, sizes):
    d = load_dataset({"dataset": name, "test_size": test_size, "validation_size": val_size})
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == sizes


@settings(deadline=None, max_examples=25)
@given(n=st.integers(30, 300), test=st.floats(0.05, 0.4), val=st.floats(0.0, 0.3))
def test_split_sizes_property(n, test, val):
    d = load_dataset({"dataset": "make_classification", "params": {"n_samples": n, "n_features": 4},
                      "test_size": test, "validation_size": val, "stratify": False})
    expected_test = max(1, int(np.floor(test * n + 0.5)))
    expected_val = 0 if val == 0 else max(1, int(np.floor(val * n + 0.5)))
    assert (len(d.y_test), len(d.y_val)) == (expected_test, expected_val)
    assert len(d.y_train) == n - expected_test - expected_val


def test_stratification_preserves_class_proportions():
    d = load_dataset({"dataset": "iris"})
    for _, y in _splits(d):
        counts = np.bincount(y, minlength=3)
        assert counts.max() - counts.min() == 0  # 150 = 50 x 3: 35/5/10 per class
    d = load_dataset({"dataset": "breast_cancer"})
    share = 212 / 569  # malignant
    for _, y in _splits(d):
        assert abs(np.sum(y == d.positive_class) - share * len(y)) <= 1


def test_unstratified_split_differs_but_has_same_sizes():
    a = load_dataset({"dataset": "iris", "stratify": False}, random_state=1)
    b = load_dataset({"dataset": "iris"}, random_state=1)
    assert len(a.y_test) == len(b.y_test) == 30
    assert np.bincount(a.y_test, minlength=3).tolist() != [10, 10, 10]


def test_stratified_split_with_a_tiny_class_names_it():
    rows = "\n".join(f"{i},{i % 3},{'a' if i < 20 else 'b'}" for i in range(39))
    text = "x1,x2,label\n" + rows + "\n99,1,c\n"
    with pytest.raises(DataError, match="class 'c' has only 1 row .* set data.stratify: false"):
        _csv(text, target="label")
    d = _csv(text, target="label", stratify=False)
    assert d.classes.tolist() == ["a", "b", "c"] and d.n_outputs == 3


def test_validation_size_zero_gives_empty_arrays_with_columns():
    d = load_dataset({"dataset": "iris", "validation_size": 0})
    assert d.X_val.shape == (0, 4) and d.y_val.shape == (0,) and d.y_val.dtype == np.int64
    d = load_dataset({"dataset": "linnerud", "validation_size": 0})
    assert d.X_val.shape == (0, 3) and d.y_val.shape == (0, 3)


def test_same_seed_same_arrays_different_seed_different():
    a, b = (load_dataset({"dataset": "make_moons"}, random_state=5) for _ in range(2))
    c = load_dataset({"dataset": "make_moons"}, random_state=6)
    for (Xa, ya), (Xb, yb), (Xc, _) in zip(_splits(a), _splits(b), _splits(c)):
        np.testing.assert_array_equal(Xa, Xb)
        np.testing.assert_array_equal(ya, yb)
        assert not np.array_equal(Xa, Xc)
    # data.split_seed overrides random_state
    d, e = (load_dataset({"dataset": "iris", "split_seed": 3}, random_state=s) for s in (0, 9))
    np.testing.assert_array_equal(d.X_test, e.X_test)


# ----------------------------------------------------------------------------------------- scaling
def test_standard_scaling_fitted_on_train_only():
    d = load_dataset({"dataset": "wine"})
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(d.X_train.std(axis=0), 1, atol=1e-12)
    raw = skd.load_wine().data
    center, scale = d.scaler["center"], d.scaler["scale"]
    raw_train, raw_test = d.X_train * scale + center, d.X_test * scale + center
    assert _rows_in(raw_train, raw) and _rows_in(raw_test, raw)
    np.testing.assert_allclose(center, raw_train.mean(axis=0))
    np.testing.assert_allclose(scale, raw_train.std(axis=0))
    assert not np.allclose(center, raw.mean(axis=0))  # not the whole data's mean
    np.testing.assert_allclose(d.transform(raw_test), d.X_test, atol=1e-12)


def test_minmax_and_none_scaling():
    d = load_dataset({"dataset": "iris", "scale": "minmax"})
    np.testing.assert_allclose(d.X_train.min(axis=0), 0)
    np.testing.assert_allclose(d.X_train.max(axis=0), 1)
    d = load_dataset({"dataset": "iris", "scale": "none"})
    assert _rows_in(d.X_test, skd.load_iris().data)
    assert d.scaler["kind"] == "none" and np.all(d.scaler["scale"] == 1)


def test_constant_column_keeps_scale_one():
    text = "a,const,y\n" + "\n".join(f"{i},5,{i % 2}" for i in range(20)) + "\n"
    for kind in ("standard", "minmax"):
        d = _csv(text, target="y", scale=kind)
        assert d.scaler["scale"][1] == 1.0 and np.all(d.X_train[:, 1] == 0)


def test_regression_targets_standardised_on_train():
    d = load_dataset({"dataset": "diabetes"})
    np.testing.assert_allclose(d.y_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(d.y_train.std(axis=0), 1, atol=1e-12)
    y = d.inverse_y(d.y_test)
    assert y.shape == (88, 1) and set(y.ravel().round(6)) <= set(skd.load_diabetes().target)
    np.testing.assert_allclose(d.y_mean, d.inverse_y(d.y_train).mean(axis=0))


def test_transform_of_raw_csv_rows_equals_stored_rows():
    d = load_dataset({"dataset": "csv", "path": str(PENGUINS), "target": "species"})
    raw = np.loadtxt(PENGUINS, delimiter=",", skiprows=1, usecols=(1, 2, 3, 4))
    T = d.transform(raw)
    for X in (d.X_train, d.X_test, d.X_val):
        assert all((T == row).all(axis=1).any() for row in X)  # bit-identical
    with pytest.raises(DataError, match="expected 4 feature columns"):
        d.transform(raw[:, :3])


# --------------------------------------------------------------------------------------------- csv
def test_penguins_example_loads_with_string_labels():
    d = load_dataset({"dataset": "csv", "path": str(PENGUINS), "target": "species"})
    assert d.task == "classification" and d.name == "penguins_small"
    assert d.classes.tolist() == ["Adelie", "Chinstrap", "Gentoo"] and d.classes.dtype.kind == "U"
    assert d.feature_names == ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    assert np.bincount(np.concatenate([y for _, y in _splits(d)])).tolist() == [66, 30, 54]


def test_csv_text_is_used_instead_of_the_file():
    text = read_text(PENGUINS)
    a = load_dataset({"dataset": "csv", "path": "not/there.csv", "target": "species"}, csv_text=text)
    b = load_dataset({"dataset": "csv", "path": str(PENGUINS), "target": "species"})
    np.testing.assert_array_equal(a.X_train, b.X_train)
    c = load_dataset({"dataset": "csv", "target": "species"}, csv_text=text)
    np.testing.assert_array_equal(c.y_test, b.y_test)


@pytest.mark.parametrize(("text", "message"), [
    ("a,b,species\n1,2,x\n3,4,y\n1,2\n", "mem.csv: line 4 has 2 fields, expected 3"),
    ("a,island,species\n1,Biscoe,x\n3,Dream,y\n",
     "mem.csv: column 'island' is not numeric \\(e.g. 'Biscoe' on line 2\\)"),
    ("a,b,species\n1,2,x\n3,,y\n", "column 'b' has an empty value on line 3"),
    ("a,b,species\n1,2,x\n3,nan,y\n", "column 'b' has a missing or infinite value \\('nan' on line 3\\)"),
    ("a,b,label\n1,2,x\n", "target column 'species' not in mem.csv; columns: a, b, label"),
    ("", "mem.csv is empty"),
    ("\n\n", "mem.csv is empty"),
    ("a,b,species\n", "has a header row but no data rows"),
    ("a,a,species\n1,2,x\n", "duplicate column names in the header: a"),
    ("species\nx\ny\n", "no feature columns besides the target"),
])
def test_csv_errors_are_one_line(text, message):
    with pytest.raises(DataError, match=message) as info:
        _csv(text, target="species")
    assert "\n" not in str(info.value)


def test_csv_line_numbers_count_blank_lines():
    with pytest.raises(DataError, match="line 5 has 1 fields, expected 2"):
        _csv("a,y\n1,x\n\n2,y\n7\n", target="y")


def test_missing_file_and_missing_target():
    with pytest.raises(DataError, match="data file not found: nowhere/x.csv"):
        load_dataset({"dataset": "csv", "path": "nowhere/x.csv", "target": "y"})
    with pytest.raises(DataError, match="needs data.target"):
        load_dataset({"dataset": "csv", "path": str(PENGUINS), "target": []})  # the spec lets [] through


def test_csv_numeric_labels_and_multi_target():
    text = "a,b,y\n" + "\n".join(f"{i},{i * i % 7},{i % 2}" for i in range(30)) + "\n"
    d = _csv(text, target="y")
    assert d.task == "classification" and d.classes.tolist() == [0, 1] and d.classes.dtype == np.int64
    text = "a,t1,t2\n" + "\n".join(f"{i},{2 * i + 0.5},{i % 5 - 0.25}" for i in range(30)) + "\n"
    d = _csv(text, target=["t1", "t2"])
    assert d.task == "regression" and d.n_outputs == 2 and d.target_names == ["t1", "t2"]


# -------------------------------------------------------------------------------------------- task
def test_task_auto_and_forced():
    many = "a,y\n" + "\n".join(f"{i},{i * 3}" for i in range(60)) + "\n"  # 60 distinct integers
    assert _csv(many, target="y").task == "regression"
    few = "a,y\n" + "\n".join(f"{i},{float(i % 3)}" for i in range(60)) + "\n"  # 0.0 1.0 2.0
    assert _csv(few, target="y").task == "classification"
    assert load_dataset({"dataset": "make_moons"}, task="regression").task == "regression"
    cont = "a,y\n" + "\n".join(f"{i},{i / 7}" for i in range(30)) + "\n"
    with pytest.raises(DataError, match="task is classification but target 'y' is continuous"):
        _csv(cont, target="y", stratify=False, task="classification")
    with pytest.raises(DataError, match="dataset 'diabetes' is a regression set"):
        load_dataset({"dataset": "diabetes"}, task="classification")
    with pytest.raises(DataError, match="task is regression but target 'species' holds text labels"):
        load_dataset({"dataset": "csv", "path": str(PENGUINS), "target": "species"}, task="regression")


# -------------------------------------------------------------------------------------- subsetting
def test_max_rows_takes_a_stratified_subset():
    d = load_dataset({"dataset": "digits"}, max_rows=200)
    assert sum(len(y) for _, y in _splits(d)) == 200 and d.n_outputs == 10
    counts = np.bincount(np.concatenate([y for _, y in _splits(d)]), minlength=10)
    assert counts.min() >= 19 and counts.max() <= 21  # ~10% of each class
    d = load_dataset({"dataset": "diabetes"}, max_rows=50)
    assert sum(len(y) for _, y in _splits(d)) == 50
    assert sum(len(y) for _, y in _splits(load_dataset({"dataset": "iris"}, max_rows=500))) == 150


# ---------------------------------------------------------------------------------- positive class
def test_positive_class_default_is_training_minority():
    d = load_dataset({"dataset": "breast_cancer"})
    assert d.classes[d.positive_class] == "malignant"
    d = load_dataset({"dataset": "breast_cancer", "positive_class": "benign"})
    assert d.classes[d.positive_class] == "benign"
    d = load_dataset({"dataset": "make_classification", "params": {"weights": [0.2]}})
    assert d.positive_class == 0  # class 0 is the minority here
    d = load_dataset({"dataset": "make_moons"})  # 35 / 35 training rows: a tie goes to code 1
    assert np.bincount(d.y_train).tolist() == [35, 35] and d.positive_class == 1
    with pytest.raises(DataError, match="positive_class 'cat' is not a class; classes: benign, malignant"):
        load_dataset({"dataset": "breast_cancer", "positive_class": "cat"})
    with pytest.raises(DataError, match="binary classification only"):
        load_dataset({"dataset": "iris", "positive_class": "setosa"})


def test_positive_class_numeric_label_matches_text_config():
    d = load_dataset({"dataset": "make_moons", "positive_class": "0"})
    assert d.positive_class == 0


# ------------------------------------------------------------------------------------------- state
@pytest.mark.parametrize("name", ["breast_cancer", "linnerud", "digits"])
def test_state_round_trips_through_npz_without_pickle(name, tmp_path):
    d = load_dataset({"dataset": name, "scale": "minmax"})
    state = d.state(prefix="data/")
    assert all(isinstance(v, (str, np.ndarray)) for v in state.values())
    np.savez(tmp_path / "m.npz", **state)
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:
        pre = Preprocessor.from_state(npz, prefix="data/")
    assert isinstance(pre, Preprocessor) and pre.task == d.task and pre.name == name
    assert pre.feature_names == d.feature_names and pre.n_outputs == d.n_outputs
    raw = d.X_test * d.scaler["scale"] + d.scaler["center"]
    np.testing.assert_allclose(pre.transform(raw), d.X_test, atol=1e-12)
    if d.task == "classification":
        assert pre.classes.dtype != object and pre.classes.tolist() == d.classes.tolist()
        assert pre.positive_class == d.positive_class
    else:
        np.testing.assert_allclose(pre.inverse_y(d.y_test), d.inverse_y(d.y_test))
    json.dumps(pre.feature_names)


def test_read_feature_csv_picks_the_named_columns(tmp_path):
    path = tmp_path / "new.csv"
    path.write_text("flipper_length_mm,species,bill_length_mm\n181,Adelie,39.1\n217,Gentoo,47.5\n")
    X = read_feature_csv(path, ["bill_length_mm", "flipper_length_mm"])
    np.testing.assert_array_equal(X, [[39.1, 181.0], [47.5, 217.0]])
    with pytest.raises(DataError, match="lacks the model's feature columns body_mass_g; columns: flipper"):
        read_feature_csv(path, ["body_mass_g"])


def test_a_csv_error_with_an_embedded_newline_stays_one_line_with_the_line_it_starts_on():
    text = 'a,b,species\n1,2,x\n3,"4\nfive",y\n'
    with pytest.raises(DataError, match=r"column 'b' is not numeric \(e.g. '4\\nfive' on line 3\)") as info:
        _csv(text, target="species")
    assert "\n" not in str(info.value)
    with pytest.raises(DataError, match="mem.csv: line 4 has 2 fields, expected 3"):
        _csv('a,b,species\n1,"x\ny",z\n5,6\n', target="species")


def test_a_file_not_named_as_a_table_is_never_quoted_in_an_error(tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin\n")
    for data in ({"target": "y"}, {"target": "root:x:0:0:root:/root:/bin/bash"}):
        with pytest.raises(DataError) as info:
            load_dataset({"dataset": "csv", "path": str(secret), **data})
        assert "/bin/bash" not in str(info.value).replace(data["target"], "") and "daemon" not in str(info.value)
    with pytest.raises(DataError, match="first row has 1 field") as info:
        load_dataset({"dataset": "csv", "path": str(secret), "target": "y"})
    with pytest.raises(DataError) as info:
        read_feature_csv(secret, ["a"])
    assert "/bin/bash" not in str(info.value)
    named = tmp_path / "table.csv"
    named.write_text("root:x,b\n1,2\n")
    with pytest.raises(DataError, match="columns: root:x, b"):
        read_feature_csv(named, ["a"])


@pytest.mark.parametrize("special", ["fifo", "dev_zero"])
def test_a_csv_that_is_a_fifo_or_a_device_is_refused_at_once(tmp_path, special):
    import os

    path = tmp_path / "data.csv"
    if special == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    with pytest.raises(DataError, match="not a regular file"):
        load_dataset({"dataset": "csv", "path": str(path), "target": "y"})
    with pytest.raises(DataError, match="not a regular file"):
        read_feature_csv(path, ["a"])
