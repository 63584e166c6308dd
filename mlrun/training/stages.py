"""The two stages of a bitwise network's training (Kim & Smaragdis 2016), as a trainer callback.

Stage 1 (weight compression) for ``compression_epochs`` epochs, then stage 2 (noisy backpropagation)
to the end. The stage lives in the layers' state, so a checkpoint resumes in the right one; each epoch's
history row carries its ``stage`` (1 or 2).
"""

from __future__ import annotations

from mlrun.nn.bitwise import bitwise_layers, set_binary


class BitwiseStages:
    """Trainer callback: switches the network's bitwise layers to stage 2 after ``compression_epochs``."""

    history_keys = ("stage",)  # the columns ``epoch_logs`` adds to each history row

    def __init__(self, network, compression_epochs: int) -> None:
        self.network = network
        self.compression_epochs = int(compression_epochs)

    def on_train_begin(self, trainer) -> None:
        set_binary(self.network, trainer.epoch >= self.compression_epochs)

    def epoch_logs(self, trainer) -> dict:
        """The stage the epoch just trained in (the trainer adds it to the history row)."""
        return {"stage": 2 if bitwise_layers(self.network)[0].binary else 1}

    def on_epoch_end(self, trainer, logs) -> None:
        if trainer.epoch == self.compression_epochs:
            set_binary(self.network, True)


def compression_epochs(options: dict | None, epochs: int) -> int:
    """Stage 1's length: ``model.bitwise.compression_epochs``, else half of the epochs (at least 1)."""
    given = (options or {}).get("compression_epochs")
    return int(given) if given is not None else max(1, epochs // 2)
