"""The statement generator's side of the wire: a gql client that pulls a partner, its
merchants and their payments with details from a running gateway through paged nested
queries, and reads the gateway's own aggregate of the same payments.

Payments are pulled merchant by merchant, but many merchants at a time: every request
asks for the next page of up to `CHAINS_PER_REQUEST` merchants (aliases of `node`),
so a partner-month costs about `payments / (200 * merchants per request)` requests
rather than one per page of each merchant.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

from domain.aggregates import FieldMeasures, Group, MeasuredRow, groups_of
from domain.statements import (
    BY_MERCHANT_AND_CURRENCY,
    DetailRow,
    Month,
    StatementLine,
    month_windows,
)
from domain.statuses import PaymentKind

PAGE = 200  # the gateway's largest page
# A payment's first detail rows come with it (the demo's have one to five); the rare
# payment with more pages through the rest. A larger first page would multiply the
# round's query cost (schema/cost.py) past the gateway's limit: 12 chains of 200
# payments with 5 detail rows each cost 38,436, with 50 they would cost 254,436.
DETAILS_PAGE = 5
# A THROTTLED answer is retried after the wait it names, this many times at most.
THROTTLED_RETRIES = 20
# Below PAYGRAPH_MAX_ALIASES (15 by default): each chain of a round is one alias.
CHAINS_PER_REQUEST = 12
SLICES = 4  # windows of creation time per merchant-month, each a chain of pages
IN_FLIGHT = 2  # rounds sent at once
TIMEOUT_SECONDS = 120

_PAGE_INFO = "pageInfo { hasNextPage endCursor }"
_DETAILS = f"{_PAGE_INFO} nodes {{ carrier amount {{ amount currency }} }}"
_LINE = (
    "databaseId reference status createdAt currency amount { amount } "
    "paidAmount { amount } settleableAmount { amount } "
    f"details(first: {DETAILS_PAGE}) {{ {_DETAILS} }}"
)
PARTNERS = GraphQLRequest(
    "query Partners($after: String) { partners(first: 200, after: $after) "
    f"{{ {_PAGE_INFO} nodes {{ id databaseId name }} }} }}"
)
PARTNER = GraphQLRequest("query Partner($id: ID!) { partner(id: $id) { id databaseId name } }")
MERCHANTS = GraphQLRequest(
    "query Merchants($id: ID!, $after: String) { partner(id: $id) { "
    f"merchants(first: 200, after: $after) {{ {_PAGE_INFO} nodes {{ id databaseId name }} }} }} }}"
)
GATEWAY_AGGREGATE = GraphQLRequest(
    "query Aggregate($filter: PaymentFilter, $offset: Int!) { payments(filter: $filter) { "
    "groupBy(by: [MERCHANT, CURRENCY], first: 200, offset: $offset) { hasNextPage nodes { "
    "keys { merchant { databaseId } currency } count sum { currency count amount { amount } "
    "paidAmount { amount } settleableAmount { amount } } } } } }"
)


@dataclass(frozen=True, slots=True)
class PartnerRef:
    id: str
    database_id: int
    name: str


@dataclass(frozen=True, slots=True)
class MerchantRef:
    id: str
    database_id: int
    name: str


class StatementSource:
    """One gateway, one credential; counts the GraphQL requests it makes."""

    def __init__(self, url: str, *, token: str | None = None, api_token: str | None = None):
        headers = {"X-Api-Token": api_token} if api_token else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = Client(
            transport=HTTPXAsyncTransport(url=url, headers=headers, timeout=TIMEOUT_SECONDS),
            execute_timeout=TIMEOUT_SECONDS,
        )
        self._session: Any = None
        self.requests = 0

    async def __aenter__(self) -> StatementSource:
        self._session = await self._client.connect_async()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._client.close_async()

    async def _run(self, request: GraphQLRequest, **variables: Any) -> dict[str, Any]:
        sent = GraphQLRequest(request.document, variable_values=variables or None)
        for attempt in range(THROTTLED_RETRIES + 1):
            self.requests += 1
            try:
                result: dict[str, Any] = await self._session.execute(sent)
                return result
            except TransportQueryError as error:
                wait = _throttled_for(error)
                if wait is None or attempt == THROTTLED_RETRIES:
                    raise
                # The caller's bucket of query-cost points is empty: wait until it holds
                # enough, as the gateway says.
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def partner(self, partner_id: str) -> PartnerRef | None:
        found = (await self._run(PARTNER, id=partner_id))["partner"]
        return None if found is None else _partner(found)

    async def partners(self) -> list[PartnerRef]:
        """Every partner in the caller's scope, in id order."""
        found: list[PartnerRef] = []
        async for node in self._walk(PARTNERS, lambda data: data["partners"]):
            found.append(_partner(node))
        return found

    async def merchants(self, partner: PartnerRef) -> list[MerchantRef]:
        found: list[MerchantRef] = []
        pages = self._walk(MERCHANTS, lambda data: data["partner"]["merchants"], id=partner.id)
        async for node in pages:
            found.append(MerchantRef(node["id"], node["databaseId"], node["name"]))
        return found

    async def _walk(
        self, request: GraphQLRequest, connection: Any, after: str | None = None, **variables: Any
    ) -> Any:
        """The nodes of every page of a connection, from the one after `after`."""
        while True:
            page = connection(await self._run(request, after=after, **variables))
            for node in page["nodes"]:
                yield node
            if not page["pageInfo"]["hasNextPage"]:
                return
            after = page["pageInfo"]["endCursor"]

    async def lines(
        self, merchants: Sequence[MerchantRef], month: Month
    ) -> AsyncIterator[list[StatementLine]]:
        """The month's payments of every merchant, a few rounds of pages at a time. Each
        merchant's month is cut into `SLICES` windows of creation time, each its own
        chain of pages, so even a partner with few merchants fills its rounds, and
        `IN_FLIGHT` rounds run at once (the client reads one answer while the gateway
        computes the next)."""
        chains = [
            (merchant, window) for merchant in merchants for window in month_windows(month, SLICES)
        ]
        open_chains: dict[int, str | None] = dict.fromkeys(range(len(chains)))
        while open_chains:
            pending = list(open_chains.items())
            batches = [
                pending[start : start + CHAINS_PER_REQUEST]
                for start in range(0, len(pending), CHAINS_PER_REQUEST)
            ][:IN_FLIGHT]
            answers = await asyncio.gather(
                *(
                    self._run(_round(len(batch)), **_round_variables(chains, batch))
                    for batch in batches
                )
            )
            lines: list[StatementLine] = []
            for batch, data in zip(batches, answers, strict=True):
                for slot, (index, _) in enumerate(batch):
                    page = data[f"m{slot}"]["payments"]
                    merchant = chains[index][0]
                    lines += [await self._line(merchant, node) for node in page["nodes"]]
                    if page["pageInfo"]["hasNextPage"]:
                        open_chains[index] = page["pageInfo"]["endCursor"]
                    else:
                        del open_chains[index]
            yield lines

    async def _line(self, merchant: MerchantRef, node: dict[str, Any]) -> StatementLine:
        details = node["details"]
        rows = [_detail(row) for row in details["nodes"]]
        if details["pageInfo"]["hasNextPage"]:  # rare: more rows than one page
            more = self._walk(
                MORE_DETAILS,
                lambda data: data["payment"]["details"],
                details["pageInfo"]["endCursor"],
                id=node["databaseId"],
            )
            rows += [_detail(row) async for row in more]
        return StatementLine(
            payment_id=node["databaseId"],
            merchant_id=merchant.database_id,
            merchant_name=merchant.name,
            reference=node["reference"],
            status=node["status"],
            created_at=node["createdAt"],
            currency=node["currency"],
            amount=int(node["amount"]["amount"]),
            paid_amount=_amount(node["paidAmount"]),
            settleable_amount=_amount(node["settleableAmount"]),
            details=tuple(rows),
        )

    async def gateway_groups(self, partner: PartnerRef, month: Month) -> list[Group]:
        """The gateway's own GROUP BY of the same payments, by merchant and currency."""
        filter = {**month_filter(month), "merchant": {"partner": {"id": {"eq": partner.id}}}}
        rows: list[MeasuredRow] = []
        offset = 0
        while True:
            data = await self._run(GATEWAY_AGGREGATE, filter=filter, offset=offset)
            page = data["payments"]["groupBy"]
            for group in page["nodes"]:
                merchant = group["keys"]["merchant"]
                merchant_id = None if merchant is None else merchant["databaseId"]
                rows += [_measured(merchant_id, sums) for sums in group["sum"]]
            if not page["hasNextPage"]:
                return groups_of(BY_MERCHANT_AND_CURRENCY, rows)
            offset += len(page["nodes"])


