"""The executor's fast path gives exactly what graphql-core's general way gives: data,
nulls, and errors with their message, locations and path."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import strawberry
from graphql import ExecutionResult, GraphQLResolveInfo, execute, parse
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from domain.statuses import PaymentStatus as Status
from schema.app_schema import build_schema, schema
from schema.enums import PaymentStatus
from schema.fast_execution import FastExecutor
from schema.fast_plans import FAST, mark_fast
from schema.lean import lean, lean_field, use_lean_resolvers
from schema.scalars import SCALAR_MAP, BigInt


@strawberry.interface(name="Node", description="Test node.")
class Node:
    id: strawberry.ID = strawberry.field(description="Global id.")


@strawberry.type(description="Test money.")
class Amount:
    units: BigInt = strawberry.field(description="Minor units.")
    currency: str = strawberry.field(description="Code.")


@strawberry.type(description="Test pair of amounts, for nesting.")
class Pair:
    inner: Amount = strawberry.field(description="A non-null object in a non-null chain.")
    maybe: Amount | None = strawberry.field(description="A nullable object.")
    size: int = strawberry.field(description="A non-null Int.")


@strawberry.type(description="Test page of amounts, as a child list's connection.")
class Shelf:
    amounts: list[Amount] = strawberry.field(description="The page's items.")
    label: str = strawberry.field(description="Given by argument, else the field name.")

    @strawberry.field(description="Awaitable, as a connection's totalCount.")
    async def total(self) -> int:
        return len(self.amounts)


def _sibling(root: Any, info: strawberry.Info) -> Row | None:
    return info.context["rows"].get(root.sibling_id)


def _shelf(root: Any, info: Any, first: int = 2, label: str | None = None) -> Any:
    """A lean resolver with arguments, as a ChildList's: at once, except for rows whose
    page is still being loaded (count 3)."""
    if first < 0:
        raise ValueError("negative first")
    items = root.amounts if isinstance(root.amounts, list | tuple) else []
    shelf = Shelf(amounts=list(items)[:first], label=label or info.field_nodes[0].name.value)
    if root.count != 3:
        return shelf

    async def later() -> Shelf:
        return shelf

    return later()


@strawberry.type(description="Test row.")
class Row(Node):
    name: str = strawberry.field(description="Never null, unless broken.")
    nickname: str | None = strawberry.field(description="Often null.")
    status: PaymentStatus = strawberry.field(description="An enum.")
    created_at: datetime = strawberry.field(description="A custom scalar.")
    count: int = strawberry.field(description="An Int.")
    amount: Amount = strawberry.field(description="A non-null object.")
    maybe_amount: Amount | None = strawberry.field(description="A nullable object.")
    sibling_id: int | None = strawberry.field(description="Key of the sibling.")
    pair: Pair | None = strawberry.field(description="A nullable object with objects in it.")
    sibling: Row | None = lean_field(_sibling, "Another row, through the context.")
    amounts: list[Amount] = strawberry.field(description="A list of non-null objects.")
    loose_amounts: list[Amount | None] | None = strawberry.field(
        description="A nullable list of nullable objects."
    )
    tags: list[str] = strawberry.field(description="A list of leaves.")

    @strawberry.field(description="A page of the amounts, by arguments.")
    def shelf(self, first: int = 2, label: str | None = None) -> Shelf:
        raise AssertionError("replaced by the lean resolver")

    @lean("Twice the count; fails on a negative one.")
    def twice(self) -> int:
        if self.count < 0:  # type: ignore[operator]
            raise ValueError("negative count")
        return 2 * self.count


@strawberry.type(description="Test root.")
class Query:
    @strawberry.field(description="The rows.")
    def rows(self, info: strawberry.Info) -> list[Row | None]:
        return list(info.context["rows"].values())

    @strawberry.field(description="The first row, not null.")
    def first(self, info: strawberry.Info) -> Row:
        return next(iter(info.context["rows"].values()))


def row(row_id: int, **changes: Any) -> Row:
    values: dict[str, Any] = {
        "id": row_id,
        "name": f"row {row_id}",
        "nickname": None,
        "status": Status.COMPLETED,
        "created_at": datetime(2024, 5, 1, 12, row_id, tzinfo=UTC),
        "count": row_id,
        "amount": Amount(units=BigInt(10**15 + row_id), currency="USD"),
        "maybe_amount": None,
        "sibling_id": None,
        "pair": None,
        "amounts": [amount(1), amount(2)],
        "loose_amounts": None,
        "tags": ["a", "b"],
    }
    values.update(changes)
    return Row(**values)


QUERY = """
query Page($withName: Boolean!, $skipCount: Boolean!) {
  rows {
    __typename
    id
    ...Names
    label: name
    status
    createdAt
    count @skip(if: $skipCount)
    twice
    amount { units currency __typename }
    maybeAmount { units }
    sibling { id name @include(if: $withName) sibling { id } }
    ... on Row { nickname count }
  }
  first { id name }
}

