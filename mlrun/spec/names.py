"""Run names: what a spec's ``name`` may contain, and how a file name becomes one."""

from __future__ import annotations

import re

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")


def sanitize_name(name: str) -> str:
    """Run-name prefix: letters, digits, - and _ only; any other run of characters becomes one "-"."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", str(name))
    name = re.sub(r"-{2,}", "-", name).strip("-")
    return name or "run"
