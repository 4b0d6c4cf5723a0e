"""Protocols the adapters implement: the loaders behind every relation.

Resolvers depend on these, never on the database package.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol, TypeVar, overload

from domain.aggregates import AggregateKey, Group
from domain.paging import CountKey, ListRequest, Page, ParentPage
from domain.read_catalog import ById, RootList, ToMany, ToOne

K_contra = TypeVar("K_contra", contravariant=True)
V_co = TypeVar("V_co", covariant=True)
T = TypeVar("T")


class Loader(Protocol[K_contra, V_co]):
    def load(self, key: K_contra) -> Awaitable[V_co]: ...


class CompiledReads(Protocol):
    """Answers a planned root field (domain.read_plan) with one statement that builds
    its JSON; None when it finds no row."""

    async def fetch(self, root: Any) -> Any: ...


class ReadLoaders(Protocol):
    """One fresh set per request; every lookup is batched and tenant-scoped.

    Each entry of the read catalog (domain.read_catalog) has its loader, `of(entry)`; it
    is also the attribute named after the entry (`loaders.invoice_by_id`), which the
    resolvers run on every row of a page read without the call."""

    @overload
    def of(self, entry: ById[T] | ToOne[T]) -> Loader[int, T | None]: ...
    @overload
    def of(self, entry: ToMany[T]) -> Loader[ParentPage, Page[T]]: ...
    @overload
    def of(self, entry: RootList[T]) -> Loader[ListRequest, Page[T]]: ...

    count_of: Loader[CountKey, int]
    """Row counts of a relation under a parent (None: a root list), matching a filter."""

    aggregate_of: Loader[AggregateKey, Page[Group]]
    """Payment measures of such a list, grouped by some keys, per currency."""