fragment Names on Row {
  name @include(if: $withName)
  nickname
}
"""


def lean_schema() -> strawberry.Schema:
    built = strawberry.Schema(
        query=Query, types=[Row], config=StrawberryConfig(scalar_map=SCALAR_MAP)
    )
    use_lean_resolvers(built, built._schema)
    shelf = built._schema.type_map["Row"].fields["shelf"]  # type: ignore[union-attr]
    shelf.resolve = _shelf
    mark_fast(shelf, with_arguments=True)
    return built


class CountingFastExecutor(FastExecutor):
    """Counts the resolve infos built: the fast path builds none for leaves."""

    infos = 0

    def build_resolve_info(self, *args: Any) -> GraphQLResolveInfo:
        CountingFastExecutor.infos += 1
        return super().build_resolve_info(*args)


async def run(
    executor: type,
    built: strawberry.Schema,
    rows: dict[int, Any],
    query: str = QUERY,
    **variables: Any,
) -> ExecutionResult:
    outcome = execute(
        built._schema,
        parse(query),
        context_value={"rows": rows},
        variable_values={"withName": True, "skipCount": False, **variables},
        executor_class=executor,
    )
    result = await outcome if asyncio.iscoroutine(outcome) else outcome
    assert isinstance(result, ExecutionResult)
    return result


def page(*rows: Row) -> dict[int, Any]:
    return {int(r.id): r for r in rows}


async def assert_same_as_general_way(
    rows: dict[int, Any],
    built: strawberry.Schema | None = None,
    query: str = QUERY,
    **variables: Any,
) -> ExecutionResult:
    built = built or lean_schema()
    general = await run(StrawberryGraphQLCoreExecutionContext, built, rows, query, **variables)
    fast = await run(CountingFastExecutor, built, rows, query, **variables)
    # The same data, keys in the same order.
    assert json.dumps(fast.data) == json.dumps(general.data)
    assert [error.formatted for error in fast.errors or []] == [
        error.formatted for error in general.errors or []
    ]
    return fast


async def test_a_page_of_plain_fields_reads_as_the_general_way_reads_it() -> None:
    # given rows with relations, nulls, enums, custom scalars and big integers
    rows = page(row(1, sibling_id=2, nickname="one"), row(2, sibling_id=1), row(3))

    # when the page is read with and without the fast path, with every directive
    for with_name in (True, False):
        for skip_count in (True, False):
            CountingFastExecutor.infos = 0
            result = await assert_same_as_general_way(
                rows, withName=with_name, skipCount=skip_count
            )

            # then both agree, and the fast path built resolve infos only for the two
            # root fields: every row's selection is compiled, `__typename`s and type
            # checks (`is_type_of`) included
            assert not result.errors
            assert CountingFastExecutor.infos == 2
    assert result.data is not None
    first = result.data["rows"][0]
    assert first["status"] == "COMPLETED"
    assert first["amount"] == {
        "units": "1000000000000001",
        "currency": "USD",
        "__typename": "Amount",
    }
    assert first["createdAt"] == "2024-05-01T12:01:00+00:00"
    assert first["sibling"]["sibling"] == {"id": first["id"]}


async def test_errors_and_nulls_are_reported_as_the_general_way_reports_them() -> None:
    # given a sound first row and rows each broken in one way
    rows = page(
        row(1),
        row(2, name=None),  # null for a non-null leaf: the row becomes null
        row(3, count="many"),  # an Int that cannot be serialised
        row(4, status="NOT A STATUS"),  # an enum value that does not exist
        row(5, count=-1),  # a resolver that raises
        row(6, amount=None),  # null for a non-null object
        row(7, amount=Amount(units=BigInt(1), currency=None)),  # a null inside an object
        row(8, sibling_id=99),  # a relation to nothing
        row(9, sibling_id=1, created_at="yesterday"),  # a DateTime that is not one
        row(10, maybe_amount="not an amount"),  # an object read off a string
        row(11, sibling_id=12),  # a relation to something that is not a Row
    )
    rows[12] = Amount(units=BigInt(1), currency="EUR")

    # when the page is read with and without the fast path
    result = await assert_same_as_general_way(rows)

    # then the same errors, at the same places, null the same fields
    assert result.data is not None and result.errors
    messages = {error.message for error in result.errors}
    assert "Cannot return null for non-nullable field Row.name." in messages
    assert "negative count" in messages
    assert result.data["rows"][0] is not None and result.data["rows"][1] is None


async def test_an_awaitable_relation_goes_the_general_way() -> None:
    # given a row whose related row is still being loaded
    rows = page(row(1, sibling_id=2), row(2))
    pending: asyncio.Future[Row] = asyncio.get_running_loop().create_future()
    pending.set_result(rows[2])
    built = lean_schema()
    sibling = built._schema.type_map["Row"].fields["sibling"]  # type: ignore[union-attr]
    sibling.resolve = lambda root, _info: pending if root.sibling_id else None

    # when the page is read, then the pending relation is awaited as before
    result = await assert_same_as_general_way(rows, built)
    assert result.data is not None
    assert result.data["rows"][0]["sibling"]["name"] == "row 2"


def test_plain_fields_of_object_types_are_marked_fast_and_root_fields_never() -> None:
    # given the test schema, when its resolvers are made lean
    built = lean_schema()._schema
    fields = built.type_map["Row"].fields  # type: ignore[union-attr]

    # then attribute reads, Node ids and lean fields are fast; root fields never are
    assert {name for name, field in fields.items() if FAST in field.extensions} == set(fields)
    assert not any(FAST in field.extensions for field in built.query_type.fields.values())  # type: ignore[union-attr]


def test_the_app_schema_and_the_servers_use_the_fast_executor() -> None:
    for app_schema in (schema, build_schema()):
        assert app_schema.execution_context_class is FastExecutor
        fields = app_schema._schema.type_map["Payment"].fields  # type: ignore[union-attr]
        assert FAST in fields["status"].extensions
        # child lists are lean with their arguments; their connections' nodes are lists
        for name in ("details", "documents"):
            assert fields[name].extensions[FAST].with_arguments
            connection = fields[name].type.of_type
            assert connection.fields["nodes"].extensions[FAST].is_list


DEEP_QUERY = """
query Deep($withName: Boolean!, $skipCount: Boolean!) {
  rows {
    id
    pair {
      __typename
      inner { units currency }
      ...PairParts
      again: inner { currency @skip(if: $skipCount) units }
      maybe { __typename currency units @include(if: $withName) }
      size @include(if: $withName)
    }
    sibling {
      name
      pair { inner { currency } maybe { currency } }
      sibling { id pair { size } }
    }
  }
}

