"""PayGraph's schema run in this process, as the server runs it for one request, with the
SQL statements it issues recorded: for the raw SQL floor (which replays them) and for
profiling without HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import read_engine
from db.loaders import SqlReadLoaders
from domain.access import ReadScope
from domain.permissions import ALL_PERMISSIONS
from domain.principal import Credential, Principal
from resolvers.context import Context
from schema.app_schema import schema

Statement = tuple[str, tuple[Any, ...]]  # SQL with $n placeholders, and its parameters


def admin(tenant_id: int) -> Principal:
    return Principal(
        tenant_id=tenant_id, user_id=None, credential=Credential.JWT, permissions=ALL_PERMISSIONS
    )


async def execute(
    engine: AsyncEngine, query: str, tenant_id: int, variables: dict[str, Any]
) -> Any:
    """One read request as a tenant's admin: the loaders and scope of a real request."""
    principal = admin(tenant_id)
    context = Context(
        principal=principal,
        loaders=SqlReadLoaders(read_engine(engine), ReadScope.of(principal)),  # type: ignore[arg-type]
        request_id="bench",
    )
    result = await schema.execute(query, variable_values=variables, context_value=context)
    if result.errors:
        raise RuntimeError(f"the workload failed in-process: {result.errors}")
    return result.data


@contextmanager
def recording(engine: AsyncEngine) -> Iterator[list[Statement]]:
    """Every statement the engine sends while the block runs, with its parameters (asyncpg
    takes them positionally, as SQLAlchemy's asyncpg dialect renders them)."""
    statements: list[Statement] = []

    def record(_conn: Any, _cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
        statements.append((sql, tuple(parameters or ())))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
