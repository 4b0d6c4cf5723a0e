"""The domain's filter trees, orderings and keyset positions as SQL.

Every value is a bound parameter; `contains` and `startsWith` escape the LIKE wildcards
of the caller's text. A relation filter becomes `fk IN (SELECT id FROM target WHERE
<scope> AND <filter>)`, so reaching through a relation never widens what the caller sees.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, and_, case, false, not_, or_, select, true

from db.models.base import Base
from db.scopes import visible
from domain.access import ReadScope
from domain.filtering import (
    AllOf,
    AnyOf,
    Condition,
    Filter,
    Negation,
    Op,
    SortKey,
    Through,
)
from domain.listings import LISTINGS
from domain.paging import Position


def table_named(name: str) -> Table:
    return Base.metadata.tables[name]


def where(table: Table, tree: Filter | None, scope: ReadScope) -> ColumnElement[bool]:
    """`tree` over `table` (rows of a listing), true when there is no filter."""
    if tree is None:
        return true()
    if isinstance(tree, Condition):
        return _condition(table.c[tree.column], tree)
    if isinstance(tree, AllOf):
        return and_(true(), *(where(table, part, scope) for part in tree.parts))
    if isinstance(tree, AnyOf):
        return or_(false(), *(where(table, part, scope) for part in tree.parts))
    if isinstance(tree, Negation):
        # NOT over NULL is NULL in SQL; coalescing keeps `not` the exact complement.
        return not_(_definite(where(table, tree.part, scope)))
    return _through(table, tree, scope)


def _definite(clause: ColumnElement[bool]) -> ColumnElement[bool]:
    return case((clause, true()), else_=false())


def _through(table: Table, tree: Through, scope: ReadScope) -> ColumnElement[bool]:
    target = table_named(LISTINGS[tree.relation.target].table)
    matching = select(target.c.id).where(visible(target, scope), where(target, tree.where, scope))
    return or_(*(table.c[column].in_(matching) for column in tree.relation.columns))


def _condition(column: Any, condition: Condition) -> ColumnElement[bool]:
    op, value = condition.op, condition.value
    if op is Op.IS_NULL:
        return column.is_(None) if value else column.is_not(None)
    if op is Op.EQ:
        return column == value  # type: ignore[no-any-return]
    if op is Op.IN:
        return column.in_(value)  # type: ignore[no-any-return]
    if op is Op.GTE:
        return column >= value  # type: ignore[no-any-return]
    if op is Op.LTE:
        return column <= value  # type: ignore[no-any-return]
    if op is Op.CONTAINS:
        return column.icontains(value, autoescape=True)  # type: ignore[no-any-return]
    return column.istartswith(value, autoescape=True)  # type: ignore[no-any-return]


def order_by(table: Table, order: tuple[SortKey, ...], *, reverse: bool = False) -> list[Any]:
    """ORDER BY terms: NULLs after every value ascending, before every value descending."""
    terms = []
    for key in order:
        column = table.c[key.column]
        descending = key.descending != reverse
        term = column.desc() if descending else column.asc()
        if key.nullable:
            term = term.nulls_first() if descending else term.nulls_last()
        terms.append(term)
    return terms


def beyond(
    table: Table, order: tuple[SortKey, ...], position: Position, *, reverse: bool = False
) -> ColumnElement[bool]:
    """Rows strictly after `position` in `order` (before it when `reverse`)."""
    alternatives = []
    for index, key in enumerate(order):
        ties = [
            _equal(table.c[k.column], v)
            for k, v in zip(order[:index], position.values, strict=False)
        ]
        step = _past(table.c[key.column], key, key.descending != reverse, position.values[index])
        alternatives.append(and_(*ties, step))
    first = order[0]
    # A bound on the leading key alone lets an index range scan start at the position.
    leading = _at_or_past(table.c[first.column], first, position.values[0], reverse)
    return and_(leading, or_(*alternatives))


def _equal(column: Any, value: Any) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value  # type: ignore[no-any-return]


def _past(column: Any, key: SortKey, descending: bool, value: Any) -> ColumnElement[bool]:
    """Strictly past `value` in one key's direction, NULL being the greatest value."""
    if value is None:
        return column.is_not(None) if descending else false()  # type: ignore[no-any-return]
    if descending:
        return column < value  # type: ignore[no-any-return]
    return or_(column > value, column.is_(None)) if key.nullable else column > value


def _at_or_past(column: Any, key: SortKey, value: Any, reverse: bool) -> ColumnElement[bool]:
    if key.nullable:
        return true()
    descending = key.descending != reverse
    return column <= value if descending else column >= value  # type: ignore[no-any-return]
