"""The ledger package has no import cycle (TYPE_CHECKING imports count) and no import
hidden inside a function to dodge one (issue 20: the facade and its delegates made one)."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

LEDGER = Path(__file__).resolve().parents[2] / "ledger"


def test_no_import_cycle_inside_the_ledger():
    graph = grimp.build_graph("ledger")
    inside = {m for m in graph.modules if m == "ledger" or m.startswith("ledger.")}
    cycles = sorted(
        (module, imported)
        for module in inside
        for imported in graph.find_modules_directly_imported_by(module) & inside
        if graph.chain_exists(importer=imported, imported=module)
    )
    assert cycles == []


def test_no_function_local_imports_in_the_ledger():
    hidden = []
    for path in sorted(LEDGER.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                hidden += [f"{path.relative_to(LEDGER)}:{inner.lineno}" for inner in ast.walk(node)
                           if isinstance(inner, ast.Import | ast.ImportFrom)]
    assert hidden == []
