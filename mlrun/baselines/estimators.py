"""The baseline estimators by task and name: scikit-learn's own classes, with our defaults.

``native_multiclass`` says whether one model covers every class. When it does not, scikit-learn's
"native" handling is itself a strategy (``internal``): LinearSVC and SGDClassifier fit one binary model
per class (one-vs-rest), SVC one per pair of classes (one-vs-one). LogisticRegression fits a single
multinomial (softmax) model, so it is natively multiclass in scikit-learn although the study note lists
logistic regression among the binary classifiers.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

STRATEGIES = ("native", "ovr", "ovo")


@dataclass(frozen=True)
class Estimator:
    """One baseline: the scikit-learn class (module path), our defaults and how it handles k classes."""

    name: str
    task: str
    path: str
    defaults: dict = field(default_factory=dict)
    native_multiclass: bool = True
    internal: str | None = None  # what "native" fits when the estimator is binary: "ovr" or "ovo"

    def sklearn_class(self) -> type:
        module, _, cls = self.path.rpartition(".")
        return getattr(importlib.import_module(module), cls)

    def binary_models(self, strategy: str, k: int) -> int:
        """Binary models a fit makes for k classes: ovr k, ovo k(k-1)/2, one when k = 2; 0: one k-class model."""
        scheme = self.internal if strategy == "native" else strategy
        if scheme is None:
            return 0
        return 1 if k == 2 else {"ovr": k, "ovo": k * (k - 1) // 2}[scheme]


_TABLE = (
    Estimator("logistic_regression", "classification", "sklearn.linear_model.LogisticRegression",
              {"max_iter": 1000}),
    Estimator("linear_svm", "classification", "sklearn.svm.LinearSVC", {}, False, "ovr"),
    Estimator("svm", "classification", "sklearn.svm.SVC", {"kernel": "rbf"}, False, "ovo"),
    Estimator("sgd", "classification", "sklearn.linear_model.SGDClassifier", {}, False, "ovr"),
    Estimator("random_forest", "classification", "sklearn.ensemble.RandomForestClassifier", {"n_estimators": 100}),
    Estimator("naive_bayes", "classification", "sklearn.naive_bayes.GaussianNB"),
    Estimator("knn", "classification", "sklearn.neighbors.KNeighborsClassifier"),
    Estimator("linear", "regression", "sklearn.linear_model.LinearRegression"),
    Estimator("ridge", "regression", "sklearn.linear_model.Ridge"),
    Estimator("random_forest", "regression", "sklearn.ensemble.RandomForestRegressor", {"n_estimators": 100}),
)
ESTIMATORS: dict[tuple[str, str], Estimator] = {(e.task, e.name): e for e in _TABLE}


def estimator_names(task: str | None = None) -> list[str]:
    """The baseline names of a task (None: of either task), in table order."""
    return list(dict.fromkeys(e.name for e in _TABLE if task is None or e.task == task))


def lookup(task: str, name: str) -> Estimator | None:
    return ESTIMATORS.get((task, name))
