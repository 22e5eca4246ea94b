"""core/ imports point one way: no cycle among its modules, type-only imports included
(grimp, as import-linter, counts ``if TYPE_CHECKING:`` imports too)."""

from __future__ import annotations

import grimp


def test_no_import_cycle_inside_core() -> None:
    graph = grimp.build_graph("core", cache_dir=None)
    cycles = [(a, b) for a in graph.modules for b in graph.find_modules_directly_imported_by(a)
              if graph.chain_exists(importer=b, imported=a)]
    assert cycles == []


def test_keys_use_the_token_module_not_the_reverse() -> None:
    graph = grimp.build_graph("core", cache_dir=None)
    assert graph.direct_import_exists(importer="core.keys", imported="core.hsm")
    assert not graph.chain_exists(importer="core.hsm", imported="core.keys")
