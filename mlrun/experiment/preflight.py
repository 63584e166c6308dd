"""What a spec is checked for above its own validation, before any data is read: its baselines list.

Apart from ``outcome`` so that ``mlrun validate`` asks it without importing the training machinery.
"""

from __future__ import annotations

from mlrun.baselines.specs import parse_baselines
from mlrun.spec.loading import Config


def baseline_specs(cfg: Config, task: str | None = None):
    """The spec's checked baselines ([] when it has none); ``task`` None: the spec's own (maybe auto)."""
    return parse_baselines(cfg.to_dict().get("baselines"), cfg.task if task is None else task)
