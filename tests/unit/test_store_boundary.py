"""The store's boundary (issue 13): the engine speaks to it in domain terms only, and the store
stays in rooms of a readable size."""

from __future__ import annotations

import ast
from pathlib import Path

import corthex

SRC = Path(corthex.__file__).parent


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_engine_reaches_the_database_only_through_the_store() -> None:
    """No SQLAlchemy (its errors are translated inside the store) and no store row types: rows
    come from corthex.domain.records. (pg_events reads a database URL; storage.py names
    database errors by module, to pause on a full disk.)"""
    allowed = {"pg_events.py": {"sqlalchemy.engine"}}
    for path in (SRC / "engine").glob("*.py"):
        found = {m for m in imported_modules(path) if m.startswith(("sqlalchemy", "corthex.store.chains"))}
        assert found <= allowed.get(path.name, set()), f"engine/{path.name} imports {sorted(found)}"


def test_no_store_module_is_a_maze() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in (SRC / "store").glob("*.py")}
    assert max(sizes.values()) < 400, sizes


def test_the_poller_does_not_read_the_stores_magic_words() -> None:
    """Giving up is a verb of the store and a field of the batch, not a status string the engine
    writes and then compares (what is stored stays as it was: see tests/store/test_store_verbs.py)."""
    for path in (SRC / "engine").glob("*.py"):
        assert '"given_up"' not in path.read_text(), f"engine/{path.name} spells the stored 'given_up'"
