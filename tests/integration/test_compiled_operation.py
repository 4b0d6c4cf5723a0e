"""A query compiled statements answered whole is answered by them alone when it comes
again with the same variables (schema.compiled_execution.CompiledOperation), without
graphql-core's executor, and only while that gives the executor's answer: a caller the
permission matrix refuses, or a statement that finds nothing for this caller, sends the
operation back to the executor, which answers as ever. PostgreSQL only: reads compile
there (on the postgresql-resolvers backend too, since they are what this tests; the
executor's answers then come with the speed-ups off)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.compiled_reads import SqlCompiledReads
from db.engine import read_engine
from db.loaders import SqlReadLoaders
from domain.access import ReadScope
from domain.permissions import VIEW_PARTNER_PAYMENTS
from domain.principal import Principal
from domain.read_plan import Answer
from resolvers.context import Context
from schema.compiled_execution import encode
from tests.backends import POSTGRESQL, POSTGRESQL_RESOLVERS, on
from tests.factories import Factory, unique
from tests.graphql import admin, count_statements, global_id
from tests.integration.test_scopes import partner_user
from tests.read_paths import read_path
from tests.scoped_graphs import sibling_partners

pytestmark = pytest.mark.parametrize(
    "database_url", on(POSTGRESQL, POSTGRESQL_RESOLVERS), indirect=True
)

PAGE = """query($first: Int!) { payments(first: $first) { totalCount nodes {
  databaseId partner { name } } } }"""
LOOKUP = "query($id: ID!) { payment(id: $id) { databaseId amount { amount currency } } }"


async def run(engine: AsyncEngine, query: str, principal: Principal, **variables: Any) -> Any:
    """The result, with the context: its `compiled_roots` are the root fields the
    executor answered with compiled statements (none when the kept operation did)."""
    reads, scope = read_engine(engine), ReadScope.of(principal)
    context = Context(
        principal=principal,
        loaders=SqlReadLoaders(reads, scope),  # type: ignore[arg-type]
        compiled=SqlCompiledReads(reads, scope),
        request_id="test-request",
    )
    result = await read_path(engine).schema.execute(
        query, variable_values=variables, context_value=context
    )
    return result, context


async def execute_resolved(
    engine: AsyncEngine, query: str, principal: Principal, **variables: Any
) -> Any:
    """The body the resolvers give (no compiled reads)."""
    reads, scope = read_engine(engine), ReadScope.of(principal)
    context = Context(
        principal=principal,
        loaders=SqlReadLoaders(reads, scope),  # type: ignore[arg-type]
        compiled=None,
        request_id="test-request",
    )
    schema = read_path(engine).schema
    return body(await schema.execute(query, variable_values=variables, context_value=context))


def unseen(query: str) -> str:
    """`query` as an operation this process has not run: compiled operations are kept
    per document and variables for the whole process, and this module runs twice in one
    (once per PostgreSQL backend), so a test of what happens the first time names its
    operation anew."""
    return query.replace("query(", f"query {unique('Fresh')}(", 1)


def body(result: Any) -> Any:
    errors = [error.formatted for error in result.errors or []]
    return orjson.loads(encode({"data": result.data, "errors": errors}))


async def test_a_query_answered_whole_by_statements_is_answered_again_by_them_alone(
    engine: AsyncEngine,
) -> None:
    graph = await sibling_partners(Factory(engine))
    caller = admin(graph.tenant_id)
    page = unseen(PAGE)

    first, planned = await run(engine, page, caller, first=3)
    with count_statements(engine) as statements:
        again, kept = await run(engine, page, caller, first=3)
    other, replanned = await run(engine, page, caller, first=2)

    assert list(planned.compiled_roots) == ["payments"]  # the executor, the first time
    assert kept.compiled_roots == {}  # not the executor: the kept operation
    assert len(statements) == 1
    assert body(again) == body(first) and first.errors is None
    assert list(replanned.compiled_roots) == ["payments"]  # other variables: planned anew
    assert len(body(other)["data"]["payments"]["nodes"]) == 2


async def test_a_caller_the_permission_matrix_refuses_is_refused_as_ever(
    engine: AsyncEngine,
) -> None:
    graph = await sibling_partners(Factory(engine))
    await run(engine, PAGE, admin(graph.tenant_id), first=3)
    refused_caller = partner_user(graph.tenant_id, graph.mine_user, graph.mine, "none")

    refused, context = await run(engine, PAGE, refused_caller, first=3)

    assert refused.data is None
    assert [error.extensions["code"] for error in refused.errors] == ["FORBIDDEN"]
    assert context.compiled_roots == {}


async def test_a_row_another_caller_may_not_see_is_not_found_as_ever(
    engine: AsyncEngine,
) -> None:
    graph = await sibling_partners(Factory(engine))
    theirs = global_id("Payment", graph.their_payments[0].payment)
    seen, _ = await run(engine, LOOKUP, admin(graph.tenant_id), id=theirs)
    again, _ = await run(engine, LOOKUP, admin(graph.tenant_id), id=theirs)
    me = partner_user(graph.tenant_id, graph.mine_user, graph.mine, VIEW_PARTNER_PAYMENTS)

    hidden, _ = await run(engine, LOOKUP, me, id=theirs)

    assert body(again) == body(seen) and seen.errors is None
    assert hidden.data == {"payment": None}
    assert [error.extensions["code"] for error in hidden.errors] == ["NOT_FOUND"]


async def test_a_page_kept_for_one_caller_shows_another_only_their_rows(
    engine: AsyncEngine,
) -> None:
    graph = await sibling_partners(Factory(engine))
    page = unseen(PAGE)
    await run(engine, page, admin(graph.tenant_id), first=50)
    everyone, _ = await run(engine, page, admin(graph.tenant_id), first=50)
    me = partner_user(graph.tenant_id, graph.mine_user, graph.mine, VIEW_PARTNER_PAYMENTS)

    mine, kept = await run(engine, page, me, first=50)
    planned, executor = await run(engine, page, me, first=49)  # not kept: the executor's

    def rows(result: Any) -> set[int]:
        return {node["databaseId"] for node in body(result)["data"]["payments"]["nodes"]}

    assert kept.compiled_roots == {} and list(executor.compiled_roots) == ["payments"]
    assert rows(mine) == rows(planned)
    assert rows(mine) and rows(mine) < rows(everyone)
    assert not rows(mine) & {payment.payment for payment in graph.their_payments}


SORTED = """query($sort: [PaymentSort!]) { payments(first: 3, sort: $sort) {
  edges { cursor node { databaseId } } pageInfo { endCursor } } }"""


@pytest.mark.parametrize(
    ("field", "spliced"),
    [("CREATED_AT", True), ("AMOUNT", True), ("PAYMENT_DATE", True), ("REFERENCE", False)],
)
async def test_cursors_over_moments_dates_and_numbers_are_the_statements_own(
    engine: AsyncEngine, field: str, spliced: bool
) -> None:
    graph = await sibling_partners(Factory(engine))
    caller = admin(graph.tenant_id)
    sort = [{"field": field, "direction": "DESC"}]

    compiled, _ = await run(engine, SORTED, caller, sort=sort)
    resolved = await execute_resolved(engine, SORTED, caller, sort=sort)

    # the statement wrote the cursors: its text goes out unparsed (a text key's are
    # written in Python, from the statement's makings); either way, as the resolvers do
    assert isinstance(compiled.data["payments"], Answer) is spliced
    assert body(compiled) == resolved
