"""Compiled reads: a planned root field (domain.read_plan) as one PostgreSQL statement
that builds the field's whole JSON answer in the database, Hasura's way: every object
is text built from its columns, every relation a correlated subquery (to-one: the row
by its key; to-many: the page of children, aggregated with `string_agg`), every count
and `groupBy` a subquery of the same statement.

The rows are chosen exactly as the loaders choose them (db.loaders): the relation's
table and key, `db.scopes.visible` for the caller, `db.filters` for the filter, order
and cursor bounds, and the same window; `groupBy` is `db.aggregates.measure_statement`
itself. Every value is written as the resolver path writes it (global IDs, enum names,
BigInt as a string, `datetime.isoformat`, the currency's precision and numeric code),
so the answers are the same (tests/integration/test_compiled_differential.py holds
them together). Cursors too, when the order's keys are ids, amounts, dates or moments
(domain.filtering.statement_writes_cursors: values JSON writes with nothing to escape);
under a text or enum key the statement returns each cursor's row id and sort-key
values, and `finish_cursors` encodes them as resolvers.cursors does.

The statement of a plan is built once per caller scope; SQLAlchemy renders it once, and
only what it sent is kept: asyncpg runs that from then on, prepared.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    FromClause,
    Integer,
    Numeric,
    Select,
    Table,
    TableClause,
    Text,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy import column as column_clause
from sqlalchemy import table as table_clause
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.util import LRUCache

from db.aggregates import measure_statement
from db.engine import QUERY_CANCELED, STATEMENT_TIMED_OUT
from db.filters import beyond, order_by, where
from db.loaders import ALWAYS, BY_ID, BY_PARENT, ROOTS
from db.scopes import visible
from domain import read_plan as p
from domain.access import ReadScope
from domain.aggregates import MONEY_FIELDS, GroupKey
from domain.currencies import ISO_4217
from domain.errors import RequestTimedOut
from domain.filtering import cursor_keys, plain_order, statement_writes_cursors
from domain.kept import KeptPerObject
from domain.money import MAX_MINOR_UNITS
from domain.paging import Keyset, ListRequest, Offset

MAX_CONCAT_ARGUMENTS = 90  # PostgreSQL functions take at most 100 arguments
INT_MAX = 2**31 - 1  # GraphQL's Int
STATEMENTS_KEPT = 512
RENDERINGS_KEPT = 128
DATA_EXCEPTION = "22"  # SQLSTATE class: a value the statement could not compute


class NotCompiled(Exception):
    """The plan names something the catalog cannot build in SQL."""


# SQLAlchemy's elements are immutable: one element can stand in several places of a
# statement, and in many statements, and is written out at each. So what binds no value
# (constants, a page's cursor) is built once and shared, which spares building it and
# SQLAlchemy's cache key walking it again. Never what binds a value: a bound parameter
# standing twice is sent once, under one number, and the statement's text would change.


@functools.lru_cache(maxsize=4096)
def _literal(text: str) -> ColumnElement[str]:
    return literal_column("'" + text.replace("'", "''") + "'", Text)


NULL = _literal("null")
CURRENCIES = literal_column(
    "'"
    + orjson.dumps({c.code: [c.exponent, c.numeric] for c in ISO_4217.values()}).decode()
    + "'::jsonb"
)


def _concat(parts: Sequence[ColumnElement[Any] | str]) -> ColumnElement[str]:
    """Text parts joined; adjacent literal strings are merged first."""
    merged: list[ColumnElement[Any] | str] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    elements = [_literal(x) if isinstance(x, str) else x for x in merged]
    if len(elements) == 1:
        return elements[0]
    while len(elements) > MAX_CONCAT_ARGUMENTS:
        elements = [
            func.concat(*elements[i : i + MAX_CONCAT_ARGUMENTS], type_=Text)
            for i in range(0, len(elements), MAX_CONCAT_ARGUMENTS)
        ]
    return func.concat(*elements, type_=Text)


# Every object the statement writes opens with one of these instead of `{`: control
# characters, which JSON text never holds raw (a string escapes them), so counting them
# counts the answer's objects, which is what the query cost counts, without parsing it
# (an object's `{` could not be told from one in a string). fetch puts `{` back.
OBJECT = "\x02"
AGGREGATE_OBJECT = "\x03"  # `aggregate` and a `groupBy` page, which cost more


def _object(
    members: Sequence[tuple[str, ColumnElement[Any]]], opener: str = OBJECT
) -> ColumnElement[str]:
    parts: list[ColumnElement[Any] | str] = [opener]
    for index, (key, value) in enumerate(members):
        parts.append(("," if index else "") + orjson.dumps(key).decode() + ":")
        parts.append(value)
    parts.append("}")
    return _concat(parts)


@functools.lru_cache(maxsize=1024)
def _integer(value: int) -> ColumnElement[int]:
    """A page size or offset written into the statement, not bound: PostgreSQL then
    plans the statement once for every execution knowing how many rows it takes (a
    bound LIMIT made its generic plan of the dashboard page ten times slower)."""
    return literal_column(str(int(value)), Integer)


def _constant(value: Any) -> ColumnElement[str]:
    if isinstance(value, dict | list):
        raise NotCompiled("a constant object or list")  # its objects would not be counted
    return _literal(orjson.dumps(value).decode())


def _nullable(value: ColumnElement[Any], text: ColumnElement[str]) -> ColumnElement[str]:
    return case((value.is_(None), NULL), else_=text)


def _base64(text: ColumnElement[str]) -> ColumnElement[str]:
    """Standard base64 of the text's UTF-8, on one line (PostgreSQL wraps at 76)."""
    encoded = func.encode(func.convert_to(text, _literal("UTF8")), _literal("base64"))
    return func.translate(encoded, literal_column("E'\\n'"), _literal(""))


