"""Keyset paging: what a caller asks for and what a page holds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from domain.errors import BadUserInput, PageSizeTooLarge

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """`first` rows after the row whose id is `after` (ascending id order)."""

    first: int = DEFAULT_PAGE_SIZE
    after: int | None = None

    @classmethod
    def checked(cls, first: int | None, after: int | None) -> PageRequest:
        size = DEFAULT_PAGE_SIZE if first is None else first
        if size < 0:
            raise BadUserInput("`first` must not be negative.", field="first")
        if size > MAX_PAGE_SIZE:
            raise PageSizeTooLarge(
                f"`first` is {size}; the maximum page size is {MAX_PAGE_SIZE}.", field="first"
            )
        return cls(first=size, after=after)


@dataclass(frozen=True, slots=True)
class ParentPage:
    """A page of one parent's children: the key of a paged relation loader."""

    parent_id: int
    page: PageRequest


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    has_next: bool
    has_previous: bool
