"""Issue 17's bad inputs over real HTTP, on SQLite and PostgreSQL: each once answered
500 or was silently accepted; each now gets its documented code (README "Errors") and
leaves every table as it was.

The server is the app from `create_app` on a small demo database of its own, so the
mutations' targets are real payments and invoices in the states their workflows take.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.backends import BACKENDS
from tests.e2e.demo_site import DemoSite, demo_site
from tests.e2e.server import TLS
from tests.graphql import global_id

PAYMENTS = """query($f: PaymentFilter) { payments(filter: $f, first: 1) { nodes { id } } }"""
CREATE = """mutation($input: CreatePaymentInput!, $key: String!) {
  createPayment(input: $input, idempotencyKey: $key) { payment { id } } }"""
UPDATE = """mutation($id: ID!, $input: UpdatePaymentInput!) {
  updatePayment(id: $id, input: $input) { payment { id } } }"""
MARK_AS_PAID = """mutation($id: ID!, $at: DateTime!, $key: String!) {
  markPartnerPaymentAsPaid(id: $id, paidAt: $at, idempotencyKey: $key) { payment { id } } }"""
REVIEW = """mutation($id: ID!, $comments: String!) {
  sendPaymentToInternalReview(id: $id, comments: $comments) { payment { id } } }"""


@pytest.fixture(scope="module", params=BACKENDS)
async def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DemoSite]:
    async with demo_site(request.param, tmp_path_factory.mktemp("bad-input")) as running:
        yield running


async def target(site: DemoSite, kind: str, *statuses: str) -> str:
    """The global ID of a payment of the site's tenant of this kind, in one of these
    statuses."""
    marks = ", ".join(f"'{status}'" for status in statuses)
    row_id = await site.scalar(
        f"SELECT min(id) FROM payment WHERE tenant_id = :t AND kind = :k AND status IN ({marks})",
        t=site.tenant_id,
        k=kind,
    )
    assert row_id is not None, (kind, statuses)
    return global_id("Payment", row_id)


async def open_invoice(site: DemoSite) -> str:
    row_id = await site.scalar(
        "SELECT min(id) FROM invoice WHERE tenant_id = :t AND status IN ('open', 'partially_paid')",
        t=site.tenant_id,
    )
    assert row_id is not None
    return global_id("Invoice", row_id)


async def refused(
    site: DemoSite, body: dict[str, Any] | str, code: str, field: str | None = None
) -> dict[str, Any]:
    """Send `body` (a JSON object, or raw JSON text for what `json` cannot write) and
    check it gets `code` (and `field`) with nothing written; returns the error."""
    before = await site.counts()
    async with httpx.AsyncClient(verify=TLS, timeout=60) as client:
        response = await client.post(
            f"{site.url}/graphql",
            content=body if isinstance(body, str) else json.dumps(body),
            headers={
                "Authorization": f"Bearer {site.token()}",
                "Content-Type": "application/json",
            },
        )
    assert response.status_code < 500, response.text
    errors = response.json()["errors"]
    assert [error["extensions"]["code"] for error in errors] == [code], errors
    if field is not None:
        assert errors[0]["extensions"]["field"] == field, errors
    assert await site.counts() == before
    return errors[0]  # type: ignore[no-any-return]


def payments_filtered_by(literal: str) -> dict[str, Any]:
    return {"query": f"{{ payments(filter: {literal}, first: 1) {{ nodes {{ id }} }} }}"}


# --- NUL and lone surrogates ------------------------------------------------------------


async def test_a_nul_in_a_contains_filter_is_bad_user_input(site: DemoSite) -> None:
    literal = payments_filtered_by('{reference: {contains: "a\\u0000b"}}')
    await refused(site, literal, "BAD_USER_INPUT", "filter.reference.contains")

    variable = {"query": PAYMENTS, "variables": {"f": {"reference": {"contains": "a\x00b"}}}}
    await refused(site, variable, "BAD_USER_INPUT", "f.reference.contains")

    nested = {"query": PAYMENTS, "variables": {"f": {"or": [{"user": {"name": {"eq": "\x00"}}}]}}}
    await refused(site, nested, "BAD_USER_INPUT", "f.or.0.user.name.eq")


async def test_a_nul_in_a_mutations_reference_or_comments_is_bad_user_input(
    site: DemoSite,
) -> None:
    invoice = await open_invoice(site)
    create = {
        "query": CREATE,
        "variables": {
            "input": {"invoiceId": invoice, "amount": "100", "reference": "INV\x00-1"},
            "key": "nul-reference",
        },
    }
    await refused(site, create, "BAD_USER_INPUT", "input.reference")

    literal = {
        "query": f"""mutation {{ createPayment(idempotencyKey: "nul-literal", input: {{
          invoiceId: "{invoice}", amount: "100", reference: "INV\\u0000-1"}}) {{
          payment {{ id }} }} }}"""
    }
    await refused(site, literal, "BAD_USER_INPUT", "input.reference")

    review = await target(site, "commission", "approved_for_payment", "payment_rejected")
    comments = {"query": REVIEW, "variables": {"id": review, "comments": "check\x00this"}}
    await refused(site, comments, "BAD_USER_INPUT", "comments")


async def test_a_lone_surrogate_is_refused_wherever_it_is_sent(site: DemoSite) -> None:
    # json.dumps would escape it the same way; written by hand to be sure of the bytes.
    query = json.dumps(PAYMENTS)
    in_variable = (
        f'{{"query": {query}, "variables": {{"f": {{"reference": {{"eq": "\\ud800"}}}}}}}}'
    )
    await refused(site, in_variable, "BAD_USER_INPUT", "f.reference.eq")

    # an enum's value and an input object's key were echoed in the error: a bare 500
    status = json.dumps(
        "query($s: PaymentStatus) { payments(filter: {status: {eq: $s}}) { totalCount } }"
    )
    await refused(
        site, f'{{"query": {status}, "variables": {{"s": "\\udfff"}}}}', "BAD_USER_INPUT", "s"
    )
    in_key = f'{{"query": {query}, "variables": {{"f": {{"\\ud800": 1}}}}}}'
    await refused(site, in_key, "BAD_USER_INPUT", "f")
    named = f'{{"query": {query}, "operationName": "\\ud800"}}'
    await refused(site, named, "BAD_USER_INPUT", "operationName")

    # In the document itself, graphql-core's lexer refuses it: the document does not parse.
    escaped = payments_filtered_by('{reference: {eq: "\\ud800"}}')
    error = await refused(site, escaped, "GRAPHQL_VALIDATION_FAILED")
    assert "Invalid Unicode escape sequence" in error["message"]
    raw = json.dumps(payments_filtered_by('{reference: {eq: "@"}}')).replace("@", "\\ud800")
    await refused(site, raw, "GRAPHQL_VALIDATION_FAILED")


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00"])
async def test_a_created_at_bound_whose_offset_would_overflow_is_bad_user_input(
    site: DemoSite, moment: str
) -> None:
    literal = payments_filtered_by(f'{{createdAt: {{gte: "{moment}"}}}}')
    error = await refused(site, literal, "BAD_USER_INPUT", "filter.createdAt.gte")
    assert "between 1970-01-01 and 9000-12-31" in error["message"]
    variable = {"query": PAYMENTS, "variables": {"f": {"createdAt": {"lte": moment}}}}
    await refused(site, variable, "BAD_USER_INPUT", "f.createdAt.lte")


async def test_paid_at_before_2000_or_in_the_future_is_refused(site: DemoSite) -> None:
    payment = await target(site, "commission", "approved_for_payment", "under_review")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    cases = {
        "0001-01-01T00:00:00Z": "between 1970-01-01 and 9000-12-31",  # the scalar's range
        "1999-12-31T23:59:59Z": "must not be before 2000-01-01",  # the payment dates'
        "2000-01-01T00:30:00+01:00": "must not be before 2000-01-01",  # 1999 in UTC
        tomorrow: "must not be in the future",
    }
    for moment, reason in cases.items():
        body = {"query": MARK_AS_PAID, "variables": {"id": payment, "at": moment, "key": moment}}
        error = await refused(site, body, "BAD_USER_INPUT", "at" if "1970" in reason else "paidAt")
        assert reason in error["message"]


async def test_payment_date_before_2000_is_refused_on_create_and_update(site: DemoSite) -> None:
    invoice = await open_invoice(site)
    payment = await target(site, "invoice", "recorded")

    def create(on: str) -> dict[str, Any]:
        data = {"invoiceId": invoice, "amount": "100", "paymentDate": on}
        return {"query": CREATE, "variables": {"input": data, "key": f"date-{on}"}}

    def update(on: str) -> dict[str, Any]:
        return {"query": UPDATE, "variables": {"id": payment, "input": {"paymentDate": on}}}

    for body in (create("0001-01-01"), update("0001-01-01")):
        await refused(site, body, "BAD_USER_INPUT", "input.paymentDate")
    for body in (create("1999-12-31"), update("1999-12-31")):
        error = await refused(site, body, "VALIDATION_FAILED", "input.paymentDate")
        assert error["extensions"]["errors"]["input.paymentDate"] == [
            "must not be before 2000-01-01"
        ]


# --- lists ----------------------------------------------------------------------------------


async def test_a_filter_past_the_total_values_budget_is_bad_user_input(site: DemoSite) -> None:
    # 70 x 500 values: a 134 KB body within the limits, past PostgreSQL's 32,767 parameters
    wide = {"or": [{"amount": {"in": list(range(1, 501))}} for _ in range(70)]}
    error = await refused(site, {"query": PAYMENTS, "variables": {"f": wide}}, "BAD_USER_INPUT")
    assert error["extensions"]["field"] == "filter.or[4].amount.in"
    assert "at most 2000 values in all" in error["message"]

    # exactly the budget still runs (on both backends)
    four = {"or": [{"amount": {"in": list(range(1, 501))}} for _ in range(4)]}
    response = await site.post({"query": PAYMENTS, "variables": {"f": four}})
    assert "errors" not in response.json(), response.text


# --- amounts and keys -------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [" 12", "12 ", "+12", "١٢", "\uff11\uff12", "12.0", "1e3"])
async def test_an_amount_not_written_in_ascii_digits_is_bad_user_input(
    site: DemoSite, amount: str
) -> None:
    variable = {"query": PAYMENTS, "variables": {"f": {"amount": {"eq": amount}}}}
    await refused(site, variable, "BAD_USER_INPUT", "f.amount.eq")
    literal = payments_filtered_by(f"{{amount: {{in: [{json.dumps(amount)}]}}}}")
    await refused(site, literal, "BAD_USER_INPUT", "filter.amount.in.0")

    invoice = await open_invoice(site)
    create = {
        "query": CREATE,
        "variables": {"input": {"invoiceId": invoice, "amount": amount}, "key": f"a{amount}"},
    }
    await refused(site, create, "BAD_USER_INPUT", "input.amount")


@pytest.mark.parametrize("number", [12.0, 1e3, 1.5])
async def test_a_json_number_that_is_not_an_integer_is_no_amount(
    site: DemoSite, number: float
) -> None:
    body = {"query": PAYMENTS, "variables": {"f": {"amount": {"eq": number}}}}
    await refused(site, body, "BAD_USER_INPUT", "f.amount.eq")


async def test_an_idempotency_key_is_taken_exactly_as_written(site: DemoSite) -> None:
    invoice = await open_invoice(site)

    def create(key: str) -> dict[str, Any]:
        data = {"invoiceId": invoice, "amount": "1", "reference": "exact-key"}
        return {"query": CREATE, "variables": {"input": data, "key": key}}

    for key in ("abc ", " abc", "\tabc", "abc\n", "a\x07c", "k" * 256, ""):
        await refused(site, create(key), "BAD_USER_INPUT", "idempotencyKey")

    # "abc" itself is a fine key, and afterwards "abc " is still refused, not replayed
    response = await site.post(create("abc"))
    assert "errors" not in response.json(), response.text
    await refused(site, create("abc "), "BAD_USER_INPUT", "idempotencyKey")


async def test_an_upload_argument_takes_only_a_multipart_file(site: DemoSite) -> None:
    # Upload's own parser passed any JSON value on to the resolver: a 500 (found by
    # test_bad_input_properties)
    payment = await target(site, "commission", "payment_requested", "documents_rejected")

    def upload(file: str, header: str = "") -> str:
        return (
            f'mutation{header} {{ addPaymentDocument(paymentId: "{payment}", '
            f'documentType: "invoice", file: {file}) {{ payment {{ id }} }} }}'
        )

    for value in (12.0, "%PDF-1.7", {"file": "x"}):
        body = {"query": upload("$file", "($file: Upload!)"), "variables": {"file": value}}
        await refused(site, body, "BAD_USER_INPUT", "file")
    await refused(site, {"query": upload('"%PDF-1.7"')}, "BAD_USER_INPUT", "file")