def _quoted(text: ColumnElement[Any]) -> ColumnElement[str]:
    return _concat(['"', text, '"'])


def _json_text(value: ColumnElement[Any]) -> ColumnElement[str]:
    return func.coalesce(cast(func.to_json(value), Text), NULL)


def _date_time(value: ColumnElement[Any]) -> ColumnElement[str]:
    """`datetime.isoformat()` of the UTC moment: microseconds only when there are some."""
    utc = func.timezone(_literal("UTC"), value)
    seconds = func.to_char(utc, _literal('YYYY-MM-DD"T"HH24:MI:SS'))
    fraction = case(
        (func.date_trunc(_literal("second"), utc) != utc, func.to_char(utc, _literal(".US"))),
        else_=_literal(""),
    )
    return _nullable(value, _concat(['"', seconds, fraction, '+00:00"']))


def _date(value: ColumnElement[Any]) -> ColumnElement[str]:
    return _nullable(value, _concat(['"', func.to_char(value, _literal("YYYY-MM-DD")), '"']))


def _scalar(value: ColumnElement[Any], output: p.Output) -> ColumnElement[str]:
    if output is p.Output.TEXT:
        return _json_text(value)
    if output is p.Output.NUMBER:
        # GraphQL's Int is 32 bits: beyond them graphql-core refuses to write the value
        # (an error at the field), so the statement fails and the resolvers answer.
        beyond = or_(value > INT_MAX, value < -INT_MAX - 1)
        written = func.coalesce(cast(value, Text), NULL)
        return case((beyond, cast(value / literal_column("0"), Text)), else_=written)
    if output is p.Output.BOOLEAN:
        return case((value.is_(None), NULL), (value, _literal("true")), else_=_literal("false"))
    if output is p.Output.BIG_INT:
        return _nullable(value, _quoted(cast(value, Text)))
    if output is p.Output.DATE_TIME:
        return _date_time(value)
    return _date(value)


def _enum(value: ColumnElement[Any], names: tuple[tuple[str, str], ...]) -> ColumnElement[str]:
    whens = [(value == _literal(stored), _constant(name)) for stored, name in names]
    return case(*whens, else_=NULL)


def _bounded(
    amount: ColumnElement[Any], shown: ColumnElement[bool] | None = None
) -> ColumnElement[Any]:
    """A measured amount, or a division by zero when BigInt cannot carry it: the
    statement fails and the resolver path answers AMOUNT_OUT_OF_RANGE. Only where it is
    `shown`: a group past the page is measured (for hasNextPage) but never written."""
    beyond = func.abs(amount) > MAX_MINOR_UNITS
    if shown is not None:
        beyond = and_(shown, beyond)
    return case((beyond, amount / literal_column("0")), else_=amount)


@functools.cache
def _light(table: Table) -> TableClause:
    """`table` as a lightweight table: its name, and its columns with their types. The
    statement renders the same from it, and an alias of it costs a tenth: an alias of
    the `Table` copies every column with its foreign keys and constraints, registering
    events for each (a third of the time spent building a statement went there)."""
    return table_clause(table.name, *(column_clause(c.name, c.type) for c in table.c))


