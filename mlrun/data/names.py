"""The data section's names: the offline datasets and generators, the scalers, and the defaults
``load_dataset`` fills into a partial section (the same as ``DataSpec``'s; a test keeps them equal).

Plain data apart from the loaders, so the spec (and ``mlrun schema``) read them without importing
numpy or scikit-learn.
"""

from __future__ import annotations

# name -> (scikit-learn function, task); tasks are fixed because type_of_target calls diabetes'
# integral float targets "multiclass".
LOADERS = {
    "iris": ("load_iris", "classification"),
    "digits": ("load_digits", "classification"),
    "wine": ("load_wine", "classification"),
    "breast_cancer": ("load_breast_cancer", "classification"),
    "diabetes": ("load_diabetes", "regression"),
    "linnerud": ("load_linnerud", "regression"),
}
GENERATORS = {  # name (= the scikit-learn function) -> task
    "make_moons": "classification",
    "make_circles": "classification",
    "make_blobs": "classification",
    "make_classification": "classification",
    "make_regression": "regression",
    "make_friedman1": "regression",
}
DATASETS = (*LOADERS, *GENERATORS, "csv")
SCALERS = ("standard", "minmax", "none")
DEFAULTS = {
    "dataset": None, "params": None, "path": None, "target": None, "test_size": 0.2,
    "validation_size": 0.1, "stratify": True, "scale": "standard", "split_seed": None,
    "positive_class": None,
}
