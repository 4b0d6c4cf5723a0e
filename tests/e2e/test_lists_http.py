"""The source documents' list shapes over real HTTP: a running server, the gql client and
signed tokens; one scenario per document shape and the coded errors of bad arguments."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gql.transport.exceptions import TransportQueryError

from db import models as m
from domain.permissions import VIEW_PARTNER_PAYMENTS, VIEW_PAYMENTS
from gateway.auth import mint_token
from gateway.settings import Settings
from tests.e2e.server import TEST_JWT_SECRET, RunningServer, query, running_server
from tests.factories import Factory
from tests.integration.test_document_lists import acquiring, at, bulk_payments, commission, ids

SETTINGS = Settings(jwt_secret=TEST_JWT_SECRET)


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[RunningServer]:
    with running_server(database_url) as running:
        yield running


async def token(f: Factory, tenant_id: int, *permissions: str) -> str:
    """A token of a new user of the tenant (the gateway refuses users it does not know)."""
    viewer = await f.user(tenant_id)
    return mint_token(
        SETTINGS, tenant_id=tenant_id, user_id=viewer, permissions=permissions or [VIEW_PAYMENTS]
    )


async def test_document_000s_partner_payments_page_by_start_and_length_over_http(
    server: RunningServer, engine: Any
) -> None:
    # Given commissions of two partner users whose names differ only after a literal %
    f = Factory(engine)
    tenant = await f.tenant()
    half_off = await f.user(tenant, name="Ana 50% Off")
    plain = await f.user(tenant, name="Ana 500")
    oldest = await commission(f, tenant, user_id=half_off, created_at=at(0))
    middle = await commission(f, tenant, user_id=plain, created_at=at(1))
    newest = await commission(f, tenant, user_id=plain, created_at=at(2))
    await acquiring(f, tenant, created_at=at(3))
    document = """query($filter: PaymentFilter, $start: Int, $length: Int) {
      partnerPayments(filter: $filter, start: $start, length: $length) {
        data { databaseId kind } start length total } }"""
    caller = await token(f, tenant, VIEW_PARTNER_PAYMENTS)

    # When the document's list is read by offset, and by the users' name
    everything = await query(server, caller, document)
    second = await query(server, caller, document, start=1, length=1)
    named = await query(server, caller, document, filter={"user": {"name": {"contains": "50%"}}})

    # Then commissions come newest first, paged by offset, with `%` matched literally
    assert ids(everything["partnerPayments"]["data"]) == [newest, middle, oldest]
    assert second["partnerPayments"] == {
        "data": [{"databaseId": middle, "kind": "COMMISSION"}],
        "start": 1,
        "length": 1,
        "total": 3,
    }
    assert ids(named["partnerPayments"]["data"]) == [oldest]
    assert named["partnerPayments"]["total"] == 1


async def test_document_000s_payment_details_page_by_start_and_length_over_http(
    server: RunningServer, engine: Any
) -> None:
    f = Factory(engine)
    tenant = await f.tenant()
    payment = await commission(f, tenant)
    details = [
        await f.insert(
            m.PaymentDetail,
            tenant_id=tenant,
            payment_id=payment,
            carrier=carrier,
            amount=100,
            currency="USD",
        )
        for carrier in ("UPS", "DHL", "FEDEX", "DHL Express")
    ]
    document = """query($id: ID!) { payment(id: $id) {
      details(start: 1, length: 2, sortBy: "carrier", sortType: "asc") {
        nodes { databaseId carrier } totalCount meta { perPage totalPages } } } }"""

    data = await query(server, await token(f, tenant), document, id=str(payment))

    page = data["payment"]["details"]
    # DHL, DHL Express, FEDEX, UPS: the second and third
    assert ids(page["nodes"]) == [details[3], details[2]]
    assert page["totalCount"] == 4
    assert (page["meta"]["perPage"], page["meta"]["totalPages"]) == (2, 2)


async def test_document_001s_partner_portfolio_pages_from_zero_with_amounts_over_http(
    server: RunningServer, engine: Any
) -> None:
    f = Factory(engine)
    tenant = await f.tenant()
    partner = await f.partner(tenant)
    yen = await acquiring(
        f, tenant, partner_id=partner, amount=500, currency="JPY", paid_amount=500,
        created_at=at(0),
    )  # fmt: skip
    await acquiring(f, tenant, partner_id=partner, amount=1_999, created_at=at(1))
    await commission(f, tenant, partner_id=partner, created_at=at(2))
    amount = "inPaymentCurrency { amount amountPrecision currencyId } money { amount currency }"
    document = f"""query($id: ID!) {{ partner(id: $id) {{
      payments(page: 1, pageSize: 1, fromDate: "2025-03-01T12:00:00Z") {{
        data {{ databaseId amounts {{ requested {{ {amount} }} paid {{ {amount} }} settleable {{
          {amount} }} }} }}
        total page pageSize }} }} }}"""

    data = await query(server, await token(f, tenant), document, id=str(partner))

    assert data["partner"]["payments"] == {
        "data": [
            {
                "databaseId": yen,
                "amounts": {
                    "requested": {
                        "inPaymentCurrency": {
                            "amount": "500",
                            "amountPrecision": 0,
                            "currencyId": 392,
                        },
                        "money": {"amount": "500", "currency": "JPY"},
                    },
                    "paid": {
                        "inPaymentCurrency": {
                            "amount": "500",
                            "amountPrecision": 0,
                            "currencyId": 392,
                        },
                        "money": {"amount": "500", "currency": "JPY"},
                    },
                    "settleable": None,
                },
            }
        ],
        "total": 2,
        "page": 1,
        "pageSize": 1,
    }


async def test_document_003s_payments_page_by_page_and_per_page_over_http(
    server: RunningServer, engine: Any
) -> None:
    f = Factory(engine)
    tenant = await f.tenant()
    currencies = ["USD", "EUR", "USD", "EUR", "USD"]
    payments = await bulk_payments(
        f, tenant, [{"currency": code, "created_at": at(i)} for i, code in enumerate(currencies)]
    )
    document = """query($filter: PaymentFilter) {
      payments(page: 2, perPage: 2, filter: $filter) {
        nodes { databaseId } meta { currentPage perPage totalPages totalCount } } }"""

    data = await query(server, await token(f, tenant), document)
    dollars = await query(
        server, await token(f, tenant), document, filter={"currency": {"in": ["usd", "JPY"]}}
    )

    assert ids(data["payments"]["nodes"]) == payments[2:4]
    assert data["payments"]["meta"] == {
        "currentPage": 2,
        "perPage": 2,
        "totalPages": 3,
        "totalCount": 5,
    }
    assert ids(dollars["payments"]["nodes"]) == [payments[4]]
    assert dollars["payments"]["meta"]["totalCount"] == 3


@pytest.mark.parametrize(
    ("document", "variables", "code", "field"),
    [
        (
            "{ payments(page: 1, perPage: 201) { totalCount } }",
            {},
            "PAGE_SIZE_TOO_LARGE",
            "perPage",
        ),
        ('{ partnerPayments(sortBy: "nope") { total } }', {}, "BAD_USER_INPUT", "sortBy"),
        (
            "{ payments(filter: {status: {in: []}}) { totalCount } }",
            {},
            "BAD_USER_INPUT",
            "filter.status.in",
        ),
        (
            'query($id: ID!) { partner(id: $id) { payments(fromDate: "2025-03-02T00:00:00Z", '
            'toDate: "2025-03-01T00:00:00Z") { total } } }',
            {"id": "PARTNER"},
            "INVALID_DATE_RANGE",
            "fromDate",
        ),
        (
            "query($id: ID!) { partner(id: $id) { payments { total } } }",
            {"id": "999999999"},
            "PARTNER_NOT_FOUND",
            "id",
        ),
        (
            "query($d: Date) { payments(filter: {paymentDate: {gte: $d}}) { totalCount } }",
            {"d": "2025-13-01"},
            "BAD_USER_INPUT",
            None,
        ),
    ],
)
async def test_bad_list_arguments_carry_their_code_and_field_over_http(
    server: RunningServer,
    engine: Any,
    document: str,
    variables: dict[str, Any],
    code: str,
    field: str | None,
) -> None:
    f = Factory(engine)
    tenant = await f.tenant()
    partner = await f.partner(tenant)
    variables = {k: str(partner) if v == "PARTNER" else v for k, v in variables.items()}

    with pytest.raises(TransportQueryError) as raised:
        await query(
            server,
            await token(f, tenant, VIEW_PARTNER_PAYMENTS, VIEW_PAYMENTS),
            document,
            **variables,
        )

    [error] = raised.value.errors or []
    assert error["extensions"]["code"] == code
    if field is not None:
        assert error["extensions"]["field"] == field
    assert raised.value.data in (None, {"partner": None})
