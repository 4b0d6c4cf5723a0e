"""Read operations drawn at random from the GraphQL schema, for differential tests.

A property that two execution paths answer alike must reach shapes nobody thought to
write down, so the operations are drawn by walking the schema from a root field:
random subsets of each type's fields (now and then twice, under aliases, in inline
fragments, in named fragments, on the Node interface, under `@skip` / `@include` with
variables or literals), connections with random filters, sorts and windows (`first` /
`after`, `last` / `before`, pages, sizes out of range, cursors of this list's order or
another's, malformed ones), explicit nulls, and lookups of rows that exist, do not,
belong to another tenant or to another type.

Hypothesis draws one seed per operation and the writer takes every choice from a
`random.Random` of it (and of a salt): hypothesis's own draws, choice by choice, would
explore by mutating earlier operations, and fewer than half of a run's operations came
out different. A seed replays exactly; it does not shrink. Seeds can be drawn before
any operation runs, so an example draws the same whichever operation fails.

`strict` draws only what the read catalog covers (schema.compiled_plan), with valid
arguments: such an operation must be compiled, which keeps the property honest about
which path it exercised.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)
from hypothesis import strategies as st

from tests.graphql import global_id

# Fields the read catalog does not cover today (a root field selecting one falls back):
# drawn now and then, so that most operations compile and some exercise the fallback.
# Operations drawn `strict` never select them: one missing here fails the property's
# compiled check; one the catalog has come to cover only lowers the share compiled.
UNCOVERED = frozenset(
    {
        "Payment.originalAmount",
        "Payment.invoices",
        "Payment.reseller",
        "Payment.fxRate",
        "Payment.fxRateFromBase",
        "Payment.availableTransitions",
        "Invoice.total",
        "Invoice.paid",
        "Invoice.outstanding",
        "Partner.portfolio",
        "Money.formatted",
        "Account.reseller",
        "PaymentDocument.downloadPath",
    }
)
ROOTS = ("payments", "payments", "payments", "payment", "invoice", "address", "partner")
OTHER_ROOTS = ("invoices", "partners", "node", "viewer")  # never compiled
LOOKUP_TYPES = {
    "payment": "Payment",
    "invoice": "Invoice",
    "address": "Address",
    "partner": "Partner",
}
MAX_DEPTH = 5  # object levels below the root field
CURSOR_FIELDS = frozenset({"cursor", "startCursor", "endCursor"})
MISSING_ROW_ID = 2**62
MALFORMED_IDS = ("", "not base64!", global_id("Payment", 0)[:-2], "UGF5bWVudDp4", "-1", "1.5")
MALFORMED_CURSORS = ("", "bm9wZQ==", "Y3Vyc29yOjE6e30=", "Y3Vyc29yOng=", "%%%")
SIZES = (0, 1, 1, 2, 2, 3, 5)
WINDOW_ARGUMENTS = frozenset(
    {"first", "after", "last", "before", "page", "perPage", "pageSize", "start", "length", "offset"}
)
WINDOWS: tuple[tuple[str, ...], ...] = (  # the first four are always accepted
    (),
    ("first",),
    ("last",),
    ("page", "perPage", "pageSize", "start", "length", "offset"),
    ("first", "after"),
    ("last", "before"),
    ("after",),
    ("before",),
    ("first", "after", "before"),
    ("mixed",),
)
BAD_SIZES = (-1, 201, 500)


@dataclass(frozen=True)
class Pools:
    """The values an example's tenant holds, to draw arguments from."""

    ids: dict[str, list[int]]  # by GraphQL type: the tenant's rows
    foreign: dict[str, list[int]]  # by GraphQL type: another tenant's rows
    texts: list[str]
    amounts: list[int]
    days: list[date]
    moments: list[datetime]
    # Cursors seen in answers, by the order of the list they came from.
    cursors: dict[str, list[str]] = field(default_factory=dict)

    def remember(self, order: str, cursor: Any) -> None:
        if isinstance(cursor, str) and cursor not in self.cursors.setdefault(order, []):
            self.cursors[order].append(cursor)


