"""GraphQL over HTTP over real HTTP, on SQLite and PostgreSQL: both response media types
with their status codes, queries by GET, mutations never by GET (405, nothing written),
and Strawberry's own refusals answered with a code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.backends import BACKENDS
from tests.e2e.demo_site import DemoSite, demo_site
from tests.e2e.server import TLS
from tests.graphql import global_id

GRAPHQL_RESPONSE = "application/graphql-response+json"
PAYMENT = "query($id: ID!) { payment(id: $id) { id status } }"
# 200 payments with two pages of 200 events each: some 80,000 points, past the 50,000.
TOO_COSTLY = """{ payments(first: 200) { nodes {
  a: events(first: 200) { nodes { id } } b: events(first: 200) { nodes { id } } } } }"""
DELETE = "mutation($id: ID!) { deletePayment(id: $id) { payment { status } } }"


@pytest.fixture(scope="module", params=BACKENDS)
async def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DemoSite]:
    async with demo_site(request.param, tmp_path_factory.mktemp("over-http")) as running:
        yield running


async def send(
    site: DemoSite,
    method: str = "POST",
    *,
    accept: str | None = None,
    body: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {site.token()}"}
    if accept is not None:
        headers["Accept"] = accept
    async with httpx.AsyncClient(verify=TLS, timeout=60) as client:
        return await client.request(
            method, f"{site.url}/graphql", headers=headers, json=body, params=params
        )


async def invoice_payment(site: DemoSite) -> str:
    row_id = await site.scalar(
        "SELECT min(id) FROM payment WHERE tenant_id = :t AND kind = 'invoice' "
        "AND status <> 'deleted'",
        t=site.tenant_id,
    )
    assert row_id is not None
    return global_id("Payment", row_id)


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json()["errors"]]


# --- application/graphql-response+json ---------------------------------------------------


@pytest.mark.parametrize(
    ("document", "variables", "code"),
    [
        ("{ payments(first: 1) { totalCount }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("{ paymentz { totalCount } }", None, "GRAPHQL_VALIDATION_FAILED"),
        (PAYMENT, {"id": None}, "BAD_USER_INPUT"),
        (TOO_COSTLY, None, "QUERY_TOO_COSTLY"),
    ],
    ids=["parse", "validate", "variables", "cost"],
)
async def test_a_request_error_is_a_400_without_data(
    site: DemoSite, document: str, variables: dict[str, Any] | None, code: str
) -> None:
    body = {"query": document, "variables": variables}

    answer = await send(site, accept=GRAPHQL_RESPONSE, body=body)

    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert "data" not in answer.json()
    assert codes(answer) == [code]
    # application/json keeps its behaviour: 200, `data: null`, the same error.
    legacy = await send(site, accept="application/json", body=body)
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == "application/json"
    assert legacy.json()["data"] is None
    assert codes(legacy) == [code]


async def test_an_error_while_executing_is_a_200_with_data(site: DemoSite) -> None:
    missing = global_id("Payment", 987_654_321)
    body = {"query": PAYMENT, "variables": {"id": missing}}

    answer = await send(site, accept=GRAPHQL_RESPONSE, body=body)

    assert answer.status_code == 200
    assert answer.json()["data"] == {"payment": None}
    assert codes(answer) == ["NOT_FOUND"]


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        ("text/html", "application/json"),  # neither listed: JSON, as before
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),  # the spec's
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        (f"{GRAPHQL_RESPONSE};q=0", "application/json"),
    ],
)
async def test_the_accept_header_chooses_the_media_type(
    site: DemoSite, accept: str | None, media_type: str
) -> None:
    answer = await send(site, accept=accept, body={"query": "{ viewer { credential } }"})

    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] == media_type
    assert answer.json()["data"] == {"viewer": {"credential": "JWT"}}


# --- GET ------------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", [None, "application/json", GRAPHQL_RESPONSE, "text/html"])
async def test_a_query_may_come_by_get(site: DemoSite, accept: str | None) -> None:
    payment = await invoice_payment(site)
    params = {"query": PAYMENT, "variables": f'{{"id": "{payment}"}}'}

    answer = await send(site, "GET", accept=accept, params=params)

    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["payment"]["id"] == payment


@pytest.mark.parametrize("accept", ["application/json", GRAPHQL_RESPONSE])
async def test_a_mutation_by_get_is_405_and_writes_nothing(site: DemoSite, accept: str) -> None:
    payment = await invoice_payment(site)
    before = await site.counts()

    answer = await send(
        site, "GET", accept=accept, params={"query": DELETE, "variables": f'{{"id": "{payment}"}}'}
    )

    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    assert codes(answer) == ["METHOD_NOT_ALLOWED"]
    assert ("data" in answer.json()) == (accept == "application/json")
    assert answer.headers["x-request-id"]
    assert await site.counts() == before


# --- refusals before any GraphQL work, with a code ------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"notquery": "{ viewer { credential } }"},
        {"query": "{ viewer { credential } }", "operationName": 7},
        {"query": "{ viewer { credential } }", "variables": "x"},
    ],
    ids=["no-query", "operation-name-number", "variables-string"],
)
async def test_an_unusable_request_is_a_400_with_a_code(
    site: DemoSite, body: dict[str, Any]
) -> None:
    for accept in ("application/json", GRAPHQL_RESPONSE):
        answer = await send(site, accept=accept, body=body)

        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"].split(";")[0] == accept
        assert codes(answer) == ["BAD_REQUEST"]


async def test_the_edges_refusals_answer_in_the_accepted_media_type(site: DemoSite) -> None:
    url = f"{site.url}/graphql"
    async with httpx.AsyncClient(verify=TLS, timeout=60) as client:
        for accept in ("application/json", GRAPHQL_RESPONSE):
            anonymous = await client.post(url, headers={"Accept": accept}, json={"query": "{ a }"})
            batch = await client.post(
                url,
                headers={"Accept": accept, "Authorization": f"Bearer {site.token()}"},
                json=[{"query": "{ a }"}],
            )

            assert (anonymous.status_code, batch.status_code) == (401, 400)
            assert codes(anonymous) == ["UNAUTHENTICATED"]
            assert codes(batch) == ["BATCHING_NOT_SUPPORTED"]
            for answer in (anonymous, batch):
                assert answer.headers["content-type"].split(";")[0] == accept
                assert ("data" in answer.json()) == (accept == "application/json")