MORE_DETAILS = GraphQLRequest(
    "query Details($id: ID!, $after: String) { payment(id: $id) { "
    f"details(first: 200, after: $after) {{ {_DETAILS} }} }} }}"
)


def month_filter(month: Month) -> dict[str, Any]:
    """The statement's payments: a partner's acquiring payments created in the month."""
    return window_filter((month.first_moment, month.last_moment))


def window_filter(window: tuple[datetime, datetime]) -> dict[str, Any]:
    return {
        "kind": {"eq": PaymentKind.ACQUIRING.name},
        "createdAt": {"gte": window[0].isoformat(), "lte": window[1].isoformat()},
    }


def _round_variables(
    chains: Sequence[tuple[MerchantRef, tuple[datetime, datetime]]],
    batch: Sequence[tuple[int, str | None]],
) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    for slot, (index, after) in enumerate(batch):
        merchant, window = chains[index]
        variables[f"m{slot}"] = merchant.id
        variables[f"f{slot}"] = window_filter(window)
        variables[f"a{slot}"] = after
    return variables


_ROUNDS: dict[int, GraphQLRequest] = {}


def _round(size: int) -> GraphQLRequest:
    """The query for the next page of `size` merchants at once (cached per size)."""
    if size not in _ROUNDS:
        parameters = ", ".join(
            f"$m{i}: ID!, $f{i}: PaymentFilter!, $a{i}: String" for i in range(size)
        )
        aliases = " ".join(
            f"m{i}: node(id: $m{i}) {{ ... on Merchant {{ payments(filter: $f{i}, "
            f"first: {PAGE}, after: $a{i}) {{ ...Lines }} }} }}"
            for i in range(size)
        )
        _ROUNDS[size] = GraphQLRequest(
            f"query Round({parameters}) {{ {aliases} }} "
            f"fragment Lines on PaymentConnection {{ {_PAGE_INFO} nodes {{ {_LINE} }} }}"
        )
    return _ROUNDS[size]


