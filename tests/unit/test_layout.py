"""The packages are ours (PyPI has unrelated `schema`, `db` and `domain` packages) and
imports only point the allowed way: gateway -> schema -> resolvers -> domain <- db."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["domain", "db", "resolvers", "schema", "gateway"]

# package -> first-party packages it must never import
FORBIDDEN = {
    "domain": {"db", "resolvers", "schema", "gateway", "strawberry", "sqlalchemy", "alembic"},
    "db": {"resolvers", "schema", "gateway", "strawberry"},
    "resolvers": {"schema", "db", "gateway", "sqlalchemy"},
    "schema": {"db", "gateway", "sqlalchemy"},
}


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_resolve_to_this_repository(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().parent == ROOT / package


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_follow_the_dependency_direction(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_top_levels(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    assert {file: names for file, names in offenders.items() if names} == {}
