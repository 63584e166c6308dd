"""The network's parts: activations, initializers, layers, losses, and the Network that holds them."""

from mlrun.nn import activations, initializers, layers, losses  # noqa: F401  (registers the parts)
