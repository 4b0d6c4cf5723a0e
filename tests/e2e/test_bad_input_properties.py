"""Random input into every argument of every root field, over real HTTP, on SQLite and
PostgreSQL: whatever a caller sends, the answer is never a 5xx or INTERNAL_SERVER_ERROR,
every error carries a code, and a refused request writes nothing.

The operations are derived from the schema itself (every Query and Mutation field, every
argument, through input objects, lists and enums), so a field added later is covered
without editing this file. Values are drawn to hurt: NUL and lone surrogates,
whitespace-padded and non-ASCII digits, huge and negative numbers, JSON numbers with a
fraction or an exponent, dates at and past the calendar's ends with extreme offsets,
wrong types, and real ids of the demo's rows so that arguments reach real SQL. Each
argument is sent as a variable or written into the document as a literal.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator
from datetime import timedelta, timezone
from typing import Any

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import text

from schema.app_schema import schema
from tests.backends import BACKENDS
from tests.e2e.demo_site import DemoSite, demo_site
from tests.graphql import global_id

GRAPHQL_SCHEMA = schema._schema
# Refusals that record something on purpose (README "Errors"): the payout provider
# declined for good, and the payment is now PAYMENT_REJECTED.
WRITES_WHEN_REFUSED = {"PAYOUT_DECLINED"}
# Rows whose global ids the draws pick from, so arguments reach real rows and real SQL.
ID_TABLES = {
    "Payment": "payment",
    "Invoice": "invoice",
    "Partner": "partner",
    "PaymentDocument": "payment_document",
    "PaymentMethod": "payment_method",
    "Address": "address",
    "Merchant": "merchant",
    "User": "user_account",
}
EXAMPLES = 150


@pytest.fixture(scope="module", params=BACKENDS)
async def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DemoSite]:
    async with demo_site(request.param, tmp_path_factory.mktemp("bad-input-props")) as running:
        yield running


@pytest.fixture(scope="module")
async def known_ids(site: DemoSite) -> list[str]:
    """A few real global ids (and numeric ids) of each kind of row, lowest first."""
    found: list[str] = []
    for type_name, table in ID_TABLES.items():
        async with site.engine.connect() as connection:
            rows = await connection.execute(text(f"SELECT id FROM {table} ORDER BY id LIMIT 3"))
            for (row_id,) in rows:
                found += [global_id(type_name, row_id), str(row_id)]
    return found


# --- values -------------------------------------------------------------------------------

NASTY_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfff y",
    "\udbff\udc00",
    " abc",
    "abc ",
    "\tabc\n",
    "١٢",
    " 12",
    "+12",
    "12 ",
    "-0",
    "%_\\'\"",
    "😀",
    "Ω" * 300,
    "x" * 5000,
    "null",
    "USD",
    "usd",
    "2025-01-01",
    "createdAt",
    "desc",
]
NUMBERS = [0, -1, 1, 12, 2**31 - 1, 2**31, -(2**31) - 1, 2**63 - 1, 2**63, -(2**63), 10**30]
FLOATS = [12.0, 1e3, 1.5, -0.0, 1e308]
DATES = [
    "0001-01-01",
    "1969-12-31",
    "1970-01-01",
    "1999-12-31",
    "2000-01-01",
    "2025-02-29",
    "2025-13-01",
    "9000-12-31",
    "9001-01-01",
    "9999-12-31",
    "2025-01-01T00:00:00Z",
]
MOMENTS = [
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
    "1970-01-01T00:30:00+01:00",
    "1999-12-31T23:59:59Z",
    "2000-01-01T00:00:00Z",
    "2025-03-01",
    "2025-03-01T25:00:00",
    "9000-12-31T23:59:59.999999Z",
    "2999-01-01T00:00:00Z",
    "2025-03-01T12:00:00+24:00",
]

plain_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=8)
any_text = st.one_of(
    plain_text,
    plain_text,
    st.sampled_from(NASTY_TEXT),
    st.text(max_size=12),
    # every code point, surrogates and controls included
    st.text(st.characters(codec=None, exclude_categories=()), max_size=6),
)
any_int = st.one_of(st.integers(0, 200), st.sampled_from(NUMBERS), st.integers(-(2**70), 2**70))
moments = st.one_of(
    st.sampled_from(MOMENTS),
    st.builds(
        lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))),
        st.datetimes(),
        st.integers(-(24 * 60 - 1), 24 * 60 - 1),
    ).map(lambda moment: moment.isoformat()),
)
dates = st.one_of(st.sampled_from(DATES), st.dates().map(lambda on: on.isoformat()))
wrong_type = st.one_of(
    st.sampled_from(FLOATS), st.booleans(), st.none(), any_int, any_text, st.just([]), st.just({})
)


# The strategies for a type are built once per type (and ids and depth), not on every
# draw: hypothesis validates each new strategy object on its first draw, walking all it is
# made of, and an input object's strategy holds its fields' three levels deep. The same
# strategies draw the same values (`ids` is a tuple, so that it can key them).
@functools.cache
def scalar_values(scalar: GraphQLScalarType, ids: tuple[str, ...]) -> st.SearchStrategy[Any]:
    name = scalar.name
    if name == "ID":
        return st.one_of(st.sampled_from(ids), st.sampled_from(ids), any_text)
    if name == "Int":
        return any_int
    if name == "BigInt":
        return st.one_of(
            st.integers(1, 10**6).map(str),
            any_int,
            any_int.map(str),
            st.sampled_from(NASTY_TEXT + FLOATS),
        )
    if name == "Boolean":
        return st.booleans()
    if name == "Date":
        return dates
    if name == "DateTime":
        return moments
    if name == "Upload":
        return st.none()  # a file only travels in a multipart request
    return any_text


@functools.cache
def values(
    input_type: GraphQLInputType, ids: tuple[str, ...], depth: int = 0
) -> st.SearchStrategy[Any]:
    """Values for a GraphQL input type: mostly of the type, sometimes of another."""
    if isinstance(input_type, GraphQLNonNull):
        return values(input_type.of_type, ids, depth)
    if isinstance(input_type, GraphQLList):
        items = values(input_type.of_type, ids, depth + 1)
        return st.lists(items, max_size=3 if depth < 2 else 1)
    if isinstance(input_type, GraphQLEnumType):
        right: st.SearchStrategy[Any] = st.sampled_from(sorted(input_type.values))
    elif isinstance(input_type, GraphQLScalarType):
        right = scalar_values(input_type, ids)
    else:
        assert isinstance(input_type, GraphQLInputObjectType)
        right = input_objects(input_type, ids, depth)
    # one value in ten of another type: enough to hit every coercion, few enough that
    # most operations get past coercion to the domain and the SQL
    return st.one_of(*[right] * 9, wrong_type) if depth < 3 else right


@functools.cache
def input_objects(
    object_type: GraphQLInputObjectType, ids: tuple[str, ...], depth: int
) -> st.SearchStrategy[dict[str, Any]]:
    if depth >= 3:
        return st.just({})
    optional = [
        name
        for name, field in object_type.fields.items()
        if not isinstance(field.type, GraphQLNonNull)
    ]
    chosen = (
        st.lists(st.sampled_from(sorted(optional)), max_size=3, unique=True)
        if optional
        else st.just([])
    )
    return chosen.flatmap(lambda names: some_fields(object_type, ids, depth, tuple(names)))


@functools.cache
def some_fields(
    object_type: GraphQLInputObjectType, ids: tuple[str, ...], depth: int, names: tuple[str, ...]
) -> st.SearchStrategy[dict[str, Any]]:
    """The object's required fields, then the optional ones `names`, in that order."""
    fields = object_type.fields
    required = [name for name, field in fields.items() if isinstance(field.type, GraphQLNonNull)]
    return st.fixed_dictionaries(
        {name: values(fields[name].type, ids, depth + 1) for name in [*required, *names]}
    )


