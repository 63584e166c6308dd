"""mlrun: experiment runner for NumPy neural-network hyper-parameter studies.

The public API (DESIGN.md section 6) is imported lazily, so ``import mlrun`` and ``mlrun --help``
stay fast, and ``mlrun.train`` (the function) is not shadowed by the module ``mlrun/train.py``.
"""

from __future__ import annotations

import importlib
import sys
import types

__version__ = "0.1.0"

_API = {
    "load_config": "mlrun.config",
    "ConfigError": "mlrun.config",
    "train": "mlrun.experiment",
    "resume": "mlrun.experiment",
    "load_model": "mlrun.model",
    "lr_find": "mlrun.lr_find",
    "compare": "mlrun.compare",
    "sweep": "mlrun.sweep",
}

__all__ = [*_API, "__version__"]


def __getattr__(name: str):
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'mlrun' has no attribute {name!r}")


class _Package(types.ModuleType):
    """Keeps ``mlrun.train`` (and compare, sweep, lr_find) the functions: importing the submodule of the
    same name would otherwise set the package attribute to the module."""

    def __setattr__(self, name, value):
        if name in _API and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __dir__():
    return sorted(__all__)