class Compiler:
    """Builds the statement of one plan for one caller scope."""

    def __init__(self, scope: ReadScope) -> None:
        self._scope = scope
        self._names = 0
        self._cursors: dict[FromClause, ColumnElement[str]] = {}

    def _alias(self, table: Any) -> Any:
        """`table` under a name of its own in the statement."""
        self._names += 1
        return _light(table).alias(f"{table.name}_{self._names}")

    def _outer(self, row: FromClause, column: str) -> ColumnElement[Any]:
        """A column of an enclosing query's row, by name: a correlated reference that
        no FROM list takes in."""
        self._column(row, column)
        return literal_column(f'"{row.name}"."{column}"')

    # Roots ---------------------------------------------------------------------------

    def statement(self, root: p.Root) -> Select[Any]:
        if isinstance(root, p.Lookup):
            table = self._alias(self._table_of(root.row.table))
            row = self._row(table, root.row)
            return select(row).where(table.c.id == root.row_id, visible(table, self._scope))
        return select(self._list(root, None))

    # Rows ----------------------------------------------------------------------------

    def _table_of(self, loader: str) -> Any:
        model = BY_ID.get(loader)
        if model is None:
            raise NotCompiled(loader)
        return model.table

    def _row(self, row: FromClause, shape: p.RowShape | p.Composite) -> ColumnElement[str]:
        return _object([(key, self._field(row, node)) for key, node in shape.fields])

    def _field(self, row: FromClause, node: Any) -> ColumnElement[str]:
        if isinstance(node, p.Constant):
            return _constant(node.value)
        if isinstance(node, p.Scalar):
            return _scalar(self._column(row, node.column), node.output)
        if isinstance(node, p.EnumName):
            return _enum(self._column(row, node.column), node.names)
        if isinstance(node, p.GlobalId):
            text = _concat([node.type_name + ":", cast(row.c.id, Text)])
            encoded = func.encode(func.convert_to(text, _literal("UTF8")), _literal("base64"))
            return _quoted(encoded)
        if isinstance(node, p.MoneyShape):
            amount = self._column(row, node.amount)
            currency = self._column(row, node.currency)
            return _nullable(amount, self._money(amount, currency, node.fields))
        if isinstance(node, p.Composite):
            return self._row(row, node)
        if isinstance(node, p.ToOne):
            return self._to_one(self._outer(row, node.key), node.target)
        if isinstance(node, p.ListShape):
            return self._list(node, row)
        raise NotCompiled(node)

    def _column(self, row: FromClause, name: str) -> ColumnElement[Any]:
        if name not in row.c:
            raise NotCompiled(name)
        return row.c[name]

    def _to_one(self, key: ColumnElement[Any], target: p.RowShape) -> ColumnElement[str]:
        table = self._alias(self._table_of(target.table))
        found = (
            select(self._row(table, target))
            .where(table.c.id == key, visible(table, self._scope))
            .scalar_subquery()
        )
        return func.coalesce(found, NULL)

    def _money(
        self, amount: ColumnElement[Any], currency: ColumnElement[Any], fields: Any
    ) -> ColumnElement[str]:
        members = []
        for key, part in fields:
            if isinstance(part, p.Constant):
                members.append((key, _constant(part.value)))
            elif isinstance(part, p.Composite):
                members.append((key, self._money(amount, currency, part.fields)))
            elif part is p.MoneyPart.AMOUNT:
                members.append((key, _quoted(cast(amount, Text))))
            elif part is p.MoneyPart.CURRENCY:
                members.append((key, _json_text(currency)))
            else:
                index = 0 if part is p.MoneyPart.PRECISION else 1
                found = CURRENCIES.op("->")(currency).op("->>")(literal_column(str(index)))
                members.append((key, func.coalesce(found, NULL)))
        return _object(members)

    # Lists ---------------------------------------------------------------------------

    def _source(
        self, shape: p.ListShape, parent: FromClause | None
    ) -> tuple[Any, list[ColumnElement[bool]]]:
        """The list's table (aliased) and the conditions choosing its rows (scope,
        parent, filter, the relation's own), as the loaders apply them."""
        if parent is None:
            model = ROOTS.get(shape.relation)
            if model is None:
                raise NotCompiled(shape.relation)
            table = self._alias(model.table)
            return table, self._matching(table, shape.request)
        if shape.relation not in BY_PARENT or shape.parent_key is None:
            raise NotCompiled(shape.relation)
        model, foreign_key = BY_PARENT[shape.relation]
        table = self._alias(model.table)
        always = ALWAYS.get(shape.relation)
        link = self._outer(parent, shape.parent_key)
        conditions = [
            table.c[foreign_key] == link,
            *self._matching(table, shape.request),
            *([always(table)] if always else []),
        ]
        return table, conditions

    def _matching(self, table: Any, request: ListRequest) -> list[ColumnElement[bool]]:
        return [visible(table, self._scope), where(table, request.where, self._scope)]

    def _list(self, shape: p.ListShape, parent: FromClause | None) -> ColumnElement[str]:
        """The list's object: built by one aggregate over its page of rows when it
        shows rows (counts and groups are subqueries of it), else from subqueries."""
        table, conditions = self._source(shape, parent)
        request = shape.request
        page = (
            self._page(table, conditions, request)
            if any(_is_row_part(node) for _, node in shape.fields)
            else None
        )
        members = []
        for key, node in shape.fields:
            if isinstance(node, p.Constant):
                members.append((key, _constant(node.value)))
            elif isinstance(node, p.Counted) and node.part is p.PagePart.TOTAL_COUNT:
                members.append((key, self._count(table, conditions)))
            elif isinstance(node, p.Groups):
                members.append((key, self._groups(table, conditions, node)))
            elif isinstance(node, p.Aggregate):
                members.append((key, self._aggregate(table, conditions, node)))
            elif _is_meta(node):
                members.append((key, self._meta(table, conditions, request, node)))
            elif page is not None and _is_row_part(node):
                members.append((key, self._page_part(page, request, node)))
            else:
                raise NotCompiled(node)
        built = _object(members)
        if page is None:
            return built
        # HAVING makes it one group, so one row even when no member aggregates the page
        # (`pageInfo { hasPreviousPage }` going forward, a `__typename` alone).
        return select(built).select_from(page).having(true()).scalar_subquery()

    def _count(self, table: Any, conditions: list[ColumnElement[bool]]) -> ColumnElement[str]:
        return cast(self._counted(table, conditions), Text)

    def _counted(self, table: Any, conditions: list[ColumnElement[bool]]) -> ColumnElement[int]:
        return select(func.count()).select_from(table).where(*conditions).scalar_subquery()

    def _meta(
        self,
        table: Any,
        conditions: list[ColumnElement[bool]],
        request: ListRequest,
        meta: p.Composite,
    ) -> ColumnElement[str]:
        """The invoice payments API's `meta`, as schema.connection.Connection.meta writes it."""
        window = request.window
        if isinstance(window, Offset):
            current, per_page = window.offset // window.limit + 1, window.limit
        else:
            current, per_page = None, window.size
        members = []
        for key, part in meta.fields:
            if isinstance(part, p.Constant):
                members.append((key, _constant(part.value)))
            elif part.part is p.PagePart.CURRENT_PAGE:
                members.append((key, _constant(current)))
            elif part.part is p.PagePart.PER_PAGE:
                members.append((key, _constant(per_page)))
            elif part.part is p.PagePart.TOTAL_COUNT:
                members.append((key, self._count(table, conditions)))
            elif per_page:  # total pages: the count over the page size, rounded up
                rounded_up = self._counted(table, conditions) + _integer(per_page - 1)
                pages = func.div(rounded_up, _integer(per_page))  # integer quotient
                members.append((key, cast(pages, Text)))
            else:
                members.append((key, _constant(0)))
        return _object(members)

    def _aggregate(
        self, table: Any, conditions: list[ColumnElement[bool]], node: p.Aggregate
    ) -> ColumnElement[str]:
        """`aggregate`: the list's rows measured per currency, as one group."""
        nodes = p.GroupNodes(node.fields)
        raw = measure_statement(table, None, conditions, (), None, "postgresql").subquery()
        measured = _with_values(raw, [nodes], None)
        built = self._group_object(measured, (), nodes, AGGREGATE_OBJECT)
        # One group, so one row even when nothing is measured (`aggregate { __typename }`).
        return select(built).select_from(measured).having(true()).scalar_subquery()

    def _page(
        self,
        table: Any,
        conditions: list[ColumnElement[bool]],
        request: ListRequest,
    ) -> FromClause:
        """The window's rows (one more than its size, to tell whether more follow),
        numbered `_n` in the order they were fetched."""
        window = request.window
        backward = isinstance(window, Keyset) and window.backward
        bounds = []
        if isinstance(window, Keyset):
            if window.after is not None:
                bounds.append(beyond(table, request.order, window.after))
            if window.before is not None:
                bounds.append(beyond(table, request.order, window.before, reverse=True))
        ordering = order_by(table, request.order, reverse=backward)
        number = func.row_number().over(order_by=ordering)
        fetched = (
            select(*table.c, number.label("_n"))
            .where(*conditions, *bounds)
            .order_by(*ordering)
            .limit(_integer(request.size + 1))
        )
        if isinstance(window, Offset):
            fetched = fetched.offset(_integer(window.offset))
        self._names += 1
        return fetched.subquery(f"page_{self._names}")

    def _page_part(self, page: FromClause, request: ListRequest, node: Any) -> ColumnElement[str]:
        """One field of a list built from its page, as an aggregate over the page: rows,
        edges or pageInfo."""
        window = request.window
        backward = isinstance(window, Keyset) and window.backward
        # Rows are numbered before an offset skips some: the page's are the first
        # `size` after the skipped ones.
        skipped = window.offset if isinstance(window, Offset) else 0
        in_page = page.c._n <= _integer(skipped + request.size)
        order = page.c._n.desc() if backward else page.c._n.asc()

        def listed(item: ColumnElement[str]) -> ColumnElement[str]:
            # concat() skips the NULL of no rows: `[]`.
            return _concat(["[", _ordered_agg(item, order, in_page), "]"])

        if isinstance(node, p.Rows):
            return listed(self._row(page, node.row))
        if isinstance(node, p.Edges):
            members = []
            for key, part in node.fields:
                if isinstance(part, p.EdgeCursor):
                    members.append((key, self._cursor(page, request)))
                elif isinstance(part, p.Constant):
                    members.append((key, _constant(part.value)))
                else:
                    members.append((key, self._row(page, part)))
            return listed(_object(members))
        members = []
        for key, part in node.fields:
            if isinstance(part, p.Constant):
                members.append((key, _constant(part.value)))
            elif part.part in (p.PagePart.START_CURSOR, p.PagePart.END_CURSOR):
                # Rows are shown in `_n` order, reversed when paging backward.
                ascending = (part.part is p.PagePart.START_CURSOR) != backward
                ends = page.c._n.asc() if ascending else page.c._n.desc()
                cursors = func.array_agg(aggregate_order_by(self._cursor(page, request), ends))
                members.append((key, func.coalesce(cursors.filter(in_page)[1], NULL)))
            else:
                members.append((key, self._page_flag(request, part.part)))
        return _object(members)

    def _page_flag(self, request: ListRequest, part: p.PagePart) -> ColumnElement[str]:
        window = request.window
        more = case(
            (func.count() > _integer(request.size), _literal("true")), else_=_literal("false")
        )
        if isinstance(window, Offset):
            flags = {p.PagePart.HAS_NEXT: more, p.PagePart.HAS_PREVIOUS: window.offset > 0}
        elif window.backward:
            flags = {p.PagePart.HAS_NEXT: window.before is not None, p.PagePart.HAS_PREVIOUS: more}
        else:
            flags = {p.PagePart.HAS_NEXT: more, p.PagePart.HAS_PREVIOUS: window.after is not None}
        flag = flags[part]
        if isinstance(flag, bool):
            return _literal("true" if flag else "false")
        return flag

    def _cursor(self, page: FromClause, request: ListRequest) -> ColumnElement[str]:
        """The cursor of a page's row, built once per page (it binds no value): edges
        and pageInfo's start and end cursors write the same element."""
        cursor = self._cursors.get(page)
        if cursor is None:
            cursor = self._cursors[page] = self._cursor_of(page, request)
        return cursor

    def _cursor_of(self, row: FromClause, request: ListRequest) -> ColumnElement[str]:
        """The row's cursor as a JSON string, written as resolvers.cursors writes it,
        when the order's keys allow (statement_writes_cursors); otherwise the cursor's
        makings, `[id, sort values...]`, for `finish_cursors` to write."""
        order = request.order
        row_id = cast(row.c.id, Text)
        values = [_cursor_value(row.c[key.column]) for key in cursor_keys(order)]
        if not statement_writes_cursors(order):
            return _concat(["[", row_id, *(part for v in values for part in (",", v)), "]"])
        if plain_order(order):
            written: list[Any] = ["cursor:", row_id]  # id ascending alone: `cursor:<id>`
        else:
            signature = ",".join(key.signature for key in order)
            listed = [part for index, v in enumerate(values) for part in ("," * bool(index), v)]
            written = ["cursor:", row_id, f':["{signature}",[', *listed, "]]"]
        return _quoted(_base64(_concat(written)))

    # Groups --------------------------------------------------------------------------

    def _groups(
        self, table: Any, conditions: list[ColumnElement[bool]], node: p.Groups
    ) -> ColumnElement[str]:
        if node.window is None:
            raise NotCompiled("groupBy without a window")
        raw = measure_statement(
            table, None, conditions, node.by, node.window, "postgresql"
        ).subquery()
        last = node.window.offset + node.window.limit
        # One object per `nodes` key: aliases may select the groups more than once.
        shown = [part for _, part in node.fields if isinstance(part, p.GroupNodes)]
        # The group past the page is measured (to tell hasNextPage) but not written: a
        # sum beyond BigInt there refuses nothing, as the resolvers never build it.
        measured = _with_values(raw, shown, last)
        keys = [measured.c[f"k{i}"] for i in range(len(node.by))]
        on_page = measured.c.grp <= _integer(last)
        objects = [
            self._group_object(measured, node.by, nodes, shown=on_page).label(f"obj{index}")
            for index, nodes in enumerate(shown)
        ]
        group_rows = select(measured.c.grp, *keys, *objects).group_by(measured.c.grp, *keys)
        groups = group_rows.subquery()
        # One aggregate over the groups builds the whole page: PostgreSQL runs a derived
        # table once per subquery naming it, and measuring is the statement's main cost.
        members = []
        over_groups = False
        for key, part in node.fields:
            if isinstance(part, p.Constant):
                members.append((key, _constant(part.value)))
            elif isinstance(part, p.GroupCounted) and part.part is p.GroupPart.HAS_NEXT:
                more = func.max(groups.c.grp) > _integer(last)
                members.append((key, case((more, _literal("true")), else_=_literal("false"))))
                over_groups = True
            elif isinstance(part, p.GroupCounted) and part.part is p.GroupPart.HAS_PREVIOUS:
                members.append((key, _literal("true" if node.window.offset > 0 else "false")))
            elif isinstance(part, p.GroupNodes):
                shape = groups.c[f"obj{shown.index(part)}"]
                in_page = groups.c.grp <= _integer(last)
                aggregated = _ordered_agg(shape, groups.c.grp.asc(), in_page)
                members.append((key, _concat(["[", aggregated, "]"])))
                over_groups = True
            else:
                raise NotCompiled(part)
        built = _object(members, AGGREGATE_OBJECT)
        if not over_groups:
            return built
        return select(built).select_from(groups).scalar_subquery()

    def _group_object(
        self,
        measured: FromClause,
        by: tuple[GroupKey, ...],
        nodes: p.GroupNodes,
        opener: str = OBJECT,
        *,
        shown: ColumnElement[bool] | None = None,
    ) -> ColumnElement[str]:
        """A group's object; `shown` says which measured groups are written (a sum beyond
        BigInt refuses only there)."""
        members = []
        for key, part in nodes.fields:
            if isinstance(part, p.Constant):
                members.append((key, _constant(part.value)))
            elif isinstance(part, p.GroupCounted) and part.part is p.GroupPart.COUNT:
                # No rows at all (an aggregate of an empty list) count 0.
                members.append((key, cast(func.coalesce(func.sum(measured.c.n), 0), Text)))
            elif isinstance(part, p.Composite):
                members.append((key, self._group_keys(measured, by, part)))
            elif isinstance(part, p.Measures):
                item = self._measure_object(measured, part, shown)
                aggregated = _ordered_agg(item, measured.c.code.asc(), None)
                members.append((key, _concat(["[", aggregated, "]"])))
            else:
                raise NotCompiled(part)
        return _object(members, opener)

    def _group_keys(
        self, measured: FromClause, by: tuple[GroupKey, ...], keys: p.Composite
    ) -> ColumnElement[str]:
        members = []
        for key, part in keys.fields:
            if isinstance(part, p.Constant):
                members.append((key, _constant(part.value)))
                continue
            if not isinstance(part, p.KeyValue | p.KeyRow):
                raise NotCompiled(part)
            value = measured.c[f"k{by.index(part.key)}"] if part.key in by else None
            if value is None:
                members.append((key, NULL))
            elif isinstance(part, p.KeyRow):
                members.append((key, self._to_one(value, part.target)))
            elif part.names:
                members.append((key, _enum(value, part.names)))
            else:
                members.append((key, _json_text(value)))
        return _object(members)

    def _measure_object(
        self, measured: FromClause, measures: p.Measures, shown: ColumnElement[bool] | None
    ) -> ColumnElement[str]:
        members = []
        for key, part in measures.fields:
            if isinstance(part, p.Constant):
                members.append((key, _constant(part.value)))
            elif isinstance(part, p.MeasureCurrency):
                members.append((key, _json_text(measured.c.code)))
            elif isinstance(part, p.GroupCounted) and part.part is p.GroupPart.COUNT:
                members.append((key, cast(measured.c.n, Text)))
            elif isinstance(part, p.MeasuredMoney) and part.column in MONEY_FIELDS:
                value = measured.c[_value_name(part.column, measures.measure)]
                money = self._money(value, measured.c.code, part.fields)
                members.append((key, _nullable(value, money)))
            else:
                raise NotCompiled(part)
        if measures.measure is not p.Measure.SUM:
            return _object(members)
        # The resolvers build a sum's every money field, asked for or not, and refuse the
        # sum when one is beyond BigInt: so must the statement (`_bounded`'s way).
        beyond = or_(*(func.abs(measured.c[f"{c}_sum"]) > MAX_MINOR_UNITS for c in MONEY_FIELDS))
        if shown is not None:
            beyond = and_(shown, beyond)
        return case(
            (beyond, cast(measured.c.n / literal_column("0"), Text)), else_=_object(members)
        )


