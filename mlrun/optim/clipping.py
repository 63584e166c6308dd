"""Gradient clipping, applied before the optimizer step (docs/contract.md).

Each function reads the gradient arrays ``grads`` and writes the clipped gradients into ``out``
(arrays of the same shapes, preallocated by the optimizer); ``grads`` is never modified.
"""

from __future__ import annotations

import numpy as np


def clip_by_value(grads, v, out) -> None:
    """Elementwise clip to [-v, v].

    g ← min(max(g, -v), v)   (Keras ``clipvalue``; torch ``clip_grad_value_``)
    """
    v = float(v)
    for g, o in zip(grads, out):
        np.clip(g, -v, v, out=o)


def clip_by_norm(grads, c, out, segments=None) -> None:
    """Scale each tensor on its own so that its L2 norm is at most c.

    g ← g · c / max(c, ‖g‖)   per tensor (Keras ``clipnorm``: each weight array separately)

    ``segments[i]``, when given, holds the sorted start offsets (the first is 0) of the tensors packed
    in the flat array ``grads[i]``; their norms come from one ``np.add.reduceat`` (no Python loop).
    """
    c = float(c)
    for i, (g, o) in enumerate(zip(grads, out)):
        offsets = None if segments is None else segments[i]
        if offsets is None or len(offsets) <= 1:
            norm = float(np.sqrt(np.vdot(g, g)))
            np.multiply(g, c / max(c, norm), out=o)
        else:
            _clip_segments(g.reshape(-1), c, o.reshape(-1), np.asarray(offsets))


def _clip_segments(g: np.ndarray, c: float, o: np.ndarray, offsets: np.ndarray) -> None:
    """Per-segment norm clip of a flat array; ``o`` doubles as the g² scratch buffer."""
    np.multiply(g, g, out=o)
    norms = np.sqrt(np.add.reduceat(o, offsets))
    scale = c / np.maximum(norms, c)
    lengths = np.diff(offsets, append=g.size)
    np.multiply(g, np.repeat(scale, lengths), out=o)


def clip_by_global_norm(grads, c, out) -> None:
    """Scale all tensors together so that their joint L2 norm is at most c.

    g ← g · c / max(c, ‖(g_1, ..., g_n)‖)   (torch ``clip_grad_norm_``; Keras ``global_clipnorm``)
    """
    c = float(c)
    total = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))
    scale = c / max(c, total)
    for g, o in zip(grads, out):
        np.multiply(g, scale, out=o)
