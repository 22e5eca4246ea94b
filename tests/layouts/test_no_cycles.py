"""No import cycle inside layouts/ or qa/, TYPE_CHECKING imports included.

grimp reads every import statement (lazy and type-only ones too), so a circle that
``if TYPE_CHECKING:`` hides from the interpreter still fails here (issue #20).
"""

from __future__ import annotations

import grimp
import pytest


def _cycle_edges(graph: grimp.ImportGraph, package: str) -> list[tuple[str, str]]:
    """Every direct import a -> b inside the package for which b also reaches a."""
    inside = sorted(m for m in graph.modules if m.startswith(package + "."))
    return [
        (a, b)
        for a in inside
        for b in sorted(graph.find_modules_directly_imported_by(a))
        if b.startswith(package + ".") and graph.find_shortest_chain(importer=b, imported=a)
    ]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("layouts", "qa", "core", include_external_packages=False)


@pytest.mark.parametrize("package", ["layouts", "qa"])
def test_no_import_cycle_inside_the_package(graph: grimp.ImportGraph, package: str) -> None:
    assert _cycle_edges(graph, package) == []


def test_the_cycle_finder_sees_a_type_only_circle(tmp_path, monkeypatch) -> None:
    """The oracle itself: a circle closed only under TYPE_CHECKING is reported."""
    pkg = tmp_path / "circlepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from circlepkg.b import B\n")
    (pkg / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from circlepkg.a import A\nB = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = _cycle_edges(grimp.build_graph("circlepkg", cache_dir=None), "circlepkg")
    assert ("circlepkg.a", "circlepkg.b") in found