def _with_values(
    measured: FromClause, nodes: Sequence[p.GroupNodes], last: int | None
) -> FromClause:
    """The measured rows with each money measure the groups write as a column of its
    own (`_value_name`), bounded (`_bounded`) in the groups up to `last`, or in all.

    A measure's value is written into its object several times (tested for null,
    checked against BigInt, written as Money), and an average's rounding names its sum
    and count a dozen times: written out in the objects, a page of averages was a
    statement of some 190,000 characters, which SQLAlchemy rendered and PostgreSQL
    parsed and planned again on every connection. These projections name each once;
    PostgreSQL pulls them up into the query naming them, so a value is computed where it
    is written, as before."""
    wanted = sorted(
        {
            (money.column, part.measure)
            for groups in nodes
            for _, part in groups.fields
            if isinstance(part, p.Measures)
            for _, money in part.fields
            if isinstance(money, p.MeasuredMoney) and money.column in MONEY_FIELDS
        },
        key=lambda pair: _value_name(*pair),
    )
    if not wanted:
        return measured
    means = sorted({column for column, measure in wanted if measure is p.Measure.AVG})
    if means:
        measured = select(
            measured, *(_mean(measured, column).label(f"{column}_mean") for column in means)
        ).subquery()
    shown = None if last is None else measured.c.grp <= _integer(last)
    values = [
        _bounded(_measured(measured, column, measure), shown).label(_value_name(column, measure))
        for column, measure in wanted
    ]
    return select(measured, *values).subquery()