# --- operations -----------------------------------------------------------------------------


def literal(value: Any, input_type: GraphQLInputType) -> str:
    """`value` written into the document; what the type cannot take is written as-is,
    so the document refuses it (a bare enum name only where it is one)."""
    named = get_named_type(input_type)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        if isinstance(named, GraphQLEnumType) and value in named.values:
            return value
        return json.dumps(value)  # \uXXXX escapes read the same in GraphQL
    inner = input_type.of_type if isinstance(input_type, GraphQLNonNull) else input_type
    if isinstance(value, list):
        item_type = inner.of_type if isinstance(inner, GraphQLList) else inner
        return "[" + ", ".join(literal(item, item_type) for item in value) + "]"
    fields = named.fields if isinstance(named, GraphQLInputObjectType) else {}
    parts = [
        f"{key}: {literal(item, fields[key].type if key in fields else named)}"
        for key, item in value.items()
    ]
    return "{" + ", ".join(parts) + "}"


def selection(field: GraphQLField) -> str:
    """`__typename`, and the rows or payment under it, so the field's SQL runs."""
    named = get_named_type(field.type)
    if not isinstance(named, GraphQLObjectType):
        return "" if not hasattr(named, "fields") else " { __typename }"
    inner = ["__typename"]
    for name in ("nodes", "data", "payment", "document"):
        child = named.fields.get(name)
        if child is not None and not any(
            isinstance(arg.type, GraphQLNonNull) for arg in child.args.values()
        ):
            inner.append(f"{name} {{ __typename }}")
    return " { " + " ".join(inner) + " }"


