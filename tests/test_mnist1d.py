"""MNIST-1D: the published generator's defaults, its fixed split, and its logistic-regression yardstick."""

import numpy as np
import pytest

from mlrun.data.mnist1d import DEFAULTS, make_mnist1d, templates
from mlrun.spec.errors import ConfigError
from mlrun.spec.loading import load_config
from mlrun.training.setup import load_data


def test_published_defaults_and_shapes():
    assert DEFAULTS["num_samples"] == 5000 and DEFAULTS["final_seq_length"] == 40 and DEFAULTS["seed"] == 42
    X, y, n_train = make_mnist1d()
    assert X.shape == (5000, 40) and n_train == 4000
    assert np.bincount(y).tolist() == [500] * 10
    assert abs(X.mean()) < 1e-12 and abs(X.std() - 1) < 1e-12  # standardised as a whole, as published
    X2, y2, _ = make_mnist1d()
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    t = templates()
    assert t.shape == (10, 12) and np.all(t[:, 0] == 0)  # every template starts at 0


def test_logistic_regression_matches_the_published_32_percent():
    from sklearn.linear_model import LogisticRegression

    X, y, n = make_mnist1d()
    accuracy = LogisticRegression(max_iter=2000).fit(X[:n], y[:n]).score(X[n:], y[n:])
    assert 0.28 < accuracy < 0.36  # Greydanus 2020, Table 1: 32%


def test_fixed_split_is_the_published_test_set():
    X, y, n = make_mnist1d()
    spec = {"data": {"dataset": "mnist1d", "params": {"split": "fixed"}, "scale": "none"}}
    data = load_data(load_config(spec))
    assert len(data.X_test) == 1000 and len(data.X_train) + len(data.X_val) == 4000
    np.testing.assert_allclose(np.sort(data.X_test, axis=0), np.sort(X[n:], axis=0))
    random = load_data(load_config({"data": {"dataset": "mnist1d", "scale": "none"}}))
    assert len(random.X_test) == 1000 and not np.allclose(np.sort(random.X_test, axis=0), np.sort(X[n:], axis=0))


def test_bad_parameters_are_one_line_errors():
    with pytest.raises(ConfigError, match="mnist1d has no parameter 'n_samples'"):
        load_config({"data": {"dataset": "mnist1d", "params": {"n_samples": 10}}})