def _value_name(column: str, measure: p.Measure) -> str:
    return f"{column}_{measure.value}_value"


def _measured(measured: FromClause, column: str, measure: p.Measure) -> ColumnElement[Any]:
    """A money column's measure; an average from its `_mean` column."""
    suffix = "mean" if measure is p.Measure.AVG else measure.value
    return measured.c[f"{column}_{suffix}"]


def _mean(measured: FromClause, column: str) -> ColumnElement[Any]:
    """The mean rounded half to even, exactly: domain.aggregates.rounded_quotient; null
    when no row had a value (a count of 0 divides nothing)."""
    total = cast(measured.c[f"{column}_sum"], Numeric)
    count = func.nullif(measured.c[f"{column}_n"], 0)
    quotient = func.div(total, count) - case((func.mod(total, count) < 0, 1), else_=0)
    twice = 2 * (total - quotient * count)
    up = case((twice > count, 1), (and_(twice == count, func.mod(quotient, 2) != 0), 1), else_=0)
    return cast(quotient + up, Numeric)


def _ordered_agg(
    item: ColumnElement[str], order: Any, only: ColumnElement[bool] | None
) -> ColumnElement[str]:
    call = func.string_agg(item, aggregate_order_by(_literal(","), order), type_=Text)
    return call.filter(only) if only is not None else call


