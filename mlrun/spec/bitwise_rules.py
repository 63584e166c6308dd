"""What a bitwise ``model:`` section may hold (docs/bitwise.md): the checks ModelSpec runs on it."""

from __future__ import annotations

from mlrun.spec.errors import PathError

BITWISE_LAYERS = ("bipolar_input", "bitwise_dense")


def layer_names(layers) -> list:
    """The part names of a long form's layers (a name or a mapping with one)."""
    return [spec if isinstance(spec, str) else spec.get("name") for spec in layers or ()]


def check_bitwise_model(model) -> None:
    """A bitwise network has only bitwise layers (XNOR inference), tanh then sign units (an explicit other
    activation is an error), and neither batch norm nor dropout; PathError otherwise."""
    other = [name for name in layer_names(model.layers) if name not in BITWISE_LAYERS]
    if other:
        raise PathError("layers", f"a bitwise network has only {' and '.join(BITWISE_LAYERS)} layers (XNOR "
                                  f"inference); got {', '.join(map(str, other))}")
    if "activation" in model.model_fields_set and model.activation != "tanh":
        raise PathError("activation", f"a bitwise network uses tanh (stage 1) and sign (stage 2); got "
                                      f"{model.activation!r}: remove model.activation")
    for key in ("batch_norm", "dropout"):
        if getattr(model, key):
            raise PathError(key, f"{key} is not part of a bitwise network; remove model.{key} or model.bitwise")
