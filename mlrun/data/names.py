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
DATASETS = (*LOADERS, *GENERATORS, "mnist1d", "sequence", "csv")
SCALERS = ("standard", "minmax", "none")
DEFAULTS = {
    "dataset": None, "params": None, "path": None, "target": None, "test_size": 0.2,
    "validation_size": 0.1, "stratify": True, "scale": "standard", "split_seed": None,
    "positive_class": None, "test_path": None, "split_column": None,
}
# MNIST-1D's generator (Greydanus 2020, greydanus/mnist1d get_dataset_args): its published defaults
MNIST1D_DEFAULTS = {
    "num_samples": 5000, "train_split": 0.8, "template_len": 12, "padding": (36, 60), "scale_coeff": 0.4,
    "max_translation": 48, "corr_noise_scale": 0.25, "iid_noise_scale": 2e-2, "shear_scale": 0.75,
    "final_seq_length": 40, "seed": 42,
}
# dataset sequence (data/sequence.py): its sources and parameters, with the defaults of those it always reads
SEQUENCE_SOURCES = {"sine": "regression", "ar": "regression", "mackey_glass": "regression",
                    "text": "classification", "csv": "regression"}
SEQUENCE_DEFAULTS = {"source": "sine", "window": 16, "horizon": 2, "length": 2000}
SEQUENCE_PARAMS = (*SEQUENCE_DEFAULTS, "noise", "periods", "coefficients", "tau", "column", "random_state")
