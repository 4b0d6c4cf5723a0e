"""The documented permission matrix, error codes and commission lifecycle are the code's,
row for row (docs/permissions.md, docs/errors.md, docs/commission-payouts.md)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from domain import errors
from domain.permissions import OPERATIONS
from gateway.budget_answers import RESPONSE_TOO_LARGE
from gateway.request_guard import BAD_REQUEST, BATCHING_NOT_SUPPORTED, REQUEST_TOO_LARGE
from schema import limits
from schema.app_schema import INTROSPECTION_DISABLED, schema
from schema.errors import VALIDATION_FAILED
from schema.query_cost import QUERY_TOO_COSTLY, THROTTLED

DOCS = Path(__file__).resolve().parents[2] / "docs"
PERMISSIONS = (DOCS / "permissions.md").read_text()
ERRORS = (DOCS / "errors.md").read_text()
COMMISSION_PAYOUTS = (DOCS / "commission-payouts.md").read_text()


def _schema_operations() -> set[str]:
    graphql = schema._schema
    roots = [graphql.query_type, graphql.mutation_type, graphql.subscription_type]
    return {f"{root.name}.{name}" for root in roots if root for name in root.fields}


def test_every_row_of_the_permission_matrix_is_documented() -> None:
    live = _schema_operations()
    for operation, rule in OPERATIONS.items():
        kind, _, name = operation.partition(".")
        needs = " or ".join(f"`{p}`" for p in sorted(rule.any_of)) or "any authenticated caller"
        status = "yes" if operation in live else "*later*"
        row = f"| {kind.lower()} | `{name}` | {needs} | {rule.source} | {status} |"
        assert row in PERMISSIONS, row


def test_every_error_code_is_documented() -> None:
    domain_codes = {
        cls.code
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.DomainError)
    }
    edge_codes = {
        limits.QUERY_TOO_DEEP,
        limits.TOO_MANY_ALIASES,
        limits.TOO_MANY_TOKENS,
        INTROSPECTION_DISABLED,
        VALIDATION_FAILED,
        REQUEST_TOO_LARGE,
        BATCHING_NOT_SUPPORTED,
        BAD_REQUEST,
        RESPONSE_TOO_LARGE,
        QUERY_TOO_COSTLY,
        THROTTLED,
        "INTERNAL_SERVER_ERROR",
    }
    documented = set(re.findall(r"^\| `([A-Z0-9_-]+)`", ERRORS, flags=re.MULTILINE))
    assert domain_codes | edge_codes <= documented


def test_the_docs_draw_the_commission_lifecycle_from_its_transition_table() -> None:
    from domain.commission import diagram

    assert f"```mermaid\n{diagram()}\n```" in COMMISSION_PAYOUTS
