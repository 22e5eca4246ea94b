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


#: what callers may take from the ledger's internals: URL helpers and the column sizes
ALLOWED_INTERNALS = {"ledger.engine": {"resolve_url", "safe_url"},
                     "ledger.schema": {"register_field_limits"}, "sqlalchemy.engine": {"make_url"}}
CALLERS = ("cli", "flows", "mailroom", "pipeline", "qa")
#: what reading or writing a table by hand needs (catching ``sa.exc`` errors is fine)
SQL_BUILDERS = {"create_engine", "select", "text", "insert", "update", "delete", "Table",
                "MetaData", "inspect"}


def test_callers_reach_the_ledger_only_through_the_handle():
    """No caller builds an engine, opens a transaction or reads a table itself."""
    root = LEDGER.parent
    found = []
    for package in CALLERS:
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Attribute) and node.attr in SQL_BUILDERS
                        and isinstance(node.value, ast.Name) and node.value.id in ("sa", "sqlalchemy")):
                    found.append(f"{path.relative_to(root)}:{node.lineno}: sa.{node.attr}")
                elif isinstance(node, ast.ImportFrom) and node.module and (
                        node.module.startswith(("sqlalchemy", "ledger.engine", "ledger.schema",
                                                "ledger.staging", "ledger.chain"))):
                    allowed = ALLOWED_INTERNALS.get(node.module, set())
                    found += [f"{path.relative_to(root)}: from {node.module} import {a.name}"
                              for a in node.names if a.name not in allowed]
    assert found == []
