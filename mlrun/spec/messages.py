"""Pydantic's ``ValidationError`` -> the one-line ``ConfigError`` message: the key path, what the field
accepts in words, what was received, and a "did you mean" for misspelt or misplaced keys.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ValidationError

from mlrun.hints import did_you_mean, hint
from mlrun.spec.errors import join_path
from mlrun.spec.models import Spec


# -- pydantic errors -> one line ----------------------------------------------------------------------
def _model_of(annotation: Any) -> type[BaseModel] | None:
    args = typing.get_args(annotation) or (annotation,)
    return next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)


def _walk(loc: tuple) -> tuple[list[str], Any, type[BaseModel] | None, tuple]:
    """Pydantic's loc -> (field path, the field, the model where the walk stopped, the rest of loc)."""
    model: type[BaseModel] | None = Spec
    path: list[str] = []
    field = None
    for i, el in enumerate(loc):
        if model is None or el not in model.model_fields:
            return path, field, model, loc[i:]
        path.append(el)
        field = model.model_fields[el]
        model = _model_of(field.annotation)
    return path, field, model, ()


def _bounds(metadata: typing.Iterable) -> str:
    b = {k: getattr(m, k) for m in metadata for k in ("ge", "gt", "le", "lt")
         if getattr(m, k, None) is not None}
    low = ("[", b["ge"]) if "ge" in b else ("(", b["gt"]) if "gt" in b else None
    high = ("]", b["le"]) if "le" in b else (")", b["lt"]) if "lt" in b else None
    if low and high:
        return f" in {low[0]}{low[1]:g}, {high[1]:g}{high[0]}"
    if low:
        return f" {'>=' if low[0] == '[' else '>'} {low[1]:g}"
    if high:
        return f" {'<=' if high[0] == ']' else '<'} {high[1]:g}"
    return ""


_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string",
          type(None): "null", dict: "a mapping"}


def expect(annotation: Any, metadata: typing.Iterable = ()) -> str:
    """What a field accepts, in words: ``Annotated[int, Ge(1)] | None`` -> "an integer >= 1 or null"."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        return expect(args[0], args[1:])
    if origin in (typing.Union, types.UnionType):
        if {str, bool, int, float} <= set(args):
            return "a string, a number, true or false" + (" or null" if type(None) in args else "")
        return " or ".join(expect(a) for a in args)
    if origin is Literal:
        return "one of " + ", ".join(map(str, args)) if len(args) > 1 else repr(args[0])
    if origin is list:
        item = expect(args[0]).split(" ", 1)
        return f"a list of {item[1].replace(' ', 's ', 1) if ' ' in item[1] else item[1] + 's'}"
    if origin is dict:
        return "a mapping"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"a mapping ({', '.join(annotation.model_fields)})"
    return _WORDS.get(annotation, getattr(annotation, "__name__", str(annotation))) + _bounds(metadata)


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _lookup(raw: Any, path: list[str]) -> Any:
    for key in path:
        raw = raw.get(key) if isinstance(raw, Mapping) else None
    return raw


def _elsewhere(key: str, model: type[BaseModel] = Spec, prefix: str = "") -> list[str]:
    """Where a misplaced key belongs: "epochs" -> ["training.epochs"]."""
    found = []
    for name, field in model.model_fields.items():
        sub = _model_of(field.annotation)
        if prefix and name == key:
            found.append(prefix + name)
        if sub is not None:
            found += _elsewhere(key, sub, f"{prefix}{name}.")
    return found


def _message(err: dict, raw: dict) -> tuple[str, str]:
    """One pydantic error -> (path, one-line message)."""
    path, field, model, rest = _walk(tuple(err["loc"]))
    if err["type"] == "extra_forbidden" and model is not None and rest:
        key = str(rest[0])
        valid = list(model.model_fields)
        did = hint(did_you_mean(key, valid) or _elsewhere(key))
        where = f" under {'.'.join(path)}" if path else ""
        full = join_path(*path, key)
        return full, f"unknown key {full!r}{did}; valid keys{where}: {', '.join(valid)}"
    error = (err.get("ctx") or {}).get("error")
    if err["type"] == "value_error" and error is not None:
        full = join_path(*path, *map(str, rest), getattr(error, "key", ""))  # rest: a list index
        return full, f"{full}: {error}" if full else str(error)
    dotted = ".".join(path)
    if field is None:
        return dotted, f"{dotted or 'spec'}: {err['msg']}"
    got = _lookup(raw, path) if path else err.get("input")
    return dotted, f"{dotted} must be {expect(field.annotation, field.metadata)}; got {_show(got)}"


def translate(exc: ValidationError, raw: dict) -> str:
    messages: dict[str, str] = {}
    for err in exc.errors():
        path, text = _message(err, raw)
        messages.setdefault(path, text)  # union branches report one field several times
    texts = list(messages.values())
    more = f" (+{len(texts) - 3} more)" if len(texts) > 3 else ""
    return " | ".join(texts[:3]) + more
