"""The optional network variants of the ``model:`` section: multi-token prediction heads
(``model.mtp``, nn/mtp.py) and bitwise networks (``model.bitwise``, nn/bitwise.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from annotated_types import Ge, Le
from pydantic import Field

from mlrun.spec.section import PosInt, Section


class MTPScheduleSpec(Section):
    at: float = Field(description="fraction of the training steps after which weight switches", gt=0, lt=1)
    weight: float = Field(description="λ from then on", ge=0)


class MTPSpec(Section):
    """Multi-token prediction (nn/mtp.py): D further-target modules, used in training only."""

    depth: PosInt = Field(1, description="modules (D): targets t+2 .. t+D+1 besides the next one")
    weight: float = Field(0.3, ge=0, description="λ: loss = L_main + λ/D Σ L_k")
    heads: Literal["sequential", "parallel"] = Field("sequential", description="DeepSeek-V3 or Gloeckle et al.")
    schedule: MTPScheduleSpec | None = Field(None, description="{at: fraction of steps, weight: λ after}")


class BitwiseSpec(Section):
    """Kim & Smaragdis 2016's two stages (docs/bitwise.md): weight compression, then noisy backprop."""

    compression_epochs: PosInt | None = Field(
        None, description="stage 1 (real-valued, tanh-compressed) epochs; null: half of training.epochs; "
                          "stage 2 (binarised forward, straight-through backward) runs the rest")
    beta: float = Field(0.0, ge=0, lt=1, description="sparsity boundary: weights with |tanh w| < beta are 0")
    input_bits: Annotated[int, Ge(1), Le(8)] = Field(1, description="bipolar bits per input feature "
                                                                    "(a thermometer code)")
    input_code: Literal["uniform", "normal"] = Field(
        "uniform", description="where the input thresholds are: uniform, equal-width bins of each feature's "
                               "training range; normal, the standard normal's quantiles of the scaled feature")