def _throttled_for(error: TransportQueryError) -> float | None:
    """The seconds to wait when the gateway answered THROTTLED, else None."""
    for found in error.errors or ():
        extensions = found.get("extensions") or {}
        if extensions.get("code") == "THROTTLED":
            return float(extensions.get("retryAfter") or 1.0)
    return None


def _partner(node: dict[str, Any]) -> PartnerRef:
    return PartnerRef(node["id"], node["databaseId"], node["name"])


def _detail(node: dict[str, Any]) -> DetailRow:
    money = node["amount"]
    return DetailRow(node["carrier"], int(money["amount"]), money["currency"])


def _amount(money: dict[str, Any] | None) -> int | None:
    return None if money is None else int(money["amount"])


def _measured(merchant_id: int | None, sums: dict[str, Any]) -> MeasuredRow:
    fields = {
        "amount": _sum_only(sums["amount"]),
        "paid_amount": _sum_only(sums["paidAmount"]),
        "settleable_amount": _sum_only(sums["settleableAmount"]),
    }
    return MeasuredRow((merchant_id, sums["currency"]), sums["currency"], sums["count"], fields)


def _sum_only(money: dict[str, Any] | None) -> FieldMeasures:
    # Reconciliation compares counts and sums; the gateway's minima and maxima are not read.
    return FieldMeasures() if money is None else FieldMeasures(1, int(money["amount"]))
