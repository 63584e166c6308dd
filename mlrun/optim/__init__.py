"""Optimizers, gradient clipping and learning-rate schedules."""

from mlrun.optim import optimizers, schedules  # noqa: F401  (registers the parts)