fragment PairParts on Pair {
  inner { __typename units }
  size
}
"""


def amount(units: int = 1, currency: Any = "EUR") -> Amount:
    return Amount(units=BigInt(units), currency=currency)


def pair(**changes: Any) -> Pair:
    values: dict[str, Any] = {"inner": amount(), "maybe": amount(2), "size": 2}
    values.update(changes)
    return Pair(**values)


async def test_nested_plain_selections_are_filled_in_as_the_general_way_fills_them() -> None:
    # given rows with pairs of amounts, three levels deep through siblings
    rows = page(
        row(1, sibling_id=2, pair=pair()),
        row(2, sibling_id=3, pair=pair(maybe=None)),
        row(3, sibling_id=1, pair=pair(size=0)),
    )

    # when they are read with aliases, a fragment on the same type and every directive
    for with_name in (True, False):
        for skip_count in (True, False):
            CountingFastExecutor.infos = 0
            result = await assert_same_as_general_way(
                rows, query=DEEP_QUERY, withName=with_name, skipCount=skip_count
            )

            # then both agree, and only the root field built a resolve info
            assert not result.errors
            assert CountingFastExecutor.infos == 1
    assert result.data is not None
    first = result.data["rows"][0]
    assert list(first["pair"]) == ["__typename", "inner", "size", "again", "maybe"]
    assert first["pair"]["inner"] == {"units": "1", "currency": "EUR", "__typename": "Amount"}
    assert first["sibling"]["sibling"]["pair"] == {"size": 0}


async def test_failures_deep_in_a_compiled_selection_are_reported_as_before() -> None:
    # given rows each broken in one way deep inside a plain selection
    rows = page(
        row(1, sibling_id=2, pair=pair()),
        row(2, pair=pair(inner=amount(currency=None))),  # null in a non-null chain
        row(3, pair=pair(maybe=amount(currency=None))),  # null under a nullable object
        row(4, pair=pair(inner=amount(currency=["EUR"]))),  # a String that is not one
        row(5, pair=pair(size="two")),  # an Int that is not one
        row(6, pair=pair(inner=None)),  # null for a non-null object
        row(7, sibling_id=8, pair=pair()),  # a sibling whose pair breaks
        row(8, pair=pair(inner=amount(currency=None))),
        row(9, pair="not a pair"),  # an object read off a string
        row(10, sibling_id=11),  # a sibling that is not a Row
    )
    rows[11] = pair()

    # when the page is read with and without the fast path
    result = await assert_same_as_general_way(rows, query=DEEP_QUERY)

    # then the same errors, at the same places, null the same fields: a null in a
    # non-null chain nulls up to the nearest nullable field, the pair
    assert result.data is not None and result.errors
    by_path = {tuple(error.path or ()): error.message for error in result.errors}
    assert by_path[("rows", 1, "pair", "inner", "currency")] == (
        "Cannot return null for non-nullable field Amount.currency."
    )
    assert result.data["rows"][1]["pair"] is None
    assert result.data["rows"][2]["pair"]["maybe"] is None
    assert result.data["rows"][6]["sibling"]["pair"] is None
    assert result.data["rows"][0]["pair"] is not None


LISTS_QUERY = """
query Lists($first: Int!, $label: String) {
  rows {
    id
    amounts { units currency __typename }
    looseAmounts { currency }
    tags
    shelf { label amounts { units } }
    firstOnes: shelf(first: $first, label: $label) { amounts { currency } label }
  }
}
"""


async def test_lists_of_plain_items_are_filled_in_as_the_general_way_fills_them() -> None:
    # given rows with lists of objects and of leaves, lists and tuples, null items in a
    # nullable list
    rows = page(
        row(1, loose_amounts=[None, amount(3)]),
        row(2, amounts=(amount(4),), tags=()),
        row(4, amounts=[], loose_amounts=[]),
    )

    # when they are read, child lists by default and variable-provided arguments
    for variables in ({"first": 1}, {"first": 0, "label": "none"}):
        CountingFastExecutor.infos = 0
        result = await assert_same_as_general_way(rows, query=LISTS_QUERY, **variables)

        # then both agree, and only the root field built a resolve info: the rows,
        # their lists and their child lists are compiled whole
        assert not result.errors
        assert CountingFastExecutor.infos == 1
    assert result.data is not None
    first = result.data["rows"][0]
    assert first["looseAmounts"] == [None, {"currency": "EUR"}]
    assert first["shelf"] == {"label": "shelf", "amounts": [{"units": "1"}, {"units": "2"}]}
    assert first["firstOnes"] == {"amounts": [], "label": "none"}


async def test_failing_list_items_are_reported_as_the_general_way_reports_them() -> None:
    # given a sound first row and rows each broken in one way inside a list
    rows = page(
        row(1),
        row(2, amounts=[amount(), None]),  # null for a non-null item: the row is null
        row(4, amounts=[amount(currency=["EUR"])]),  # an item failing coercion
        row(5, tags=["a", ["b"]]),  # a leaf item failing coercion
        row(6, loose_amounts=[amount(currency=None)]),  # a null inside a nullable item
        row(7, amounts="not a list"),  # a list read off a string
        row(8, tags=None),  # null for a non-null list
        row(9, loose_amounts=[amount(), "not an amount"]),  # an item of another type
    )

    # when the page is read with and without the fast path
    result = await assert_same_as_general_way(rows, query=LISTS_QUERY, first=1)

    # then the same errors, at the same places, null the same fields
    assert result.data is not None and result.errors
    by_path = {tuple(error.path or ()): error.message for error in result.errors}
    assert by_path[("rows", 1, "amounts", 1)] == (
        "Cannot return null for non-nullable field Row.amounts."
    )
    assert result.data["rows"][0] is not None and result.data["rows"][1] is None
    assert result.data["rows"][4]["looseAmounts"] == [None]


async def test_a_child_list_still_being_loaded_goes_the_general_way() -> None:
    # given rows whose child list is at once, and one whose page is still loading
    rows = page(row(1), row(3), row(4))

    # when they are read, with the awaitable `total` selected or not
    for query in (LISTS_QUERY, LISTS_QUERY.replace("label }", "label total }")):
        result = await assert_same_as_general_way(rows, query=query, first=1)

        # then the pending page is awaited as before, and reported as before
        assert not result.errors
        assert result.data is not None
        assert result.data["rows"][1]["shelf"]["amounts"] == [{"units": "1"}, {"units": "2"}]


async def test_failing_arguments_of_a_child_list_are_reported_as_before() -> None:
    # given rows, when their child list is asked for a negative page size
    result = await assert_same_as_general_way(page(row(1), row(3)), query=LISTS_QUERY, first=-1)

    # then every row reports it, and is null as before
    assert result.data is not None and result.errors
    assert {error.message for error in result.errors} == {"negative first"}
    assert result.data["rows"] == [None, None]