def _cursor_value(column: Any) -> ColumnElement[str]:
    """A sort key's value as encode_cursor writes it: moments and dates in ISO-8601,
    enums by their stored value, numbers as numbers."""
    stored = getattr(column.type, "impl", column.type)
    if isinstance(stored, DateTime):
        return _date_time(column)
    if isinstance(stored, Date):
        return _date(column)
    return _json_text(column)


META_PARTS = frozenset(
    {p.PagePart.CURRENT_PAGE, p.PagePart.PER_PAGE, p.PagePart.TOTAL_COUNT, p.PagePart.TOTAL_PAGES}
)


def _is_meta(node: Any) -> bool:
    return isinstance(node, p.Composite) and any(
        isinstance(part, p.Counted) and part.part in META_PARTS for _, part in node.fields
    )


def _is_row_part(node: Any) -> bool:
    return isinstance(node, p.Rows | p.Edges) or (
        isinstance(node, p.Composite)
        and not _is_meta(node)
        and all(isinstance(part, p.Counted | p.Constant) for _, part in node.fields)
    )


def compiles(engine: AsyncEngine) -> bool:
    """Whether reads over `engine` can be compiled: PostgreSQL builds the JSON; SQLite
    keeps the resolver path."""
    return engine.dialect.name == "postgresql"


