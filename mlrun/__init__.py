"""mlrun: experiment runner for NumPy neural-network hyper-parameter studies.

The public API (docs/api.md) is imported lazily, so ``import mlrun`` and ``mlrun --help`` stay fast.
No module or package shares a public function's name, so nothing can shadow ``mlrun.train``.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_API = {
    "load_config": "mlrun.spec.loading",
    "ConfigError": "mlrun.spec.errors",
    "train": "mlrun.experiment.run",
    "resume": "mlrun.experiment.run",
    "load_model": "mlrun.experiment.model",
    "lr_find": "mlrun.lr_finder.range_test",
    "compare": "mlrun.comparison.select",
    "sweep": "mlrun.sweeps.driver",
}

__all__ = [*_API, "__version__"]


def __getattr__(name: str):
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'mlrun' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
