"""The spec's layer: what it may import (registry, hints, metric and dataset names, itself), and that
reading it pulls in no heavy library."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

MLRUN = Path(__file__).resolve().parents[1] / "mlrun"
SPEC_MAY_IMPORT = ("mlrun.registry", "mlrun.hints", "mlrun.inputs", "mlrun.metrics.names", "mlrun.data.names",
                   "mlrun.spec")


def _mlrun_imports(path: Path) -> set[str]:
    """Every mlrun module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{a.name}" for a in node.names] if node.module == "mlrun" else [node.module]
            found |= set(names)
    return {name for name in found if name == "mlrun" or name.startswith("mlrun.")}


@pytest.mark.parametrize("path", sorted((MLRUN / "spec").glob("*.py")), ids=lambda p: p.name)
def test_spec_imports_only_its_layer(path):
    wrong = {m for m in _mlrun_imports(path) if not m.startswith(SPEC_MAY_IMPORT)}
    assert not wrong, f"{path.name} imports {sorted(wrong)}"


@pytest.mark.parametrize("path", [MLRUN / "hints.py", MLRUN / "data" / "names.py"], ids=lambda p: p.name)
def test_the_lowest_modules_import_nothing_from_mlrun(path):
    assert _mlrun_imports(path) == set()


def test_nn_and_data_do_not_import_the_spec():
    for package in ("nn", "optim", "data"):
        for path in (MLRUN / package).glob("*.py"):
            assert not {m for m in _mlrun_imports(path) if m.startswith("mlrun.spec")}, path


def test_reading_the_spec_imports_no_heavy_library():
    code = ("import sys, mlrun.spec.models, mlrun.spec.loading, mlrun.spec.schema; "
            "heavy = [m for m in ('sklearn', 'scipy', 'matplotlib') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)
