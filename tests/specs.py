"""Test helper: a spec's resolved ``model:`` section (every default filled in, as the trainer passes it)."""

from mlrun.spec.models import ModelSpec


def model_section(**given) -> dict:
    """``model_section(neurons=8)`` -> the resolved model section with the spec's other defaults."""
    return ModelSpec.model_validate(given).model_dump(mode="json")