@st.composite
def operations(draw: st.DrawFn, ids: list[str]) -> dict[str, Any]:
    """One root field of Query or Mutation with drawn arguments, as a request body."""
    roots = [
        (kind, name, field)
        for kind, root in (
            ("query", GRAPHQL_SCHEMA.query_type),
            ("mutation", GRAPHQL_SCHEMA.mutation_type),
        )
        if root is not None
        for name, field in root.fields.items()
    ]
    kind, name, field = draw(st.sampled_from(roots))
    # every optional argument left out half the time
    as_variables = draw(st.booleans())
    definitions, given_arguments, variables = [], [], {}
    for index, (arg_name, argument) in enumerate(field.args.items()):
        if not isinstance(argument.type, GraphQLNonNull) and not draw(st.booleans()):
            continue
        value = draw(values(argument.type, tuple(ids)))
        if as_variables:
            definitions.append(f"$v{index}: {argument.type}")
            given_arguments.append(f"{arg_name}: $v{index}")
            variables[f"v{index}"] = value
        else:
            given_arguments.append(f"{arg_name}: {literal(value, _input(argument))}")
    header = f"{kind}({', '.join(definitions)})" if definitions else kind
    call = f"{name}({', '.join(given_arguments)})" if given_arguments else name
    return {"query": f"{header} {{ {call}{selection(field)} }}", "variables": variables}


def _input(argument: GraphQLArgument) -> GraphQLInputType:
    return argument.type


def codes(body: Any) -> list[Any]:
    return [(error.get("extensions") or {}).get("code") for error in body.get("errors") or []]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
async def test_no_input_to_any_root_field_gets_a_5xx_or_writes_when_refused(
    site: DemoSite, known_ids: list[str], data: st.DataObject
) -> None:
    body = data.draw(operations(known_ids))
    note(json.dumps(body, ensure_ascii=True)[:3000])
    before = await site.counts()

    response = await site.post(body)

    assert response.status_code < 500, response.text
    answer = response.json()
    found = codes(answer)
    event(" ".join(sorted(set(map(str, found)))) or "answered")  # --hypothesis-show-statistics
    assert None not in found, answer
    assert "INTERNAL_SERVER_ERROR" not in found, answer
    if found and not WRITES_WHEN_REFUSED & set(found):
        assert await site.counts() == before, answer