class SqlCompiledReads:
    """Runs compiled plans for one caller scope over the read engine."""

    def __init__(self, engine: AsyncEngine, scope: ReadScope) -> None:
        self._engine = engine
        self._scope = scope

    async def fetch(self, root: p.Root) -> p.Answer | None:
        """The root field's answer; None when the statement found no row (a lookup of a
        missing or hidden row) or could not compute a value (a sum beyond BigInt): the
        resolvers then say what that means."""
        statement = _statement_of(root, self._scope)
        if statement is None:
            return None
        try:
            async with self._engine.connect() as connection:
                if statement.sent is None:
                    text = await _first_run(connection, statement)
                else:
                    text = await _replay(connection, statement.sent)
        except DBAPIError as error:
            if _sqlstate(error).startswith(DATA_EXCEPTION):
                return None
            raise
        except asyncpg.PostgresError as error:
            if error.sqlstate == QUERY_CANCELED:
                raise RequestTimedOut(STATEMENT_TIMED_OUT) from error
            if str(error.sqlstate or "").startswith(DATA_EXCEPTION):
                return None
            raise
        return None if text is None else _answer(text)


def _answer(text: str) -> p.Answer:
    """The statement's text with its objects counted and their `{` put back."""
    objects, aggregates = text.count(OBJECT), text.count(AGGREGATE_OBJECT)
    text = text.replace(OBJECT, "{")
    if aggregates:
        text = text.replace(AGGREGATE_OBJECT, "{")
    return p.Answer(text, objects, aggregates)


