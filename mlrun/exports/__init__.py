"""Run directories written out to other tools' stores: ``mlflow_runs`` (an MLflow tracking store)."""
