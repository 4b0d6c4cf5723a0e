"""The cost function on hand-written documents: objects 1, scalars 0, lists multiplied by
their page size (asked for, in a variable, or the field's default), connections' rows
only, fragments followed once, aggregates and mutations at their own price; and what an
answer actually cost."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, get_named_type, parse

from domain.commission import Action
from domain.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from schema.app_schema import schema
from schema.cost import (
    AGGREGATE_COST,
    LIST_BOUNDS,
    MUTATION_COST,
    PAGE_SIZE_ARGUMENTS,
    PER_CURRENCY_TYPES,
    ROW_FIELDS,
    CostPlans,
    Step,
    build_plan,
)
from schema.document_lists import DEFAULT_DETAIL_LENGTH
from schema.fields import DEFAULT_PER_PAGE

SCHEMA = schema._schema


def cost(document: str, **variables: Any) -> int:
    return build_plan(SCHEMA, parse(document), None).requested(variables)


def issue_query(aliases: int = 15) -> str:
    """Issue 17's query: each alias three levels of payments -> partner -> payments."""
    one = (
        "payments(first:200){nodes{id partner{payments(pageSize:200){data{id "
        "partner{payments(pageSize:200){data{id}}}}}}}}"
    )
    return "{" + " ".join(f"a{i}: {one}" for i in range(aliases)) + "}"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param("{ __typename }", 0, id="typename"),
        pytest.param("{ viewer { credential permissions paymentKinds } }", 1, id="scalars-free"),
        pytest.param("{ viewer { tenant { name } user { name } } }", 3, id="objects-one-each"),
        pytest.param("{ payment(id: 1) { id amount { amount } partner { id } } }", 3, id="nested"),
    ],
)
def test_an_object_costs_one_and_a_scalar_nothing(document: str, expected: int) -> None:
    assert cost(document) == expected


def test_a_list_multiplies_its_subtree_by_the_page_size_asked_for() -> None:
    # The connection (1), then 10 rows of a payment and its partner.
    assert cost("{ payments(first: 10) { nodes { id partner { id } } } }") == 1 + 10 * 2
    assert cost("{ payments(last: 7) { nodes { id } } }") == 1 + 7
    # Nested lists multiply: 10 payments, each with 5 details of 2 objects.
    nested = (
        "{ payments(first: 10) { nodes { details(first: 5) { nodes { amount { amount } } } } } }"
    )
    assert cost(nested) == 1 + 10 * (1 + 1 + 5 * 2)


def test_only_a_connections_rows_multiply() -> None:
    document = """{ payments(first: 10) {
        totalCount pageInfo { hasNextPage } meta { perPage totalPages }
        edges { cursor node { id } } } }"""
    # connection 1, pageInfo 1, meta 1; 10 edges of an edge and its node.
    assert cost(document) == 3 + 10 * 2


@pytest.mark.parametrize(
    ("document", "rows"),
    [
        pytest.param("{ payments { nodes { id } } }", DEFAULT_PAGE_SIZE, id="first-default"),
        pytest.param("{ payments(page: 2) { nodes { id } } }", DEFAULT_PER_PAGE, id="perPage"),
        pytest.param("{ payments(page: 2, perPage: 9) { nodes { id } } }", 9, id="perPage-given"),
        pytest.param("{ partnerPayments { data { id } } }", 100, id="length-declared"),
        pytest.param("{ partnerPayments(length: 3) { data { id } } }", 3, id="length-given"),
        pytest.param("{ payments(first: 5000) { nodes { id } } }", MAX_PAGE_SIZE, id="capped"),
        pytest.param("{ payments(first: -3) { nodes { id } } }", 0, id="negative"),
    ],
)
def test_a_page_without_a_size_has_its_fields_default(document: str, rows: int) -> None:
    assert cost(document) == 1 + rows


def test_nested_defaults_come_from_where_the_arguments_are_declared() -> None:
    # partner.payments: pageSize 50 (document 001); details: `start` implies length 100.
    assert cost("{ partner(id: 1) { payments { data { id } } } }") == 2 + 50
    assert cost("{ payment(id: 1) { details { nodes { id } } } }") == 2 + DEFAULT_PAGE_SIZE
    offset = "{ payment(id: 1) { details(start: 10) { nodes { id } } } }"
    assert cost(offset) == 2 + DEFAULT_DETAIL_LENGTH
    groups = "{ payments(first: 1) { groupBy(by: [MERCHANT]) { nodes { count } } } }"
    assert cost(groups) == 1 + AGGREGATE_COST + 50


