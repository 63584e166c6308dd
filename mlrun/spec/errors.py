"""The spec's exceptions: ``ConfigError``, the one a bad spec raises, and ``PathError``, a validator's
error for a sub-key on its way to becoming one.

Their own module so the spec modules (loading, yaml_text, messages, parts) share them without
importing each other, and so loading a model (which may raise ``ConfigError``) imports no pydantic;
the public name is ``mlrun.ConfigError``.
"""

from __future__ import annotations

from typing import Any


class ConfigError(ValueError):
    """A bad spec: one line with the key path, what was received and how to fix it."""


class PathError(ValueError):
    """A validator's error for a sub-key (joined to pydantic's location by the translator)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def join_path(*keys: Any) -> str:
    return ".".join(str(k) for k in keys if k != "")
