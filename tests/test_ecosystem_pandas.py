"""mlrun's files read with pandas itself: predictions.csv joins back to the user's rows by its "row" column."""

import pandas as pd
import pytest
from sklearn.datasets import load_digits

import mlrun

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
PENGUINS = ROOT / "configs" / "examples" / "penguins_small.csv"
NET = {"model": {"hidden_layers": 1, "neurons": 8}, "optimizer": {"name": "adam", "learning_rate": 0.01},
       "training": {"epochs": 3, "batch_size": 32}}


def test_predictions_join_back_to_the_users_csv_rows_by_row(tmp_path):
    spec = {"name": "penguins", "seed": 5, **NET,
            "data": {"dataset": "csv", "path": str(PENGUINS), "target": "species"}}
    run = mlrun.train(spec, runs_dir=tmp_path)
    predictions = pd.read_csv(run.path / "predictions.csv")
    source = pd.read_csv(PENGUINS)
    assert list(predictions.columns[:3]) == ["row", "y_true", "y_pred"]
    assert predictions["row"].dtype == "int64" and predictions["row"].is_unique
    joined = predictions.join(source, on="row")
    assert len(joined) == len(predictions) > 0
    assert (joined["y_true"] == joined["species"]).all()


@pytest.mark.parametrize("smoke", [False, True])
def test_row_is_the_index_in_the_source_also_after_the_smoke_subset(tmp_path, smoke):
    spec = {"name": "digits", "seed": 2, "data": {"dataset": "digits"}, **NET}
    run = mlrun.train(spec, runs_dir=tmp_path, smoke=smoke)
    predictions = pd.read_csv(run.path / "predictions.csv")
    target = load_digits().target
    assert (predictions["row"].max() > 512) and predictions["row"].between(0, len(target) - 1).all()
    assert (predictions["y_true"].to_numpy() == target[predictions["row"].to_numpy()]).all()


def test_regression_predictions_carry_row_too(tmp_path):
    from sklearn.datasets import load_diabetes

    run = mlrun.train({"name": "diabetes", "seed": 1, "data": {"dataset": "diabetes"}, **NET}, runs_dir=tmp_path)
    predictions = pd.read_csv(run.path / "predictions.csv")
    assert list(predictions.columns) == ["row", "y_true", "y_pred"]
    target = load_diabetes().target
    assert predictions["y_true"].to_numpy() == pytest.approx(target[predictions["row"].to_numpy()])


def _compare_csv(tmp_path, *args):
    import io

    from click.testing import CliRunner

    from mlrun.cli.app import cli

    result = CliRunner().invoke(cli, ["compare", str(tmp_path), "--format", "csv", *args])
    assert result.exit_code == 0, result.output
    return io.StringIO(result.output)


def test_compare_csv_recipes_in_docs_ecosystem_md_hold_with_pandas(tmp_path):
    import json

    base = {"name": "mix", "data": {"dataset": "iris"}, **NET}
    for seed in (1, 2):
        mlrun.train({**base, "seed": seed}, runs_dir=tmp_path)
    mlrun.train({**base, "name": "stops", "seed": 1,
                 "training": {**NET["training"], "early_stopping": {"patience": 2}}}, runs_dir=tmp_path)

    grouped = pd.read_csv(_compare_csv(tmp_path, "--group"))
    mix = grouped.set_index("run").loc["mix"]
    assert sorted(json.loads(mix["seeds"])) == [1, 2] and len(json.loads(mix["runs"])) == 2
    assert {"test.accuracy.mean", "test.accuracy.std"} <= set(grouped.columns)
    assert "test.accuracy" not in grouped.columns  # every format names the mean ".mean"
    runs = pd.read_csv(_compare_csv(tmp_path))
    accuracy = runs[runs["run"].str.startswith("mix")]["test.accuracy"]
    assert mix["test.accuracy.mean"] == pytest.approx(accuracy.mean(), abs=1e-12)
    assert mix["test.accuracy.std"] == pytest.approx(accuracy.std(ddof=1), abs=1e-12)

    plain = pd.read_csv(_compare_csv(tmp_path, "--all-params"))
    nullable = pd.read_csv(_compare_csv(tmp_path, "--all-params"), dtype_backend="numpy_nullable")
    patience = "training.early_stopping.patience"
    assert plain[patience].dtype == "float64"  # the missing cells make the integers float by default
    assert str(nullable[patience].dtype) == "Int64" and nullable[patience].isna().sum() == 2
    assert str(nullable["data.stratify"].dtype) == "boolean"
