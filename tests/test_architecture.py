"""The architecture is checked, not just described (docs/architecture.md): no import circles anywhere."""

import grimp
import pytest


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("mlrun", cache_dir=None)


def test_no_module_imports_itself_back(graph):
    circles = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported != module and graph.chain_exists(importer=imported, imported=module):
                circles.append(f"{module} -> {imported} -> ... -> {module}")
    assert circles == []


def test_no_module_or_package_shares_a_public_function_name(graph):
    import mlrun

    leaves = {name.rsplit(".", 1)[-1] for name in graph.modules}
    assert leaves.isdisjoint({n for n in mlrun.__all__ if n != "__version__"})