@dataclass(frozen=True, slots=True)
class _Sent:
    """A statement as SQLAlchemy handed it to asyncpg: its text and its parameters."""

    text: str
    parameters: tuple[Any, ...]


@dataclass(slots=True)
class _Statement:
    """A plan's statement for one scope, and once it ran, what SQLAlchemy sent for it.

    SQLAlchemy renders the statement the first time (its text, the bound values through
    their types); after that the same text and values go to asyncpg directly, which
    keeps it prepared. Working out SQLAlchemy's cache key for a statement this size, and
    its execution context and result, cost more than half of a one-statement read's time
    in the database driver (W3: ~0.9 ms of CPU per request through SQLAlchemy, ~0.4 ms
    directly).

    Once sent, the statement itself is let go: its SQLAlchemy elements (some 13,000 for
    a list with a few fields) are not needed to replay it, and a process keeping
    hundreds of statements spent its time collecting garbage over them."""

    select: Select[Any] | None  # until it first runs
    sent: _Sent | None = None


# SQLAlchemy's renderings of compiled reads, by the statement's shape (its cache key:
# statements that differ only in bound values render alike), kept apart from the
# engine's cache of every other statement. A rendering holds the statement it was made
# from, thousands of objects: at the end of the list oracle the engine's cache of 500
# held a million of them, over which every full garbage collection went. Plans of one
# shape come close together (a walk's pages, callers asking the same document): the
# properties found 97-100% of the renderings 500 found with 64 kept.
_RENDERINGS: LRUCache[Any, Any] = LRUCache(RENDERINGS_KEPT)


async def _first_run(connection: AsyncConnection, statement: _Statement) -> str | None:
    assert statement.select is not None  # not sent yet
    result = await connection.execute(
        statement.select, execution_options={"compiled_cache": _RENDERINGS}
    )
    context = result.context
    statement.sent = _Sent(context.statement, tuple(context.parameters[0]))
    statement.select = None
    text: str | None = result.scalar()
    return text


async def _replay(connection: AsyncConnection, sent: _Sent) -> str | None:
    """`sent` on the connection's asyncpg connection. SQLAlchemy's cursor events are
    dispatched as for any statement it runs: before_cursor_execute, then
    after_cursor_execute or handle_error, with an execution context of their own to
    note things on, so their listeners (the statement counters of tests and benchmarks,
    the tracing's SQL spans) hear of it. What a handle_error listener returns is not
    raised: fetch decides what a failed statement means."""
    sync = connection.sync_connection
    assert sync is not None  # a connection that has started
    dispatch = sync.dispatch
    execution = _ReplayedExecution()
    for listener in dispatch.before_cursor_execute:
        listener(sync, None, sent.text, sent.parameters, execution, False)
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None  # a pooled connection that is open
    try:
        text: str | None = await driver.fetchval(sent.text, *sent.parameters)
    except Exception as error:
        if isinstance(error, asyncpg.InterfaceError | OSError):
            # The connection broke under the statement: the pool must not hand it out again.
            await connection.invalidate()
        failure = _ReplayedError(sync, execution, error, sent.text, sent.parameters)
        for handler in sync.dialect.dispatch.handle_error:
            handler(failure)
        raise
    for listener in dispatch.after_cursor_execute:
        listener(sync, None, sent.text, sent.parameters, execution, False)
    return text


class _ReplayedExecution:
    """The execution context a replayed statement's listeners get: nothing but a place
    for them to keep what they started (a span) until the statement ends."""


@dataclass(slots=True)
class _ReplayedError:
    """What handle_error listeners read of SQLAlchemy's ExceptionContext, for a replayed
    statement that failed."""

    connection: Any
    execution_context: _ReplayedExecution
    original_exception: BaseException
    statement: str
    parameters: tuple[Any, ...]
    cursor: None = None
    sqlalchemy_exception: None = None
    chained_exception: None = None
    is_disconnect: bool = False
    invalidate_pool_on_disconnect: bool = False
    is_pre_ping: bool = False

    @property
    def engine(self) -> Any:
        return self.connection.engine

    @property
    def dialect(self) -> Any:
        return self.connection.dialect


def _sqlstate(error: DBAPIError) -> str:
    original = getattr(error, "orig", None)
    return str(getattr(original, "sqlstate", None) or "")


_STATEMENTS: KeptPerObject[_Statement | None] = KeptPerObject(STATEMENTS_KEPT)


def _statement_of(root: p.Root, scope: ReadScope) -> _Statement | None:
    """The plan's statement for the scope; None when the plan names something the
    compiler cannot build (the resolvers answer it then, as for any uncovered field)."""

    def compiled() -> _Statement | None:
        try:
            return _Statement(Compiler(scope).statement(root))
        except NotCompiled:
            return None

    return _STATEMENTS.get_or_make(root, scope, compiled)
