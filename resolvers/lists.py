"""Turn a list field's arguments into one checked ListRequest, whatever the shape the
field speaks (Relay cursors, the REST APIs' offsets or page numbers), and load pages and
counts through the request's loaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from domain.errors import BadUserInput
from domain.filtering import Filter, Listing, SortKey, build_filter, build_sort
from domain.listings import LISTINGS
from domain.paging import CountKey, Keyset, ListRequest, Offset, Page, ParentPage
from resolvers.cursors import decode, decode_cursor, parse_row_id

if TYPE_CHECKING:
    from domain.ports import Loader
    from domain.read_catalog import RootList, ToMany
    from resolvers.context import Context


def parse_filter_id(target: str | None, raw: Any, path: str) -> int:
    """A filter's id: the global ID of `target` or the numeric database id."""
    text = str(raw)
    numeric = parse_row_id(text)
    if numeric is not None:
        return numeric
    if target is not None and target != "Tenant":
        return decode(target, text, argument=path)
    raise BadUserInput(f"`{path}`: {text!r} is not an id.", field=path)


def where_of(
    listing: Listing, data: Mapping[str, Any] | None, path: str = "filter"
) -> Filter | None:
    return build_filter(listing, data, listings=LISTINGS, parse_id=parse_filter_id, path=path)


def ordering(
    listing: Listing, keys: Sequence[tuple[str, bool]] | None, *, path: str = "sort"
) -> tuple[SortKey, ...]:
    return build_sort(listing, keys or (), path=path)


def list_request(
    listing: Listing,
    *,
    where: Filter | None = None,
    order: tuple[SortKey, ...] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    offset: Offset | None = None,
) -> ListRequest:
    """The request of a list field; `offset` (from the REST APIs' paging arguments) and
    the Relay cursor arguments are alternatives, never mixed."""
    order = order or ordering(listing, None)
    if offset is not None:
        given = [
            name
            for name, value in (
                ("first", first),
                ("after", after),
                ("last", last),
                ("before", before),
            )
            if value is not None
        ]
        if given:
            raise BadUserInput(
                f"`{given[0]}` pages by cursor; it cannot be combined with offset paging.",
                field=given[0],
            )
        return ListRequest(where, order, offset)
    window = Keyset.checked(
        first,
        last,
        decode_cursor(after, order, argument="after"),
        decode_cursor(before, order, argument="before"),
    )
    return ListRequest(where, order, window)


async def load(
    context: Context,
    relation: ToMany[Any] | RootList[Any],
    parent_id: int | None,
    request: ListRequest,
) -> tuple[Page[Any], CountKey]:
    """A page of `relation` (a root list when `parent_id` is None, else one parent's
    children) and the key of the whole list, to count or measure it when selected."""
    loader: Loader[Any, Page[Any]] = context.loaders.of(relation)
    page = await loader.load(request if parent_id is None else ParentPage(parent_id, request))
    return page, CountKey(relation.name, parent_id, request.where)


def counter(context: Context, key: CountKey) -> Callable[[], Awaitable[int]]:
    """Counts the list `key` names, through the request's batched count loader."""
    return lambda: context.loaders.count_of.load(key)
