"""Payment measures in SQL: one GROUP BY statement per aggregate shape, whatever the
number of parents or groups.

The statement groups the rows a list would show (the caller's scope and filter, under
its parents) by the parent, the asked keys and the currency, and returns the count and
each money field's count, sum, min and max; domain.aggregates turns the rows into
groups and derives averages. A page of groups is cut by `dense_rank()` over the keys, so
a group is never split across pages by its currencies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, func, literal, select

from domain.aggregates import (
    MONEY_FIELDS,
    FieldMeasures,
    Group,
    GroupKey,
    GroupWindow,
    MeasuredRow,
    groups_of,
)
from domain.paging import Page
from domain.statuses import PaymentKind, PaymentStatus

NO_PARENT = 0  # the parent key of a root list's rows
LOW_BITS = 2**32 - 1


def key_column(table: Table, key: GroupKey, dialect: str) -> ColumnElement[Any]:
    """The grouped expression: a column, or the UTC day / month of `created_at` as text."""
    if key not in (GroupKey.DAY, GroupKey.MONTH):
        return table.c[key.value]
    created = table.c.created_at
    if dialect == "postgresql":
        pattern = "YYYY-MM-DD" if key is GroupKey.DAY else "YYYY-MM"
        return func.to_char(func.timezone("UTC", created), pattern)
    # SQLite keeps UTC moments as ISO text, `YYYY-MM-DD HH:MM:SS...`.
    return func.substr(created, 1, 10 if key is GroupKey.DAY else 7)


def measure_statement(
    table: Table,
    parent: ColumnElement[Any] | None,
    conditions: Sequence[ColumnElement[bool]],
    by: Sequence[GroupKey],
    window: GroupWindow | None,
    dialect: str,
) -> Select[Any]:
    """Rows of (parent, key values..., currency, count, per money field: count, sum, min,
    max), in parent, key (NULL last) and currency order."""
    parent_column = literal(NO_PARENT) if parent is None else parent
    keys = [key_column(table, key, dialect).label(f"k{i}") for i, key in enumerate(by)]
    measures: list[Any] = [func.count().label("n")]
    for name in MONEY_FIELDS:
        column = table.c[name]
        measures += [
            func.count(column).label(f"{name}_n"),
            *_sums(column, name, dialect),
            func.min(column).label(f"{name}_min"),
            func.max(column).label(f"{name}_max"),
        ]
    grouping = [*([] if parent is None else [parent]), *(k.element for k in keys), table.c.currency]
    columns = [parent_column.label("parent"), *keys, table.c.currency.label("code"), *measures]
    if window is None:
        grouped = select(*columns).where(*conditions).group_by(*grouping).subquery()
        return select(grouped).order_by(*_in_order(grouped, len(keys)))
    ranking = [k.element.asc().nulls_last() for k in keys]
    rank = func.dense_rank().over(
        partition_by=None if parent is None else parent, order_by=ranking or None
    )
    ranked = select(*columns, rank.label("grp")).where(*conditions).group_by(*grouping).subquery()
    return (
        select(ranked)
        .where(ranked.c.grp > window.offset, ranked.c.grp <= window.offset + window.limit + 1)
        .order_by(ranked.c.parent, ranked.c.grp, ranked.c.code)
    )


def _sums(column: Any, name: str, dialect: str) -> list[Any]:
    """The exact sum of a BIGINT column. PostgreSQL sums BIGINTs as NUMERIC; SQLite sums in
    64 bits and stops with an overflow error, so there the high and low 32 bits are summed
    apart (each sum fits for up to 2**31 rows) and joined in Python (`_integer`)."""
    if dialect == "postgresql":
        return [func.sum(column).label(f"{name}_sum")]
    return [
        func.sum(column.op(">>")(32)).label(f"{name}_sum"),
        func.sum(column.op("&")(LOW_BITS)).label(f"{name}_low"),
    ]


def _in_order(grouped: Any, key_count: int) -> list[Any]:
    keys = [grouped.c[f"k{i}"].asc().nulls_last() for i in range(key_count)]
    return [grouped.c.parent, *keys, grouped.c.code]


def measured_rows(
    rows: Sequence[Any], by: Sequence[GroupKey]
) -> dict[int, list[tuple[int, MeasuredRow]]]:
    """Each parent's rows as (group rank, MeasuredRow); the rank is 0 when not paged."""
    found: dict[int, list[tuple[int, MeasuredRow]]] = defaultdict(list)
    for row in rows:
        values = row._mapping
        keys = tuple(_key_value(key, values[f"k{i}"]) for i, key in enumerate(by))
        fields = {
            name: FieldMeasures(
                values[f"{name}_n"],
                _integer(values[f"{name}_sum"], values.get(f"{name}_low")),
                values[f"{name}_min"],
                values[f"{name}_max"],
            )
            for name in MONEY_FIELDS
        }
        measured = MeasuredRow(keys, values["code"], values["n"], fields)
        found[values["parent"]].append((values.get("grp", 0), measured))
    return found


def groups_page(
    ranked: Sequence[tuple[int, MeasuredRow]], by: Sequence[GroupKey], window: GroupWindow | None
) -> Page[Group]:
    """One parent's groups: all of them, or the window's (the statement fetched one group
    more than the window, to tell whether more follow)."""
    if window is None:
        return Page(groups_of(by, [row for _, row in ranked]), False, False)
    last = window.offset + window.limit
    groups = groups_of(by, [row for rank, row in ranked if rank <= last])
    return Page(groups, any(rank > last for rank, _ in ranked), window.offset > 0)


def _integer(value: Any, low: Any = None) -> int | None:
    """The exact sum: PostgreSQL's NUMERIC (an integral Decimal), or SQLite's sums of the
    high and low 32 bits."""
    if value is None:
        return None
    return int(value) if low is None else (int(value) << 32) + int(low)


def _key_value(key: GroupKey, value: Any) -> Any:
    if value is None:
        return None
    if key is GroupKey.STATUS:
        return PaymentStatus(value)
    if key is GroupKey.KIND:
        return PaymentKind(value)
    if key is GroupKey.DAY:
        return date.fromisoformat(value)
    return value
