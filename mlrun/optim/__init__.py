"""Optimizers, gradient clipping and learning-rate schedules."""

from mlrun.optim import cycles, optimizers, schedules  # noqa: F401  (registers the parts)
