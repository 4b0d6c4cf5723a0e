"""The REST APIs' own list arguments (offsets, `sortBy` strings) and their
results, over the shared list machinery."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import strawberry

from domain import read_catalog as catalog
from domain.errors import BadUserInput
from domain.filtering import sort_direction_named, sort_field_named
from domain.listings import LISTINGS
from domain.paging import CountKey, ListRequest, Offset
from domain.portfolio import DEFAULT_PORTFOLIO_PAGE_SIZE, commission_filter, portfolio_filter
from domain.statuses import PaymentStatus
from resolvers import lists
from schema.field_decorators import field
from schema.fields import Info, request_of
from schema.filters import SortDirection
from schema.selections import selects
from schema.speedups.prefetch import ROWS_OF_DATA, prefetch
from schema.types.analytics import MeasuredList

if TYPE_CHECKING:
    from schema.types.payment import Payment

DEFAULT_DETAIL_LENGTH = 100

Start: TypeAlias = Annotated[
    int | None,
    strawberry.argument(
        description="Offset of the first row (the commission payouts API's start)."
    ),
]
Length: TypeAlias = Annotated[
    int | None,
    strawberry.argument(
        description="Rows to return, at most 200 (the commission payouts API's length)."
    ),
]
SortBy: TypeAlias = Annotated[
    str | None,
    strawberry.argument(description="Field to sort by, e.g. `createdAt` or `created_at`."),
]
SortType: TypeAlias = Annotated[str | None, strawberry.argument(description="`asc` or `desc`.")]
FromDate: TypeAlias = Annotated[
    datetime | None, strawberry.argument(description="Created at or after (UTC).")
]
ToDate: TypeAlias = Annotated[
    datetime | None, strawberry.argument(description="Created at or before (UTC).")
]


def offset_window(start: int, length: int) -> Offset:
    return Offset.checked(start, length, offset_arg="start", limit_arg="length")


def document_sort(
    type_name: str,
    sort: Any,
    sort_by: str | None,
    sort_type: str | None,
    default_field: str,
    *,
    default_descending: bool = False,
) -> list[tuple[str, bool]] | None:
    """`(field, descending)` from a document's `sortBy` / `sortType` strings; None when
    the typed `sort` argument decides instead."""
    if sort_by is None and sort_type is None:
        return None if sort is not None else [(default_field, default_descending)]
    if sort is not None:
        raise BadUserInput("Give `sort` or `sortBy`/`sortType`, not both.", field="sort")
    listing = LISTINGS[type_name]
    field = default_field if sort_by is None else sort_field_named(listing, sort_by, path="sortBy")
    descending = (
        default_descending
        if sort_type is None
        else sort_direction_named(sort_type, path="sortType")
    )
    return [(field, descending)]


PaymentRef = Annotated["Payment", strawberry.lazy("schema.types.payment")]


@strawberry.type(
    description="The commission payouts API's list of commission payments: offset paging."
)
class PartnerPaymentList(MeasuredList):
    data: list[PaymentRef] = strawberry.field(description="The payments of this page.")
    start: int = strawberry.field(description="Offset of the first row.")
    length: int = strawberry.field(description="Page size asked for.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @field(description="Payments matching the filter; counted only when asked.")
    async def total(self) -> int:
        return await self.count()


@strawberry.type(description="The partner portfolio API's page of a partner's payments.")
class PortfolioPage(MeasuredList):
    data: list[PaymentRef] = strawberry.field(description="The payments of this page.")
    page: int = strawberry.field(description="0-based page number.")
    page_size: int = strawberry.field(description="Page size asked for.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @field(description="Payments matching the filters; counted only when asked.")
    async def total(self) -> int:
        return await self.count()


@strawberry.enum(description="What the partner portfolio API's partner payment list sorts by.")
class PortfolioSortField(Enum):
    CREATED = "created_at"
    UPDATED = "updated_at"
    AMOUNT = "amount"
    STATUS = "status"


def portfolio_request(
    page: int = 0,
    page_size: int = DEFAULT_PORTFOLIO_PAGE_SIZE,
    sort_by: PortfolioSortField = PortfolioSortField.CREATED,
    sort_direction: SortDirection = SortDirection.DESC,
    from_date: datetime | None = None,
    to_date: datetime | None = None,
    status: PaymentStatus | None = None,
    filter: Any = None,
) -> ListRequest:
    """The partner portfolio API's page of a partner's payments as a list request."""
    window = Offset.of_page(page, page_size, first_page=0, page_arg="page", size_arg="pageSize")
    return request_of(
        "Payment",
        filter,
        None,
        offset=window,
        extra=portfolio_filter(from_date, to_date, status),
        sort_pairs=[(sort_by.value, sort_direction is SortDirection.DESC)],
    )


async def portfolio_page(
    info: Info,
    partner_id: int,
    page: int,
    page_size: int,
    sort_by: PortfolioSortField,
    sort_direction: SortDirection,
    from_date: datetime | None,
    to_date: datetime | None,
    status: PaymentStatus | None,
    filter: Any,
) -> PortfolioPage:
    request = portfolio_request(
        page, page_size, sort_by, sort_direction, from_date, to_date, status, filter
    )
    key = CountKey(catalog.PAYMENTS_OF_PARTNER.name, partner_id, request.where)
    rows: list[Any] = []
    if selects(info, "data"):  # a statement's aggregate asks only for the measures
        relation = catalog.PAYMENTS_OF_PARTNER
        found, key = await lists.load(info.context, relation, partner_id, request)
        await prefetch(info, "Payment", found.items, ROWS_OF_DATA)
        rows = list(found.items)
    return PortfolioPage(
        data=rows,
        page=page,
        page_size=page_size,
        count=lists.counter(info.context, key),
        list_key=key,
    )


def partner_payments_request(
    filter: Any, sort_by: str | None, sort_type: str | None, *, offset: Offset | None = None
) -> ListRequest:
    """The commission payouts API's list: commission payments, newest first unless `sortBy` /
    `sortType` say otherwise."""
    return request_of(
        "Payment",
        filter,
        None,
        offset=offset,
        extra=commission_filter(),
        sort_pairs=document_sort(
            "Payment", None, sort_by, sort_type, "created_at", default_descending=True
        ),
    )


async def partner_payments(
    info: Info,
    filter: Any,
    start: int,
    length: int,
    sort_by: str | None,
    sort_type: str | None,
) -> PartnerPaymentList:
    request = partner_payments_request(
        filter, sort_by, sort_type, offset=offset_window(start, length)
    )
    found, key = await lists.load(info.context, catalog.PAYMENTS, None, request)
    await prefetch(info, "Payment", found.items, ROWS_OF_DATA)
    return PartnerPaymentList(
        data=list(found.items),
        start=start,
        length=length,
        count=lists.counter(info.context, key),
        list_key=key,
    )
