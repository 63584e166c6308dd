"""Spec files as data: the safe YAML loader, reading a spec file, writing the resolved spec, and the
dotted ``--set a.b=value`` overrides applied to the raw spec before it is validated.

Every problem is a one-line ``ConfigError``.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from mlrun.spec.errors import ConfigError

# -- YAML ------------------------------------------------------------------------------------------
# YAML 1.1 needs a dot in a float ("1.0e-3"); users write 1e-3, so exponent forms are floats too.
_EXP_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


class SpecLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe loader (no Python tags) + exponent floats + duplicate keys are errors."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, typing.Hashable):
                continue  # the base constructor reports unhashable keys
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (each key may appear once)", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


SpecLoader.add_implicit_resolver("tag:yaml.org,2002:float", _EXP_FLOAT, list("-+0123456789."))


MAX_VALUES = 100_000  # a spec, with its aliases expanded: far above any real one (10,000 layers or axis values)


def _expanded_size(data: Any) -> int | None:
    """How many values ``data`` holds with every alias expanded (each anchor counted once per use), or None
    if an alias refers to its own anchor. Memoised by identity: linear in the YAML text, however deep the
    aliases nest (a "billion laughs" document is a few hundred bytes)."""
    sizes: dict[int, int] = {}
    pending: set[int] = set()

    def size(node: Any) -> int:
        if not isinstance(node, (dict, list)):
            return 1
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in pending:
            raise RecursionError
        pending.add(id(node))
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        sizes[id(node)] = 1 + sum(size(child) for child in children)
        pending.discard(id(node))
        return sizes[id(node)]

    try:
        return size(data)
    except RecursionError:  # a cycle, or nesting deeper than Python's stack
        return None


def parse_yaml(text: str, where: str, marks: bool = True) -> Any:
    """YAML text -> Python data; errors become "where:line:col: problem" (without marks: "where: problem")."""
    data = _load_yaml(text, where, marks)
    n_values = _expanded_size(data)
    if n_values is None:
        raise ConfigError(f"{where}: an alias refers to its own anchor (or the YAML nests too deeply); "
                          "a spec is plain data, without cycles")
    if n_values > MAX_VALUES:
        raise ConfigError(f"{where}: the YAML expands to {n_values:.3g} values through its aliases; a spec "
                          f"holds at most {MAX_VALUES:,}")
    return data


def _load_yaml(text: str, where: str, marks: bool) -> Any:
    try:
        return yaml.load(text, Loader=SpecLoader)  # noqa: S506  (SpecLoader is a safe loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        if exc.context and exc.problem and exc.context_mark:
            problem = f"{exc.context} (line {exc.context_mark.line + 1}): {problem}"
        if "python/" in problem:
            problem += "; Python tags are not allowed in a spec (plain YAML data only)"
        if mark and "\t" in (text.splitlines()[mark.line:mark.line + 1] or [""])[0]:
            problem += "; indent with spaces, not tabs"
        at = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark and marks else where
        raise ConfigError(f"{at}: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: {' '.join(str(exc).split())}") from None


def dump_yaml(d: Mapping) -> str:
    """The resolved spec as YAML (key order kept), for config.yaml and ``mlrun validate --show``."""
    return yaml.safe_dump(dict(d), sort_keys=False, default_flow_style=False, allow_unicode=True)


def read_spec(path: str | Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"spec file not found: {path}")
    if path.is_dir():
        raise ConfigError(f"spec path is a directory, not a YAML file: {path}")
    from mlrun.inputs import InputFileError, read_regular_text

    try:  # a regular file under the spec cap: a FIFO or /dev/zero named as a spec never hangs
        text = read_regular_text(path, "spec")
    except InputFileError as exc:
        raise ConfigError(str(exc)) from None
    data = parse_yaml(text, str(path))
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise ConfigError(f"{path}: a spec is a mapping of sections (name, data, model, ...); got {got}")
    return data


# -- overrides ---------------------------------------------------------------------------------------
def apply_override(raw: dict, text: str) -> str:
    """Apply "a.b.c=value" (value is YAML) to the raw spec in place; returns the key path."""
    key, sep, value_text = str(text).partition("=")
    key = key.strip()
    parts = key.split(".")
    if not sep or not all(parts):
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE with a dotted key, e.g. "
                          "optimizer.learning_rate=0.01")
    value = parse_yaml(value_text, f"--set {key}={value_text} (a YAML value)", marks=False)
    node: Any = raw
    for i, part in enumerate(parts[:-1]):
        node = _child(node, part, ".".join(parts[: i + 1]))
    _assign(node, parts[-1], value, key)
    return key


def _child(node: Any, part: str, path: str) -> Any:
    if isinstance(node, list):
        return node[_index(node, part, path)]
    child = node.get(part)
    if child is None:
        child = node[part] = {}
    elif isinstance(child, str):  # a part given as a bare name gains parameters: elu -> {name: elu, ...}
        child = node[part] = {"name": child}
    elif not isinstance(child, (dict, list)):
        raise ConfigError(f"--set {path}.<key>: {path} is {child!r}, not a mapping; set {path}=... instead")
    return child


def _assign(node: Any, part: str, value: Any, path: str) -> None:
    if isinstance(node, list):
        node[_index(node, part, path)] = value
    else:
        node[part] = value


def _index(node: list, part: str, path: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise ConfigError(f"--set {path}: the list has {len(node)} items; use an index 0..{len(node) - 1}")
    return int(part)