def test_page_sizes_in_variables_and_their_defaults() -> None:
    document = "query($n: Int, $p: Int = 4) { a: payments(first: $n) { nodes { id } } "
    document += "b: partners(first: $p) { nodes { id } } }"
    assert cost(document, n=7) == (1 + 7) + (1 + 4)
    assert cost(document, n=7, p=2) == (1 + 7) + (1 + 2)
    assert cost(document) == (1 + DEFAULT_PAGE_SIZE) + (1 + 4)  # $n missing: the default
    assert cost(document, n=None) == (1 + DEFAULT_PAGE_SIZE) + (1 + 4)
    assert cost(document, n="abc") == (1 + DEFAULT_PAGE_SIZE) + (1 + 4)  # refused later
    pages = "query($page: Int) { payments(page: $page) { nodes { id } } }"
    assert cost(pages, page=3) == 1 + DEFAULT_PER_PAGE
    assert cost(pages) == 1 + DEFAULT_PAGE_SIZE


def test_fragments_are_followed_and_a_field_selected_twice_counts_once() -> None:
    named = """{ payments(first: 10) { nodes { ...Row ...Row partner { id } } } }
        fragment Row on Payment { id partner { name } merchant { id } }"""
    # partner is selected twice under one key: GraphQL runs it once.
    assert cost(named) == 1 + 10 * 3
    inline = """{ node(id: "x") {
        ... on Payment { partner { id } details(first: 2) { nodes { id } } }
        ... on Invoice { company { id } } } }"""
    # The worst case: every type's selection counted.
    assert cost(inline) == 1 + 1 + (1 + 2) + 1
    merged = """{ payments(first: 10) { nodes { partner { id } } }
                  payments(first: 10) { nodes { merchant { id } } } }"""
    assert cost(merged) == 1 + 10 * 3


def test_skip_and_include_count_the_worst_case() -> None:
    document = "{ payments(first: 10) { nodes @skip(if: true) { partner { id } } } }"
    assert cost(document) == 1 + 10 * 2


def test_aggregates_and_group_bys_carry_their_own_cost() -> None:
    aggregate = """{ payments(first: 0) { aggregate { count
        sum { currency amount { amount } paidAmount { amount } } avg { amount { amount } } } } }"""
    # A per-currency measure list counts one entry: the GROUP BY makes them all.
    assert cost(aggregate) == 1 + AGGREGATE_COST + (1 + 2) + (1 + 1)
    group_by = """{ payments(first: 0) { groupBy(by: [MERCHANT, CURRENCY], first: 20) {
        hasNextPage
        nodes { keys { merchant { name } currency } count sum { amount { amount } } } } } }"""
    assert cost(group_by) == 1 + AGGREGATE_COST + 20 * (1 + 2 + 2)
    portfolio = """{ partner(id: 1) { portfolio { count volume { volume { amount } }
        statusMix { count } merchants(first: 10) { nodes { count merchant { id } } } } } }"""
    statuses = LIST_BOUNDS[("Portfolio", "statusMix")]
    assert cost(portfolio) == 1 + AGGREGATE_COST + 2 + statuses + AGGREGATE_COST + 10 * 2


def test_plain_lists_use_their_declared_bound() -> None:
    document = "{ payment(id: 1) { invoices { id } availableTransitions { action } } }"
    assert cost(document) == 1 + 1 + len(Action)


def test_a_mutation_costs_its_own_price_plus_what_its_payload_selects() -> None:
    document = 'mutation { authorizePayment(id: "1") { success payment { id partner { id } } } }'
    assert cost(document) == MUTATION_COST + 2


def test_introspection_costs_a_small_constant() -> None:
    assert cost("{ __schema { types { name fields { name } } } }") == 1
    assert cost('{ __type(name: "Payment") { name } }') == 1


def test_the_issues_fifteen_alias_query_costs_fifteen_times_two_hundred_cubed() -> None:
    one_alias = 1 + 200 * (1 + 1 + 1 + 200 * (1 + 1 + 1 + 200))
    assert cost(issue_query(1)) == one_alias
    assert cost(issue_query()) == 15 * one_alias == 121_809_015


