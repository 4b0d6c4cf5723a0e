"""Per-request dataloaders behind every relation of the graph.

Every batch runs one statement on its own pooled connection (an AsyncSession must not be
shared by concurrent resolvers) in autocommit, and every statement is limited to the
caller's ReadScope (db.scopes): its tenant, partner scope and payment kinds. Loaders are
created on first use, so a query pays only for the relations it selects.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from functools import cached_property
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy import ColumnElement, Select, Table, and_, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db import read_models as rm
from db.aggregates import NO_PARENT, groups_page, measure_statement, measured_rows
from db.filters import beyond, order_by, where
from db.read_models import ReadModel
from db.scopes import visible
from domain import read_catalog as catalog
from domain.access import ReadScope
from domain.aggregates import AggregateKey, Group
from domain.paging import CountKey, Keyset, ListRequest, Offset, Page, ParentPage

# Every loader is derived from the read catalog (domain.read_catalog), named after its
# entry. Loader name -> read model, for loaders of rows by id:
BY_ID: dict[str, ReadModel] = {lookup.name: rm.OF_TABLE[lookup.table] for lookup in catalog.LOOKUPS}

# name -> (read model of the children, foreign key column to the parent)
BY_PARENT: dict[str, tuple[ReadModel, str]] = {
    relation.name: (rm.OF_TABLE[relation.target], relation.foreign_key)
    for relation in catalog.TO_MANY
}


def _excluding(statuses: tuple[Enum, ...]) -> Callable[[Table], ColumnElement[bool]]:
    def condition(table: Table) -> ColumnElement[bool]:
        return and_(*(table.c.status != status.value for status in statuses))

    return condition


# name -> the condition every row of the relation meets, whatever the filter: the
# relation leaves out the rows whose status the catalog excludes.
ALWAYS: dict[str, Callable[[Table], ColumnElement[bool]]] = {
    relation.name: _excluding(relation.excluded_statuses)
    for relation in catalog.TO_MANY
    if relation.excluded_statuses
}

# name -> read model, for root lists keyed by ListRequest
ROOTS: dict[str, ReadModel] = {root.name: rm.OF_TABLE[root.table] for root in catalog.ROOT_LISTS}


Batch = Callable[[list[Any]], Awaitable[list[Any]]]


class SharedLoader(DataLoader):
    """A DataLoader whose callers each await a shield of the future it keeps per key.

    Fields loading the same row share that future, and graphql-core cancels a field's
    siblings when one of them fails: a sibling cancelled while awaiting the shared future
    cancelled the future itself, and every other field waiting on the row then got a
    CancelledError, which no field error catches (the differential property found it:
    an invoice whose `documents` refused a cursor lost its `sender` that way)."""

    def load(self, key: Any) -> asyncio.Future[Any]:
        return asyncio.shield(super().load(key))


class SqlReadLoaders:
    """Implements domain.ports.ReadLoaders over one engine, for one caller's scope."""

    def __init__(self, engine: AsyncEngine, scope: ReadScope) -> None:
        self._engine = engine
        self._read_scope = scope
        # aiodataloader runs each batch as a task of its own, which nothing awaits once
        # the request is over: they are kept here so the request can stop them.
        self._batches: set[asyncio.Task[Any]] = set()
        self._closed = False

    def __getattr__(self, name: str) -> DataLoader:
        # Called only for attributes not yet created: build the loader once, keep it.
        if name in BY_ID:
            loader = SharedLoader(self._tracked(self._by_id_batch(BY_ID[name])))
        elif name in BY_PARENT:
            loader = SharedLoader(self._tracked(self._by_parent_batch(name)))
        elif name in ROOTS:
            loader = SharedLoader(self._tracked(self._root_batch(ROOTS[name])))
        else:
            raise AttributeError(name)
        setattr(self, name, loader)
        return loader

    def of(self, entry: Any) -> DataLoader:
        """The loader of a read catalog entry: the attribute named after it."""
        return getattr(self, entry.name)  # type: ignore[no-any-return]

    @cached_property
    def count_of(self) -> DataLoader:
        return SharedLoader(self._tracked(self._count_batch))

    @cached_property
    def aggregate_of(self) -> DataLoader:
        return SharedLoader(self._tracked(self._aggregate_batch))

    def cancel_pending(self) -> None:
        """The request is over (answered, or stopped by its deadline): cancel the batches
        still running, each of which holds a pooled connection while its statement runs,
        and any batch that would start later ends at once."""
        self._closed = True
        for task in self._batches:
            task.cancel()

    def _tracked(self, batch: Batch) -> Batch:
        async def tracked(keys: list[Any]) -> list[Any]:
            if self._closed:
                # Ending the task cancelled leaves its futures pending: nobody awaits
                # them any more, and a pending future is not reported as lost.
                raise asyncio.CancelledError
            task = asyncio.current_task()
            assert task is not None
            self._batches.add(task)
            try:
                return await batch(keys)
            finally:
                self._batches.discard(task)

        return tracked

    async def _fetch(self, statement: Select[Any]) -> Sequence[Any]:
        async with self._engine.connect() as connection:
            result = await connection.execute(statement)
            return result.all()

    def _matching(self, table: Table, tree: Any) -> list[ColumnElement[bool]]:
        """The caller's scope and the request's filter over `table`."""
        return [visible(table, self._read_scope), where(table, tree, self._read_scope)]

    def _window(self, table: Table, request: ListRequest) -> list[ColumnElement[bool]]:
        window = request.window
        if not isinstance(window, Keyset):
            return []
        bounds = []
        if window.after is not None:
            bounds.append(beyond(table, request.order, window.after))
        if window.before is not None:
            bounds.append(beyond(table, request.order, window.before, reverse=True))
        return bounds

    def _by_id_batch(self, model: ReadModel) -> Any:
        async def batch(ids: list[int]) -> list[Any]:
            statement = select(*model.columns).where(
                visible(model.table, self._read_scope), model.table.c.id.in_(ids)
            )
            found = {row.id: model.build(row) for row in await self._fetch(statement)}
            return [found.get(key) for key in ids]

        return batch

    def _relation(self, relation: str) -> tuple[ReadModel, Any, list[ColumnElement[bool]]]:
        model, foreign_key = BY_PARENT[relation]
        always = ALWAYS.get(relation)
        return model, model.table.c[foreign_key], [always(model.table)] if always else []

    def _by_parent_batch(self, relation: str) -> Any:
        model, fk, always = self._relation(relation)

        async def batch(keys: list[ParentPage]) -> list[Page[Any]]:
            # One statement per distinct list request; usually every key shares one.
            groups: dict[ListRequest, list[int]] = defaultdict(list)
            for key in keys:
                groups[key.request].append(key.parent_id)
            pages: dict[ParentPage, Page[Any]] = {}
            for request, parent_ids in groups.items():
                pages.update(await self._pages_of(model, fk, request, parent_ids, always))
            return [pages[key] for key in keys]

        return batch

    async def _pages_of(
        self,
        model: ReadModel,
        fk: Any,
        request: ListRequest,
        parent_ids: list[int],
        always: list[ColumnElement[bool]],
    ) -> dict[ParentPage, Page[Any]]:
        """Each parent's page in one statement: rows ranked within their parent, or, for
        a single parent (a portfolio page), its rows in order with a LIMIT, which lets
        PostgreSQL read them from an index and stop instead of ranking them all."""
        table = model.table
        backward = isinstance(request.window, Keyset) and request.window.backward
        ordering = order_by(table, request.order, reverse=backward)
        conditions = [
            *self._matching(table, request.where),
            *self._window(table, request),
            *always,
        ]
        skip = request.window.offset if isinstance(request.window, Offset) else 0
        if len(parent_ids) == 1:
            (parent,) = parent_ids
            single = (
                select(*model.columns)
                .where(fk == parent, *conditions)
                .order_by(*ordering)
                .offset(skip)
                .limit(request.size + 1)
            )
            rows = [model.build(row) for row in await self._fetch(single)]
            return {ParentPage(parent, request): Page.of(rows, request)}
        rank = func.row_number().over(partition_by=fk, order_by=ordering).label("rank")
        ranked = select(*model.columns, fk.label("parent_key"), rank).where(
            fk.in_(parent_ids), *conditions
        )
        inner = ranked.subquery()
        names = [column.name for column in model.columns]
        statement = (
            select(*(inner.c[name] for name in names), inner.c.parent_key)
            .where(inner.c.rank > skip, inner.c.rank <= skip + request.size + 1)
            .order_by(inner.c.parent_key, inner.c.rank)
        )
        children: dict[int, list[Any]] = defaultdict(list)
        for row in await self._fetch(statement):
            children[row.parent_key].append(model.build(row[:-1]))
        return {
            ParentPage(parent, request): Page.of(children.get(parent, []), request)
            for parent in parent_ids
        }

    def _root_batch(self, model: ReadModel) -> Any:
        async def batch(requests: list[ListRequest]) -> list[Page[Any]]:
            return [await self._root_page(model, request) for request in requests]

        return batch

    async def _root_page(self, model: ReadModel, request: ListRequest) -> Page[Any]:
        table = model.table
        window = request.window
        backward = isinstance(window, Keyset) and window.backward
        statement = (
            select(*model.columns)
            .where(*self._matching(table, request.where), *self._window(table, request))
            .order_by(*order_by(table, request.order, reverse=backward))
            .limit(request.size + 1)
        )
        if isinstance(window, Offset):
            statement = statement.offset(window.offset)
        rows = [model.build(row) for row in await self._fetch(statement)]
        return Page.of(rows, request)

    async def _count_batch(self, keys: list[CountKey]) -> list[int]:
        groups: dict[tuple[str, Any], list[int | None]] = defaultdict(list)
        for key in keys:
            groups[(key.relation, key.where)].append(key.parent_id)
        counts: dict[CountKey, int] = {}
        for (relation, tree), parents in groups.items():
            if relation in ROOTS:
                table = ROOTS[relation].table
                statement: Select[Any] = select(func.count()).where(*self._matching(table, tree))
                counts[CountKey(relation, None, tree)] = (await self._fetch(statement))[0][0]
                continue
            model, fk, always = self._relation(relation)
            statement = (
                select(fk, func.count())
                .where(fk.in_(parents), *self._matching(model.table, tree), *always)
                .group_by(fk)
            )
            found = dict(await self._fetch(statement))  # type: ignore[arg-type]
            counts.update({CountKey(relation, p, tree): found.get(p, 0) for p in parents})
        return [counts[key] for key in keys]

    async def _aggregate_batch(self, keys: list[AggregateKey]) -> list[Page[Group]]:
        """One GROUP BY statement per aggregate shape (relation, filter, keys, window),
        covering every parent that asked for it."""
        shapes: dict[tuple[Any, ...], list[int | None]] = defaultdict(list)
        for key in keys:
            shapes[(key.of.relation, key.of.where, key.by, key.window)].append(key.of.parent_id)
        pages: dict[AggregateKey, Page[Group]] = {}
        for (relation, tree, by, window), parents in shapes.items():
            if relation in ROOTS:
                table, parent, conditions = ROOTS[relation].table, None, []
            else:
                model, parent, always = self._relation(relation)
                table, conditions = model.table, [parent.in_(parents), *always]
            statement = measure_statement(
                table,
                parent,
                [*self._matching(table, tree), *conditions],
                by,
                window,
                self._engine.dialect.name,
            )
            found = measured_rows(await self._fetch(statement), by)
            for parent_id in parents:
                key = AggregateKey(CountKey(relation, parent_id, tree), by, window)
                pages[key] = groups_page(found.get(parent_id or NO_PARENT, []), by, window)
        return [pages[key] for key in keys]
