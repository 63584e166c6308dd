"""mlrun sweep: axes (--grid text and the spec's sweep section), plan (trials, validated up front), executors
(joblib locally, Dask on a cluster), records (sweep.json), driver (mlrun.sweep, resume)."""
