"""What a caller asks of a list (filter, order, window) and what a page holds.

Two windows serve every list shape: a keyset window (Relay's first/after, last/before:
positions are sort-key values, so inserting rows never shifts a cursor) and an offset
window (the REST APIs' start/length and page/pageSize). Both are capped at 200 rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from domain.errors import BadUserInput, PageSizeTooLarge
from domain.filtering import ID_ASCENDING, Filter, SortKey

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_OFFSET = 10_000_000

T = TypeVar("T")


def checked_size(size: int, argument: str, *, minimum: int = 0) -> int:
    if size < minimum:
        raise BadUserInput(f"`{argument}` must be at least {minimum}.", field=argument)
    if size > MAX_PAGE_SIZE:
        raise PageSizeTooLarge(
            f"`{argument}` is {size}; the maximum page size is {MAX_PAGE_SIZE}.", field=argument
        )
    return size


@dataclass(frozen=True, slots=True)
class Position:
    """Where a row sits in an ordering: its sort-key values, the id last."""

    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Keyset:
    """`size` rows after `after` (or, `backward`, the last `size` rows before `before`)."""

    size: int = DEFAULT_PAGE_SIZE
    backward: bool = False
    after: Position | None = None
    before: Position | None = None

    @classmethod
    def checked(
        cls,
        first: int | None,
        last: int | None,
        after: Position | None = None,
        before: Position | None = None,
    ) -> Keyset:
        if first is not None and last is not None:
            raise BadUserInput("Give `first` or `last`, not both.", field="last")
        if last is not None:
            return cls(checked_size(last, "last"), True, after, before)
        size = DEFAULT_PAGE_SIZE if first is None else checked_size(first, "first")
        return cls(size, False, after, before)


@dataclass(frozen=True, slots=True)
class Offset:
    """`limit` rows after skipping `offset` rows."""

    offset: int
    limit: int

    @classmethod
    def checked(cls, offset: int, limit: int, *, offset_arg: str, limit_arg: str) -> Offset:
        if offset < 0:
            raise BadUserInput(f"`{offset_arg}` must not be negative.", field=offset_arg)
        if offset > MAX_OFFSET:
            raise BadUserInput(
                f"`{offset_arg}` may be at most {MAX_OFFSET}; narrow the filter instead.",
                field=offset_arg,
            )
        return cls(offset, checked_size(limit, limit_arg, minimum=1))

    @classmethod
    def of_page(
        cls, page: int, size: int, *, first_page: int, page_arg: str, size_arg: str
    ) -> Offset:
        """Page number `page` (counting from `first_page`) of `size` rows."""
        if page < first_page:
            raise BadUserInput(f"`{page_arg}` must be at least {first_page}.", field=page_arg)
        checked_size(size, size_arg, minimum=1)
        return cls.checked(
            (page - first_page) * size, size, offset_arg=page_arg, limit_arg=size_arg
        )


Window = Keyset | Offset


@dataclass(frozen=True, slots=True)
class ListRequest:
    """A checked request for one page of a list: hashable, so it keys the loaders."""

    where: Filter | None = None
    order: tuple[SortKey, ...] = (ID_ASCENDING,)
    window: Window = Keyset()
    # Hashed once: a page of 100 parents keys its loaders, batches and pages with the same
    # request a thousand times, and the filter tree hashes deep.
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.where, self.order, self.window)))

    def __hash__(self) -> int:
        return self._hash

    @property
    def size(self) -> int:
        return self.window.size if isinstance(self.window, Keyset) else self.window.limit


@dataclass(frozen=True, slots=True)
class ParentPage:
    """A page of one parent's children: the key of a paged relation loader."""

    parent_id: int
    request: ListRequest


@dataclass(frozen=True, slots=True)
class CountKey:
    """Rows of `relation` (under `parent_id`, or the root list when None) matching `where`."""

    relation: str
    parent_id: int | None
    where: Filter | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    has_next: bool
    has_previous: bool
    order: tuple[SortKey, ...] = (ID_ASCENDING,)

    @classmethod
    def of(cls, rows: Sequence[T], request: ListRequest) -> Page[T]:
        """The page from `rows` fetched in window order, one more than asked for when a
        further row exists in the direction of travel."""
        window = request.window
        more = len(rows) > request.size
        items = list(rows[: request.size])
        if isinstance(window, Offset):
            return cls(items, more, window.offset > 0, request.order)
        if window.backward:
            items.reverse()
            return cls(items, window.before is not None, more, request.order)
        return cls(items, more, window.after is not None, request.order)