@dataclass(frozen=True)
class Operation:
    document: str
    variables: dict[str, Any]
    # The response-key path of each cursor field, with the order of its list.
    cursor_paths: tuple[tuple[tuple[str, ...], str], ...]
    roots: tuple[tuple[str, str], ...] = ()  # (response key, field) of each root field

    def __str__(self) -> str:
        return f"{self.document}\nvariables: {json.dumps(self.variables, default=str)}"


Record = tuple[tuple[str, ...], str]  # (path relative to a selection set, list order)


SEEDS = st.integers(0, 2**64 - 1)


def operation_of(
    seed: int, schema: GraphQLSchema, pools: Pools, *, strict: bool = False, salt: bytes = b""
) -> Operation:
    """The operation of a seed (drawn from SEEDS) over `pools`; a `strict` one selects
    only what compiles. `salt` (say, the example's data) joins the seed: hypothesis
    repeats seeds across examples."""
    chooser = random.Random(salt + seed.to_bytes(8, "big"))
    return Writer(chooser, schema, pools, strict=strict).operation()


def cursors_in(data: Any, operation: Operation) -> list[tuple[str, Any]]:
    """Every (order, cursor) an answer holds at the operation's cursor fields."""
    found: list[tuple[str, Any]] = []

    def walk(value: Any, path: tuple[str, ...], order: str) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item, path, order)
        elif not path:
            found.append((order, value))
        elif isinstance(value, dict) and path[0] in value:
            walk(value[path[0]], path[1:], order)

    for path, order in operation.cursor_paths:
        walk(data, path, order)
    return found


