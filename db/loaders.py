"""Per-request dataloaders behind every relation of the graph.

Every batch runs one statement on its own pooled connection (an AsyncSession must not be
shared by concurrent resolvers) in autocommit, and every statement is limited to the
caller's ReadScope (db.scopes): its tenant, partner scope and payment kinds. Loaders are
created on first use, so a query pays only for the relations it selects.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from functools import cached_property
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db import read_models as rm
from db.read_models import ReadModel
from db.scopes import visible
from domain.access import ReadScope
from domain.paging import Page, PageRequest, ParentPage

# name -> read model, for `<name>` loaders keyed by id
BY_ID: dict[str, ReadModel] = {
    "tenant_by_id": rm.TENANT,
    "payment_by_id": rm.PAYMENT,
    "partner_by_id": rm.PARTNER,
    "merchant_by_id": rm.MERCHANT,
    "terminal_by_id": rm.TERMINAL,
    "company_by_id": rm.COMPANY,
    "user_by_id": rm.USER,
    "address_by_id": rm.ADDRESS,
    "invoice_by_id": rm.INVOICE,
    "payment_method_by_id": rm.PAYMENT_METHOD,
    "payment_detail_by_id": rm.PAYMENT_DETAIL,
    "payment_document_by_id": rm.PAYMENT_DOCUMENT,
    "accounting_transaction_by_id": rm.ACCOUNTING_TRANSACTION,
    "payment_event_by_id": rm.PAYMENT_EVENT,
}

# name -> (read model of the children, foreign key column to the parent)
BY_PARENT: dict[str, tuple[ReadModel, str]] = {
    "details_by_payment": (rm.PAYMENT_DETAIL, "payment_id"),
    "documents_by_payment": (rm.PAYMENT_DOCUMENT, "payment_id"),
    "events_by_payment": (rm.PAYMENT_EVENT, "payment_id"),
    "ledger_by_payment": (rm.ACCOUNTING_TRANSACTION, "payment_id"),
    "payments_by_invoice": (rm.PAYMENT, "invoice_id"),
    "payments_by_sender": (rm.PAYMENT, "sender_id"),
    "payments_by_receiver": (rm.PAYMENT, "receiver_id"),
    "payments_by_partner": (rm.PAYMENT, "partner_id"),
    "payments_by_merchant": (rm.PAYMENT, "merchant_id"),
    "children_by_partner": (rm.PARTNER, "parent_id"),
    "merchants_by_partner": (rm.MERCHANT, "partner_id"),
    "terminals_by_merchant": (rm.TERMINAL, "merchant_id"),
}

# name -> read model, for root lists keyed by PageRequest
ROOTS: dict[str, ReadModel] = {
    "payments": rm.PAYMENT,
    "invoices": rm.INVOICE,
    "addresses": rm.ADDRESS,
    "partners": rm.PARTNER,
}


class SqlReadLoaders:
    """Implements domain.ports.ReadLoaders over one engine, for one caller's scope."""

    def __init__(self, engine: AsyncEngine, scope: ReadScope) -> None:
        self._engine = engine
        self._read_scope = scope

    def __getattr__(self, name: str) -> DataLoader:
        # Called only for attributes not yet created: build the loader once, keep it.
        if name in BY_ID:
            loader = DataLoader(self._by_id_batch(BY_ID[name]))
        elif name in BY_PARENT:
            loader = DataLoader(self._by_parent_batch(*BY_PARENT[name]))
        elif name in ROOTS:
            loader = DataLoader(self._root_batch(ROOTS[name]))
        else:
            raise AttributeError(name)
        setattr(self, name, loader)
        return loader

    @cached_property
    def count_of(self) -> DataLoader:
        return DataLoader(self._count_batch)

    async def _fetch(self, statement: Select[Any]) -> Sequence[Any]:
        async with self._engine.connect() as connection:
            result = await connection.execute(statement)
            return result.all()

    def _scope(self, model: ReadModel) -> ColumnElement[bool]:
        return visible(model.table, self._read_scope)

    def _by_id_batch(self, model: ReadModel) -> Any:
        async def batch(ids: list[int]) -> list[Any]:
            statement = select(*model.columns).where(self._scope(model), model.table.c.id.in_(ids))
            found = {row.id: model.build(row) for row in await self._fetch(statement)}
            return [found.get(key) for key in ids]

        return batch

    def _by_parent_batch(self, model: ReadModel, foreign_key: str) -> Any:
        fk = model.table.c[foreign_key]

        async def batch(keys: list[ParentPage]) -> list[Page[Any]]:
            # One statement per distinct page request; usually every key shares one.
            groups: dict[PageRequest, list[int]] = defaultdict(list)
            for key in keys:
                groups[key.page].append(key.parent_id)
            pages: dict[ParentPage, Page[Any]] = {}
            for request, parent_ids in groups.items():
                pages.update(await self._pages_of(model, fk, request, parent_ids))
            return [pages[key] for key in keys]

        return batch

    async def _pages_of(
        self, model: ReadModel, fk: Any, request: PageRequest, parent_ids: list[int]
    ) -> dict[ParentPage, Page[Any]]:
        rank = func.row_number().over(partition_by=fk, order_by=model.table.c.id).label("rank")
        conditions = [self._scope(model), fk.in_(parent_ids)]
        if request.after is not None:
            conditions.append(model.table.c.id > request.after)
        ranked = select(*model.columns, fk.label("parent_key"), rank).where(*conditions)
        inner = ranked.subquery()
        names = [column.name for column in model.columns]
        statement = (
            select(*(inner.c[name] for name in names), inner.c.parent_key)
            .where(inner.c.rank <= request.first + 1)
            .order_by(inner.c.parent_key, inner.c.id)
        )
        children: dict[int, list[Any]] = defaultdict(list)
        for row in await self._fetch(statement):
            children[row.parent_key].append(model.build(row[:-1]))
        return {
            ParentPage(parent, request): _page(children.get(parent, []), request)
            for parent in parent_ids
        }

    def _root_batch(self, model: ReadModel) -> Any:
        async def batch(requests: list[PageRequest]) -> list[Page[Any]]:
            pages = []
            for request in requests:
                conditions = [self._scope(model)]
                if request.after is not None:
                    conditions.append(model.table.c.id > request.after)
                statement = (
                    select(*model.columns)
                    .where(*conditions)
                    .order_by(model.table.c.id)
                    .limit(request.first + 1)
                )
                rows = [model.build(row) for row in await self._fetch(statement)]
                pages.append(_page(rows, request))
            return pages

        return batch

    async def _count_batch(self, keys: list[tuple[str, int | None]]) -> list[int]:
        by_relation: dict[str, list[int | None]] = defaultdict(list)
        for relation, parent in keys:
            by_relation[relation].append(parent)
        counts: dict[Hashable, int] = {}
        for relation, parents in by_relation.items():
            if relation in ROOTS:
                model = ROOTS[relation]
                statement: Select[Any] = select(func.count()).where(self._scope(model))
                counts[(relation, None)] = (await self._fetch(statement))[0][0]
                continue
            model, foreign_key = BY_PARENT[relation]
            fk = model.table.c[foreign_key]
            statement = (
                select(fk, func.count()).where(self._scope(model), fk.in_(parents)).group_by(fk)
            )
            found = dict(await self._fetch(statement))  # type: ignore[arg-type]
            counts.update({(relation, parent): found.get(parent, 0) for parent in parents})
        return [counts[key] for key in keys]


def _page(rows: list[Any], request: PageRequest) -> Page[Any]:
    return Page(
        items=rows[: request.first],
        has_next=len(rows) > request.first,
        has_previous=request.after is not None,
    )
