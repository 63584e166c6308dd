"""Every number in a spec is finite: YAML's ``.inf``, ``-.inf`` and ``.nan`` (or Python's inf and nan)
are refused wherever they stand, with the key path, before anything is built or written.

One walk over the raw spec (after ``--set`` overrides, before the models) covers every section at
once, the free-form mappings (``data.params``, ``sweep:``, baselines' ``params``) included; pydantic's
``allow_inf_nan=False`` and the registry's own check guard the typed fields and the part parameters
that are reached without ``load_config``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from mlrun.spec.errors import ConfigError, join_path


def is_nonfinite(value: Any) -> bool:
    """True for inf, -inf and nan of any real type (not for bools, integers or text)."""
    return (isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral))
            and not math.isfinite(value))


def yaml_spelling(value: float) -> str:
    """How the value is written in YAML: .inf, -.inf or .nan."""
    return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")


def first_nonfinite(value: Any, path: str = "") -> tuple[str, float] | None:
    """(dotted key path, value) of the first inf or nan inside ``value``, or None."""
    if is_nonfinite(value):
        return path, value
    if isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for key, child in items:
        found = first_nonfinite(child, join_path(path, key))
        if found is not None:
            return found
    return None


def check_finite(raw: Any) -> None:
    """ConfigError naming the first non-finite number in the raw spec (one line), else nothing."""
    found = first_nonfinite(raw)
    if found is not None:
        path, value = found
        raise ConfigError(f"{path or 'spec'}: must be a finite number; got {yaml_spelling(value)} "
                          "(.inf, -.inf and .nan are not values a run can use)")
