"""The base of every spec section (strict, no unknown keys, finite numbers, null = the defaults) and the
integer and part types the sections share; ``models`` and ``model_options`` build on it."""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Ge
from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

# -- the types ---------------------------------------------------------------------------------------
PartSpec = str | dict[str, Any]


def whole_number(value: Any) -> Any:
    """2.0 is the integer 2, as JSON Schema's "integer" says (and the registry's int parameters); 2.5 is not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


PosInt = Annotated[int, Ge(1), BeforeValidator(whole_number)]  # the bound first: the schema shows it as "minimum"
Count = Annotated[int, Ge(0), BeforeValidator(whole_number)]


def _or_null(schema: dict) -> None:
    schema["type"] = ["object", "null"]  # _null_is_default, for the schema


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True, allow_inf_nan=False,
                              json_schema_extra=_or_null)

    @model_validator(mode="before")
    @classmethod
    def _null_is_default(cls, data: Any) -> Any:
        return {} if data is None else data  # "model:" with its keys commented out = defaults