class Writer:
    """Writes one operation, every choice taken from `chooser`."""

    def __init__(
        self, chooser: random.Random, schema: GraphQLSchema, pools: Pools, *, strict: bool
    ) -> None:
        self.chooser = chooser
        self.schema = schema
        self.pools = pools
        self.strict = strict
        self.variables: dict[str, tuple[str, Any]] = {}
        self.fragments: list[str] = []
        # A response key's arguments (and its list's order), per parent type: fields
        # merged under one key must agree on them, whatever fragments they come through.
        self.arguments: dict[tuple[str, str], tuple[str, str]] = {}
        self.orders = [""]  # the order of the innermost list being written

    # Drawing helpers ----------------------------------------------------------------

    def chance(self, percent: int) -> bool:
        """True `percent` times in 100."""
        return self.chooser.randrange(100) < percent

    def pick(self, options: Sequence[Any]) -> Any:
        return self.chooser.choice(list(options))

    def variable(self, type_text: str, value: Any) -> str:
        name = f"v{len(self.variables)}"
        self.variables[name] = (type_text, value)
        return f"${name}"

    # The operation ------------------------------------------------------------------

    def operation(self) -> Operation:
        query = self.schema.query_type
        assert query is not None
        if self.strict:  # a lookup of a row the tenant has
            held = [r for r in ROOTS if r not in LOOKUP_TYPES or self.pools.ids[LOOKUP_TYPES[r]]]
            roots = [self.pick(held)]
        else:
            roots = [self.pick(ROOTS)]
        if not self.strict and self.chance(20):
            roots.append(self.pick(ROOTS + OTHER_ROOTS))
        items: list[str] = []
        records: list[Record] = []
        keys: list[tuple[str, str]] = []
        for index, name in enumerate(roots):
            key = name if index == 0 or self.chance(30) else f"{name}{index}"
            keys.append((key, name))
            text, found = self.field(query, name, key, 0)
            items.append(text)
            records += found
        if not self.strict and self.chance(15):
            items.append("__typename")
        body = " ".join(items)
        if not self.strict and self.chance(10):
            body = f"... on Query {{ {body} }}"
        declared = ", ".join(f"${n}: {t}" for n, (t, _) in self.variables.items())
        header = f"query Drawn({declared})" if declared else "query Drawn"
        document = "\n".join([f"{header} {{ {body} }}", *self.fragments])
        variables = {name: value for name, (_, value) in self.variables.items()}
        return Operation(document, variables, tuple(records), tuple(keys))

    # Selections ---------------------------------------------------------------------

    def selection_set(self, parent: GraphQLObjectType, depth: int) -> tuple[str, list[Record]]:
        items: list[str] = []
        records: list[Record] = []
        for _ in range(self.chooser.randint(1, 4 if depth < 2 else 3)):
            text, found = self.selection(parent, depth)
            items.append(text)
            records += found
        return "{ " + " ".join(items) + " }", records

    def selection(self, parent: GraphQLObjectType, depth: int) -> tuple[str, list[Record]]:
        shape = "field" if self.strict else self.pick(["field"] * 9 + ["inline", "named", "node"])
        if shape == "field":
            name = self.field_name(parent, depth)
            return self.field(parent, name, self.key(name), depth)
        if shape == "node":
            if not any(i.name == "Node" for i in parent.interfaces):
                return "__typename", []
            return f"... on Node {{ {self.field(parent, 'id', self.key('id'), depth)[0]} }}", []
        text, records = self.selection_set(parent, depth)
        if shape == "inline":
            condition = self.pick([f"on {parent.name} ", ""])
            return f"... {condition}{self.directives()}{text}", records
        name = f"F{len(self.fragments)}"
        self.fragments.append(f"fragment {name} on {parent.name} {text}")
        return f"...{name}{self.directives()}", records

    def field_name(self, parent: GraphQLObjectType, depth: int) -> str:
        names = [
            name
            for name, definition in parent.fields.items()
            if depth < MAX_DEPTH or is_leaf_type(get_named_type(definition.type))
        ]
        rare = [n for n in names if f"{parent.name}.{n}" in UNCOVERED]
        common = [n for n in names if n not in rare]
        if not self.strict and rare and self.chance(4):
            return str(self.pick(rare))
        if not common or self.chance(4):
            return "__typename"
        return str(self.pick(common))

    def key(self, name: str) -> str:
        """A field's response key: its name, or an alias naming it (so one key always
        means one field), sometimes one used already, which merges the two."""
        if self.strict or not self.chance(30):
            return name
        return f"{name}{self.pick([1, 1, 2])}"

    def directives(self) -> str:
        if self.strict or not self.chance(20):
            return ""
        directive = self.pick(["skip", "include"])
        value = self.chance(50)
        condition = self.variable("Boolean!", value) if self.chance(70) else str(value).lower()
        return f" @{directive}(if: {condition})"

    def field(
        self, parent: GraphQLObjectType, name: str, key: str, depth: int
    ) -> tuple[str, list[Record]]:
        head = name if key == name else f"{key}: {name}"
        if name == "__typename":
            return head + self.directives(), []
        definition = parent.fields[name]
        if (parent.name, key) not in self.arguments:
            self.arguments[(parent.name, key)] = self.field_arguments(parent, name, definition)
        arguments, order = self.arguments[(parent.name, key)]
        head += arguments + self.directives()
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return head, [((key,), self.orders[-1])] if name in CURSOR_FIELDS else []
        if not isinstance(named, GraphQLObjectType):  # the Node interface
            return f"{head} {{ __typename ... on Payment {{ databaseId }} }}", []
        self.orders.append(order or self.orders[-1])
        try:
            text, records = self.selection_set(named, depth + 1)
        finally:
            self.orders.pop()
        return f"{head} {text}", [((key, *path), o) for path, o in records]

    # Arguments ----------------------------------------------------------------------

    def field_arguments(
        self, parent: GraphQLObjectType, name: str, definition: GraphQLField
    ) -> tuple[str, str]:
        """The field's argument text, and the order of its list (its node type and
        sort): cursors fit lists of the same order only."""
        if not definition.args:
            return "", ""
        given: dict[str, str] = {}
        order = get_named_type(definition.type).name
        window = self.window(set(definition.args))
        for argument_name, argument in definition.args.items():
            if argument_name == "id" and parent.name == "Query":
                value = self.lookup_id(name)
            elif argument_name in window or self.takes(argument_name, argument.type):
                value = self.argument_value(argument_name, argument.type, order)
            else:
                continue
            if argument_name in ("sort", "sortBy", "sortDirection", "sortType"):
                order += json.dumps(value)
            given[argument_name] = self.literal_or_variable(argument.type, value)
        text = "(" + ", ".join(f"{k}: {v}" for k, v in given.items()) + ")" if given else ""
        return text, order

    def window(self, names: set[str]) -> set[str]:
        """The paging arguments to give: a window of one kind (forward, backward,
        numbered pages, offsets) or, now and then, any mixture, which may be refused."""
        kinds = WINDOWS if not self.strict else WINDOWS[:4]
        kind = self.pick(kinds) if names & WINDOW_ARGUMENTS else ()
        if kind == ("mixed",):
            return {n for n in sorted(names & WINDOW_ARGUMENTS) if self.chance(30)}
        return names & set(kind)

    def takes(self, name: str, argument_type: Any) -> bool:
        if isinstance(argument_type, GraphQLNonNull) and name == "by":
            return True
        if name in WINDOW_ARGUMENTS:
            return False
        if self.strict:
            return name == "sort" and self.chance(30)
        return self.chance({"filter": 35, "sort": 35}.get(name, 25))

    def literal_or_variable(self, argument_type: GraphQLInputType, value: Any) -> str:
        if not self.strict and self.chance(25):
            return self.variable(str(argument_type), value)
        return literal(argument_type, value)

    def argument_value(self, name: str, argument_type: Any, order: str) -> Any:
        if name in ("after", "before"):
            return self.cursor(order)
        if name in ("first", "last", "perPage", "pageSize", "length", "offset", "start", "page"):
            if self.strict:
                return self.pick(SIZES[1:])
            if self.chance(5):
                return self.pick(BAD_SIZES)
            if not isinstance(argument_type, GraphQLNonNull) and self.chance(5):
                return None
            return self.pick(SIZES)
        if name == "by":
            keys = list(get_named_type(argument_type).values)
            most = 4 if self.strict else 5
            return [self.pick(keys) for _ in range(self.chooser.randint(1, most))]
        if name in ("sortBy", "sortType") and get_named_type(argument_type).name == "String":
            return self.pick(["id", "amount", "carrier", "createdAt", "nope", "asc", "DESC"])
        return self.input_value(argument_type, 0)

    def cursor(self, order: str) -> str | None:
        """A cursor of this list's order (from an earlier answer), of another's, or a
        malformed one."""
        where = self.pick(["own", "own", "own", "other", "other", "malformed"])
        index = self.chooser.randrange(256)
        own = self.pools.cursors.get(order, [])
        if where == "own" and own:
            return own[index % len(own)]
        others = [c for cursors in self.pools.cursors.values() for c in cursors]
        if where != "malformed" and others:
            return others[index % len(others)]
        return [None, *MALFORMED_CURSORS][index % (len(MALFORMED_CURSORS) + 1)]

    def lookup_id(self, root: str) -> str:
        type_name = LOOKUP_TYPES.get(root, "Payment")
        own = self.pools.ids.get(type_name) or [MISSING_ROW_ID]
        if self.strict:
            return global_id(type_name, self.pick(own))
        where = self.pick(["own"] * 6 + ["numeric", "foreign", "missing", "other", "malformed"])
        if where == "own":
            return global_id(type_name, self.pick(own))
        if where == "numeric":
            return str(self.pick(own))
        if where == "foreign":
            return global_id(type_name, self.pick(self.pools.foreign.get(type_name) or [1]))
        if where == "missing":
            return global_id(type_name, MISSING_ROW_ID)
        if where == "other":
            other = self.pick(sorted(t for t in self.pools.ids if self.pools.ids[t]))
            return global_id(other, self.pick(self.pools.ids[other]))
        return str(self.pick(MALFORMED_IDS))

    # Input values -------------------------------------------------------------------

    def input_value(self, input_type: Any, depth: int) -> Any:
        """A value of `input_type`: an explicit null now and then where one is allowed."""
        if isinstance(input_type, GraphQLNonNull):
            input_type = input_type.of_type
        elif not self.strict and self.chance(4):
            return None
        if isinstance(input_type, GraphQLList):
            size = 1 if self.strict else self.pick([1, 1, 1, 2, 2, 3, 0])
            return [self.input_value(input_type.of_type, depth + 1) for _ in range(size)]
        if isinstance(input_type, GraphQLInputObjectType):
            return self.input_object(input_type, depth)
        if isinstance(input_type, GraphQLEnumType):
            return self.pick(list(input_type.values))
        return self.scalar(input_type.name)

    def input_object(self, input_type: GraphQLInputObjectType, depth: int) -> dict[str, Any]:
        """Its required fields and one or two others; past depth 2 no more nesting
        (`and`, `or`, `not`, relations), only predicates."""
        fields = input_type.fields
        required = [n for n, f in fields.items() if isinstance(f.type, GraphQLNonNull)]
        optional = [
            n
            for n in fields
            if n not in required and (depth < 2 or _is_predicate(get_named_type(fields[n].type)))
        ]
        chosen = set(required)
        if optional and (not required or self.chance(30)):
            most = min(2, len(optional))
            chosen |= {self.pick(optional) for _ in range(self.chooser.randint(1, most))}
        return {n: self.input_value(fields[n].type, depth + 1) for n in fields if n in chosen}

    def scalar(self, type_name: str) -> Any:
        pools = self.pools
        bad = not self.strict and self.chance(3)
        if type_name == "ID":
            if bad:
                return self.pick(MALFORMED_IDS)
            type_id = self.pick(sorted(t for t in pools.ids if pools.ids[t]))
            row_id = self.pick([*pools.ids[type_id], MISSING_ROW_ID])
            return self.pick([global_id(type_id, row_id), str(row_id)])
        if type_name == "Boolean":
            return self.chance(50)
        if type_name == "Int":
            return self.pick([2**31, -(2**31) - 1] if bad else [0, 1, 2, 3, -1])
        if type_name == "BigInt":
            if bad:
                return self.pick(["abc", "1.5", str(2**63), 2**63])
            amount = self.pick(pools.amounts or [0])
            return self.pick([amount, str(amount), amount + 1])
        if type_name == "Date":
            if bad:
                return self.pick(["2025-13-01", "yesterday", "2025-01-01T00:00:00Z"])
            return self.pick(pools.days or [date(2025, 1, 1)]).isoformat()
        if type_name == "DateTime":
            if bad:
                return self.pick(["2025-01-01T25:00:00Z", "now", "2025-01-01"])
            moment = self.pick(pools.moments or [datetime(2025, 1, 1, tzinfo=UTC)]).isoformat()
            return self.pick([moment, moment.replace("+00:00", "Z")])
        if type_name == "String":
            text = str(self.pick(pools.texts or ["x"]))
            if self.strict:
                return text
            return self.pick([text, text.upper(), text[: len(text) // 2], "USD", "kwd"])
        raise AssertionError(f"no values for scalar {type_name}")


def _is_predicate(named: Any) -> bool:
    """A leaf, or an input whose fields are all leaves (StringFilter, PaymentSort)."""
    if not isinstance(named, GraphQLInputObjectType):
        return True
    return all(is_leaf_type(get_named_type(f.type)) for f in named.fields.values())


def literal(input_type: Any, value: Any) -> str:
    """`value` written as a GraphQL literal of `input_type`."""
    if isinstance(input_type, GraphQLNonNull):
        return literal(input_type.of_type, value)
    if value is None:
        return "null"
    if isinstance(input_type, GraphQLList):
        if isinstance(value, list):
            return "[" + ", ".join(literal(input_type.of_type, v) for v in value) + "]"
        return literal(input_type.of_type, value)
    if isinstance(input_type, GraphQLInputObjectType):
        fields = input_type.fields
        return "{" + ", ".join(f"{k}: {literal(fields[k].type, v)}" for k, v in value.items()) + "}"
    if isinstance(input_type, GraphQLEnumType):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)
