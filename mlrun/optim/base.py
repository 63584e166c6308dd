"""Base classes: the optimizer owns the loop, the step count, clipping and state; a subclass states its rule.

    opt.step(params, grads)            # lists of arrays; params updated in place
    opt.step(params, grads, segments)  # segments[i]: start offsets of the tensors packed in params[i]
                                       # (the Network's flat buffer), used by clip_norm
"""

from __future__ import annotations

import numpy as np

from mlrun.optim import clipping


class Optimizer:
    """Gradient-based optimizer: ``step`` clips, counts, then calls ``update_step`` per array.

    The clip options (at most one: clip_value, clip_norm, global_clip_norm) are declared here only;
    a subclass takes its own parameters and passes the rest on with ``**kwargs``.
    """

    registry_kind = "optimizer"
    registry_name = "optimizer"
    slot_names: tuple[str, ...] = ()  # per-array state, allocated as zeros (see ``init_slot``)

    def __init__(
        self,
        learning_rate: float = 0.001,
        clip_value: float | None = None,
        clip_norm: float | None = None,
        global_clip_norm: float | None = None,
    ) -> None:
        given = [n for n, v in (("clip_value", clip_value), ("clip_norm", clip_norm),
                                ("global_clip_norm", global_clip_norm)) if v is not None]
        if len(given) > 1:
            raise ValueError(
                f"at most one of clip_value, clip_norm, global_clip_norm; got {', '.join(given)}"
            )
        for n, v in (("learning_rate", learning_rate), ("clip_value", clip_value),
                     ("clip_norm", clip_norm), ("global_clip_norm", global_clip_norm)):
            if v is not None and not v > 0:
                raise ValueError(f"{n} must be > 0; got {v}")
        self.learning_rate = float(learning_rate)
        self.clip_value = clip_value
        self.clip_norm = clip_norm
        self.global_clip_norm = global_clip_norm
        self.iterations = 0
        self.slots: list[dict[str, np.ndarray]] | None = None
        self._clipped: list[np.ndarray] | None = None

    # -- the rule ---------------------------------------------------------------------------------
    def init_slot(self, name: str, param: np.ndarray) -> np.ndarray:
        return np.zeros_like(param)

    def prepare_step(self) -> None:
        """Per-step scalar work shared by all arrays (after ``iterations`` is incremented)."""

    def update_step(self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    # -- the loop ---------------------------------------------------------------------------------
    def step(self, params, grads, segments=None) -> None:
        if self.slots is None:
            self.slots = [{n: self.init_slot(n, p) for n in self.slot_names} for p in params]
        grads = self._clip(grads, segments)
        self.iterations += 1
        self.prepare_step()
        for param, grad, slots in zip(params, grads, self.slots):
            self.update_step(param, grad, slots)

    def _clip(self, grads, segments):
        if self.clip_value is None and self.clip_norm is None and self.global_clip_norm is None:
            return grads
        if self._clipped is None or any(c.shape != g.shape for c, g in zip(self._clipped, grads)):
            self._clipped = [np.empty_like(g) for g in grads]
        out = self._clipped
        if self.clip_value is not None:
            clipping.clip_by_value(grads, self.clip_value, out)
        elif self.clip_norm is not None:
            clipping.clip_by_norm(grads, self.clip_norm, out, segments)
        else:
            clipping.clip_by_global_norm(grads, self.global_clip_norm, out)
        return out

    # -- hyper-parameters a schedule may change ---------------------------------------------------
    def set_momentum(self, value: float) -> None:
        """Set the cycled momentum (momentum for SGD variants, beta_1 for the Adam family)."""
        if hasattr(self, "beta_1"):
            self.beta_1 = float(value)
        elif hasattr(self, "momentum"):
            self.momentum = float(value)

    def get_momentum(self) -> float | None:
        for attr in ("beta_1", "momentum"):
            if hasattr(self, attr):
                return float(getattr(self, attr))
        return None

    # -- state (JSON scalars + arrays; never pickled) ---------------------------------------------
    def scalar_state(self) -> dict:
        """Extra scalars a rule keeps across steps (e.g. Nadam's running product)."""
        return {}

    def load_scalar_state(self, state: dict) -> None:
        pass

    def state(self) -> dict:
        return {
            "iterations": self.iterations,
            "learning_rate": self.learning_rate,
            "momentum": self.get_momentum(),
            "scalars": self.scalar_state(),
            # copies: a snapshot must not change as training goes on
            "slots": None if self.slots is None else [{k: v.copy() for k, v in s.items()}
                                                      for s in self.slots],
        }

    def load_state(self, state: dict) -> None:
        self.iterations = int(state["iterations"])
        self.learning_rate = float(state["learning_rate"])
        if state.get("momentum") is not None:
            self.set_momentum(state["momentum"])
        self.load_scalar_state(state.get("scalars", {}))
        self.slots = None if state["slots"] is None else [
            {k: np.array(v, copy=True) for k, v in s.items()} for s in state["slots"]
        ]

    def config(self) -> dict:
        from mlrun.registry import parameters

        names = parameters("optimizer", self.registry_name)
        return {"name": self.registry_name, **{k: getattr(self, k) for k in names}}


class Schedule:
    """Learning rate as a function of the optimizer step t (0, 1, 2, ...)."""

    registry_kind = "schedule"
    registry_name = "schedule"

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def momentum(self, step: int) -> float | None:
        """Cycled momentum / beta_1 at this step, or None when the schedule does not cycle it."""
        return None

    def on_epoch_end(self, logs: dict) -> None:
        """Per-epoch hook (logs has 'epoch', 'train_loss', 'val_loss', ...); plateau uses it."""

    def state(self) -> dict:
        return {}

    def load_state(self, state: dict) -> None:
        pass