def test_the_operation_named_is_the_one_measured() -> None:
    document = parse(
        "query Small { viewer { tenant { id } } } query Big { payments { nodes { id } } }"
    )
    assert build_plan(SCHEMA, document, "Small").requested() == 2
    assert build_plan(SCHEMA, document, "Big").requested() == 1 + DEFAULT_PAGE_SIZE
    assert build_plan(SCHEMA, document, None).requested() == 0  # ambiguous: refused later


def test_the_actual_cost_counts_the_objects_present_in_the_answer() -> None:
    plan = build_plan(
        SCHEMA,
        parse("{ p: payments(first: 10) { totalCount nodes { id partner { id } } } }"),
        None,
    )
    data = {
        "p": {
            "totalCount": 2,
            "nodes": [{"id": "a", "partner": {"id": "x"}}, {"id": "b", "partner": None}],
        }
    }
    assert plan.requested() == 21
    assert plan.actual(data) == 1 + 2 + 1
    assert plan.actual(None) == 0


def test_plans_are_kept_per_document_and_costs_per_page_size_variables() -> None:
    plans = CostPlans(SCHEMA)
    query = "query($n: Int, $f: PaymentFilter) { payments(first: $n, filter: $f) { nodes { id } } }"
    plan = plans.plan(query, parse(query), None)
    assert plans.plan(query, parse(query), None) is plan
    assert plan.variables == frozenset({"n"})  # the filter does not size a page
    assert plan.requested({"n": 3, "f": {"a": 1}}) == 4
    assert plan.requested({"n": 3, "f": {"b": 2}}) == 4


def test_fragments_that_multiply_paths_are_planned_in_moments() -> None:
    # Each level spreads the next fragment under two aliases: 2**9 paths, 10 fragments.
    levels = 9
    fragments = " ".join(
        f"fragment F{i} on Partner {{ a: parent {{ ...F{i + 1} }} b: parent {{ ...F{i + 1} }} }}"
        for i in range(levels)
    )
    document = (
        f"{{ partner(id: 1) {{ ...F0 }} }} {fragments} fragment F{levels} on Partner {{ id }}"
    )
    plan = build_plan(SCHEMA, parse(document), None)
    assert plan.requested() == 1 + sum(2**i for i in range(1, levels + 1))
    # Each fragment is planned once and shared: the plan grows with the document, not
    # with the paths it spells.
    assert len(distinct_steps(plan.steps)) <= 3 * (levels + 2)


def distinct_steps(steps: dict[str, Step], seen: dict[int, Step] | None = None) -> dict[int, Step]:
    seen = {} if seen is None else seen
    for step in steps.values():
        if id(step) not in seen:
            seen[id(step)] = step
            distinct_steps(step.below, seen)
    return seen


def test_every_list_in_the_schema_has_a_page_size_or_a_bound() -> None:
    """A new list field must say how long it can be, or its cost would be a guess."""
    paged_types = set()
    unbounded = []
    for type_ in SCHEMA.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, definition in type_.fields.items():
            if any(argument in definition.args for argument in PAGE_SIZE_ARGUMENTS):
                paged_types.add(get_named_type(definition.type).name)
            field_type = definition.type
            if isinstance(field_type, GraphQLNonNull):
                field_type = field_type.of_type
            named = get_named_type(field_type)
            if not isinstance(field_type, GraphQLList) or not isinstance(named, GraphQLObjectType):
                continue
            if name in ROW_FIELDS:
                continue
            if named.name in PER_CURRENCY_TYPES or (type_.name, name) in LIST_BOUNDS:
                continue
            unbounded.append(f"{type_.name}.{name}")
    assert unbounded == []
    # Rows belong to a page: every type carrying rows is returned by a paged field.
    carriers = {
        t.name
        for t in SCHEMA.type_map.values()
        if isinstance(t, GraphQLObjectType) and ROW_FIELDS & set(t.fields)
    }
    assert carriers <= paged_types
    for type_name, field_name in LIST_BOUNDS:
        assert field_name in SCHEMA.type_map[type_name].fields  # type: ignore[union-attr]
