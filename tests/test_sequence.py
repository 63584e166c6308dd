"""dataset sequence (data/sequence.py): the sources, the windows and further targets, the time-ordered
splits with their purge, the user's CSV column, and the one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import mlrun
from mlrun.cli.app import cli
from mlrun.data.dataset import DataError
from mlrun.data.sequence import GRAMMAR, ar_series, grammar_text, mackey_glass_series, sine_series, time_split, windows
from mlrun.data.sources import load_dataset
from mlrun.spec.errors import ConfigError


def _data(**params):
    return {"dataset": "sequence", "params": params, "test_size": 0.2, "validation_size": 0.1}


def test_windows_hold_the_last_values_the_next_one_and_the_further_ones():
    X, T = windows(np.arange(10.0), window=3, horizon=2)
    assert X.shape == (5, 3) and T.shape == (5, 3)
    np.testing.assert_array_equal(X[0], [0, 1, 2])
    np.testing.assert_array_equal(T[0], [3, 4, 5])
    np.testing.assert_array_equal(T[-1], [7, 8, 9])
    with pytest.raises(DataError, match="at least 6 are needed"):
        windows(np.arange(5.0), 3, 2)


def test_splits_are_in_time_order_with_the_horizon_purged_after_training():
    train, val, test = time_split(100, 0.2, 0.1, horizon=3)
    assert (len(train), len(val), len(test)) == (97 - 19 - 10, 10, 19)
    assert train.max() + 3 < val.min() and val.max() < test.min() and test.max() == 99
    # no training target (main or further) is a validation or test row's main target
    W = 4
    training_targets = {i + W + k for i in train for k in range(4)}
    assert not training_targets & {i + W for i in np.r_[val, test]}


@pytest.mark.parametrize("source", ["sine", "ar", "mackey_glass", "text"])
def test_every_source_loads_in_time_order_with_its_further_targets(source):
    data = _data(source=source, window=6, horizon=2, length=400)
    d = load_dataset(data, random_state=5)
    assert d.task == ("classification" if source == "text" else "regression")
    assert len(d.X_train) + len(d.X_val) + len(d.X_test) == 400 - 6 - 2 - 2  # the purge
    assert d.y_ahead_train.shape == (len(d.X_train), 2)
    assert np.all(np.diff(d.rows_test) == 1) and d.rows_test[-1] == 400 - 2 - 1  # the last full window's target
    # a training row's first further target is the next row's main target
    main = d.y_train.reshape(len(d.y_train), -1)[:, 0]
    np.testing.assert_array_equal(d.y_ahead_train[:-1, 0], main[1:])
    again = load_dataset(data, random_state=5)
    np.testing.assert_array_equal(again.X_test, d.X_test)
    assert not np.array_equal(load_dataset(data, random_state=6).X_test, d.X_test)
    assert not np.array_equal(load_dataset({**data, "params": {**data["params"], "random_state": 1}},
                                           random_state=6).X_test, d.X_test)


def test_the_generated_series_have_their_defining_properties():
    rng = np.random.default_rng(0)
    s = sine_series(200, rng, periods=(10.0,), noise=0.0)
    np.testing.assert_allclose(s[10:], s[:-10], atol=1e-12)
    a = ar_series(20000, rng, (1.5, -0.75))
    r1 = np.corrcoef(a[1:], a[:-1])[0, 1]
    assert r1 == pytest.approx(1.5 / 1.75, abs=0.02)  # AR(2): rho_1 = c_1 / (1 - c_2)
    with pytest.raises(DataError, match="non-stationary"):
        ar_series(10, rng, (1.2,))
    start = mackey_glass_series(30, np.random.default_rng(3), burn_in=0)
    assert abs(start[0] - 1.2) < 0.05 and np.all(np.abs(np.diff(start)) < 0.2)  # starts from its history
    for seed in range(3):
        assert np.all(np.isfinite(mackey_glass_series(2000, np.random.default_rng(seed))))
    m = mackey_glass_series(1500, rng)
    assert 0.2 < m.min() and m.max() < 1.5 and m.std() > 0.15  # the tau = 17 attractor's range
    assert np.abs(np.diff(m, 2)).max() < 0.1  # smooth at one sample per time unit


def test_the_text_is_the_grammars_sentences_one_hot_encoded():
    text = grammar_text(500, np.random.default_rng(0))
    words = set(text.replace(".", " ").split())
    terminals = {w for options in GRAMMAR.values() for option in options for w in option if w not in GRAMMAR}
    assert len(text) == 500 and words <= terminals
    d = load_dataset({**_data(source="text", window=5, horizon=1, length=300), "scale": "none"})
    assert d.X_train.shape[1] == 5 * len(d.classes)
    np.testing.assert_array_equal(d.X_train.sum(axis=1), 5)  # one character per lag
    assert d.feature_names[0] == f"lag5_u{ord(d.classes[0]):04x}"


def test_a_users_csv_column_is_the_series(tmp_path):
    path = tmp_path / "series.csv"
    path.write_text("day,price\n" + "".join(f"{i},{i * 0.5}\n" for i in range(60)))
    d = load_dataset({**_data(source="csv", column="price", window=4, horizon=1), "path": str(path)})
    assert d.target_names == ["price"] and d.feature_names == ["lag4", "lag3", "lag2", "lag1"]
    raw = d.X_train[0] * d.scaler["scale"] + d.scaler["center"]
    np.testing.assert_allclose(raw, [0, 0.5, 1.0, 1.5])
    with pytest.raises(DataError, match="column 'cost' not in .*columns: day, price"):
        load_dataset({**_data(source="csv", column="cost"), "path": str(path)})
    path.write_text("price\n1\n2\nabc\n")
    with pytest.raises(DataError, match="column 'price' is not numeric .*line 4"):
        load_dataset({**_data(source="csv", column="price"), "path": str(path)})


def test_a_smoke_subset_keeps_the_first_windows():
    full = load_dataset(_data(source="sine", window=4, horizon=1, length=300))
    small = load_dataset(_data(source="sine", window=4, horizon=1, length=300), max_rows=100)
    assert len(small.X_train) + len(small.X_val) + len(small.X_test) == 100 - 1
    np.testing.assert_allclose(small.X_train[0] * small.scaler["scale"] + small.scaler["center"],
                               full.X_train[0] * full.scaler["scale"] + full.scaler["center"])


@pytest.mark.parametrize("params, message", [
    ({"source": "sin"}, "data.params.source: unknown sequence source 'sin' (did you mean 'sine'?)"),
    ({"window": 0}, "data.params.window: must be an integer >= 1; got 0"),
    ({"sorce": "ar"}, "data.params.sorce: sequence has no parameter 'sorce' (did you mean 'source'?)"),
    ({"source": "csv"}, "data.path: sequence source csv needs data.path"),
])
def test_bad_sequence_params_are_one_line_spec_errors(params, message):
    with pytest.raises(ConfigError) as err:
        mlrun.load_config({"data": {"dataset": "sequence", "params": params}})
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_wrong_task_and_a_missing_column_fail_in_one_line_with_exit_2(tmp_path):
    with pytest.raises(DataError, match="source text is a classification task"):
        load_dataset(_data(source="text"), task="regression")
    (tmp_path / "s.csv").write_text("a\n" + "".join(f"{np.sin(i / 3):.4f}\n" for i in range(80)))
    spec = tmp_path / "spec.yaml"
    spec.write_text("data: {dataset: sequence, path: s.csv, params: {source: csv, column: b}}\n")
    result = CliRunner().invoke(cli, ["train", str(spec), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "column 'b' not in" in result.output
    # the right column trains, with MTP, through the command line
    spec.write_text("data: {dataset: sequence, path: s.csv, params: {source: csv, column: a, window: 8}}\n"
                    "model: {neurons: 8, mtp: {depth: 2}}\ntraining: {diagnostics: false}\n")
    result = CliRunner().invoke(cli, ["train", str(spec), "--smoke", "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert "completed" in result.output
