"""Frozen reference numbers for tests that cross-check mlrun against other libraries.

torch_reference.json holds PyTorch's numbers for the live torch cross-checks; it is written by
scripts/freeze_torch_goldens.py (run it with a Python that has torch), never by hand.
"""

import copy
import functools
import json
from pathlib import Path

TORCH_REFERENCE = Path(__file__).with_name("torch_reference.json")


@functools.cache
def _torch_reference() -> dict:
    return json.loads(TORCH_REFERENCE.read_text())


def torch_reference(section: str) -> dict:
    """One section ("optimizers", "one_cycle") of the frozen torch numbers."""
    return copy.deepcopy(_torch_reference()[section])  # a copy: a test may not change another's
