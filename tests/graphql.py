"""Run operations against the schema on a real database, as the app would, and count
the SQL statements they issue."""

from __future__ import annotations

import base64
import contextlib
import functools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from db.compiled_reads import SqlCompiledReads, compiles
from db.engine import read_engine
from db.loaders import SqlReadLoaders
from domain.access import ReadScope
from domain.commission_workflow import CommissionWorkflow
from domain.invoice_workflow import InvoicePayments
from domain.permissions import ALL_PERMISSIONS
from domain.principal import Credential, Principal
from domain.reseller_payments import ResellerPayments
from resolvers.context import Context
from schema.compiled_execution import encode
from tests.read_paths import read_path


def global_id(type_name: str, row_id: int) -> str:
    """A row's global ID as the schema writes it: base64 of `<Type>:<id>`."""
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def id_of(raw: Any) -> int:
    """The row id in a global ID or a numeric one, as an answer gives it."""
    text = str(raw)
    if text.isdigit():
        return int(text)
    _type_name, _, number = base64.b64decode(text).decode().partition(":")
    return int(number)


def moment_of(text: str) -> datetime:
    """An answer's DateTime as an aware UTC moment (no offset means UTC)."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def compiling(engine: AsyncEngine) -> bool:
    """Whether in-process operations compile their reads: on PostgreSQL unless its read
    path (tests.read_paths) has them off, as the server decides."""
    return compiles(engine) and read_path(engine).compiled


# The read engine of an engine, made once as the app makes it once at startup: a new one
# per operation (SQLAlchemy's option engine) cost some 40% more CPU per connection taken.
reads_of = functools.lru_cache(maxsize=16)(read_engine)


def admin(tenant_id: int, user_id: int | None = None) -> Principal:
    return Principal(
        tenant_id=tenant_id, user_id=user_id, credential=Credential.JWT, permissions=ALL_PERMISSIONS
    )


async def execute(
    engine: AsyncEngine,
    query: str,
    principal: Principal,
    *,
    commission: CommissionWorkflow | None = None,
    resellers: ResellerPayments | None = None,
    invoices: InvoicePayments | None = None,
    client_ip: str | None = None,
    **variables: Any,
) -> Any:
    """Run `query` as the app would, on `engine`'s read path (tests.read_paths);
    mutations need their use cases (`commission`, `resellers`, `invoices`)."""
    reads, scope = reads_of(engine), ReadScope.of(principal)
    context = Context(
        principal=principal,
        loaders=SqlReadLoaders(reads, scope),  # type: ignore[arg-type]
        compiled=SqlCompiledReads(reads, scope) if compiling(engine) else None,
        request_id="test-request",
        commission=commission,
        resellers=resellers,
        invoices=invoices,
        client_ip=client_ip,
    )
    result = await read_path(engine).schema.execute(
        query, variable_values=variables, context_value=context
    )
    if result.data is not None:
        # As a client reads it: a compiled answer is the statement's JSON text until the
        # response is written (schema.compiled_execution.encode).
        result.data = orjson.loads(encode(result.data))
    return result


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.parameters: list[tuple[Any, ...]] = []  # each statement's, positionally

    def __len__(self) -> int:
        return len(self.statements)


@contextlib.contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[StatementCounter]:
    counter = StatementCounter()

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        counter.statements.append(statement)
        counter.parameters.append(tuple(parameters or ()))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield counter
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
