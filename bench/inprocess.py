"""PayGraph's schema run in this process for one read request, through the test suite's
executor (tests/graphql.py: the loaders and scope of a real request), with the SQL it
issues recorded: for the raw SQL floor (which replays it) and for profiling without HTTP."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.graphql import admin, count_statements
from tests.graphql import execute as execute_as

Statement = tuple[str, tuple[Any, ...]]  # SQL with $n placeholders, and its parameters


async def execute(
    engine: AsyncEngine, query: str, tenant_id: int, variables: dict[str, Any]
) -> Any:
    """One read request as the tenant's admin; its data, or an error if it failed."""
    result = await execute_as(engine, query, admin(tenant_id), **variables)
    if result.errors:
        raise RuntimeError(f"the workload failed in-process: {result.errors}")
    return result.data


async def statements_of(
    engine: AsyncEngine, query: str, tenant_id: int, variables: dict[str, Any]
) -> list[Statement]:
    """The statements one request sends, with their parameters (asyncpg takes them
    positionally, as SQLAlchemy's asyncpg dialect renders them)."""
    with count_statements(engine) as counter:
        await execute(engine, query, tenant_id, variables)
    return list(zip(counter.statements, counter.parameters, strict=True))
