"""Trusted documents over real HTTP, on SQLite and PostgreSQL: a manifest loaded at
start-up, documents named by `documentId` (POST and GET) or Apollo's persistedQuery
extension, the refusals' codes, the trusted-only mode, and the operation name the
context carries for metrics."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from strawberry.extensions import SchemaExtension

from tests.backends import BACKENDS
from tests.e2e.demo_site import DemoSite, demo_site
from tests.e2e.server import TLS
from tests.graphql import global_id

GRAPHQL_RESPONSE = "application/graphql-response+json"
PAYMENTS = "query Payments($first: Int!) { payments(first: $first) { totalCount } }"
VIEWER = "{ viewer { credential } }"
TWO = "query Credential { viewer { credential } }\nquery Tenant { viewer { tenant { id } } }"
DELETE = "mutation DeletePayment($id: ID!) { deletePayment(id: $id) { payment { status } } }"
UNTRUSTED = "query Untrusted { viewer { credential } }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def document_id(text: str) -> str:
    return f"sha256:{sha256(text)}"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dashboard's manifest in Apollo's shape (the plain map is read too: unit tests)."""
    path = tmp_path_factory.mktemp("manifest") / "persisted-query-manifest.json"
    operations = [
        {"id": sha256(text), "body": text, "name": "", "type": "query"}
        for text in (PAYMENTS, VIEWER, TWO, DELETE)
    ]
    manifest = {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
    path.write_text(json.dumps(manifest))
    return path


class Seen(SchemaExtension):
    """What a metrics extension reads: the trusted operation's name on the context."""

    names: list[str | None] = []

    def on_operation(self) -> Iterator[None]:
        Seen.names.append(self.execution_context.context.trusted_operation)
        yield


@pytest.fixture(scope="module", params=BACKENDS)
async def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, manifest: Path
) -> AsyncIterator[DemoSite]:
    storage = tmp_path_factory.mktemp("trusted")
    async with demo_site(request.param, storage, trusted_documents=str(manifest)) as running:
        route = next(route for route in running.app.routes if route.path == "/graphql")
        graphql = route.app.app.app  # RequestGuard > EdgeHeaders > PayGraphGraphQL
        graphql.schema.extensions = (*graphql.schema.extensions, Seen)
        yield running


@pytest.fixture(scope="module", params=BACKENDS)
async def only(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, manifest: Path
) -> AsyncIterator[DemoSite]:
    storage = tmp_path_factory.mktemp("trusted-only")
    async with demo_site(
        request.param, storage, trusted_documents=str(manifest), trusted_documents_only=True
    ) as running:
        yield running


async def send(
    site: DemoSite,
    body: dict[str, Any] | None = None,
    *,
    params: dict[str, str] | None = None,
    accept: str = "application/json",
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {site.token()}", "Accept": accept}
    async with httpx.AsyncClient(verify=TLS, timeout=60) as client:
        if params is not None:
            return await client.get(f"{site.url}/graphql", headers=headers, params=params)
        return await client.post(f"{site.url}/graphql", headers=headers, json=body)


def refused_with(answer: httpx.Response, code: str) -> dict[str, Any]:
    assert answer.status_code == 400, answer.text
    errors = answer.json()["errors"]
    assert [error["extensions"]["code"] for error in errors] == [code], errors
    return errors[0]  # type: ignore[no-any-return]


async def payment_count(site: DemoSite) -> int:
    return int(
        await site.scalar("SELECT count(*) FROM payment WHERE tenant_id = :t", t=site.tenant_id)
    )


# --- naming a trusted document -------------------------------------------------------------


async def test_a_document_id_runs_the_trusted_document(site: DemoSite) -> None:
    body = {"documentId": document_id(PAYMENTS), "variables": {"first": 1}}

    answer = await send(site, body)

    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["payments"]["totalCount"] == await payment_count(site)


async def test_the_bare_hash_and_apollos_extension_name_it_too(site: DemoSite) -> None:
    by_hash = await send(site, {"documentId": sha256(VIEWER)})
    apollo = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(VIEWER)}}}
    by_extension = await send(site, apollo)

    for answer in (by_hash, by_extension):
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"] == {"viewer": {"credential": "JWT"}}


async def test_a_document_id_key_written_with_an_escape_is_read(
    site: DemoSite,
) -> None:
    body = '{"\\u0064ocumentId": "' + document_id(VIEWER) + '"}'  # JSON's escape of "d"
    headers = {"Authorization": f"Bearer {site.token()}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(verify=TLS, timeout=60) as client:
        answer = await client.post(f"{site.url}/graphql", headers=headers, content=body)

    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == {"viewer": {"credential": "JWT"}}


async def test_a_trusted_query_may_come_by_get(site: DemoSite) -> None:
    params = {"documentId": document_id(PAYMENTS), "variables": '{"first": 1}'}

    answer = await send(site, params=params, accept="*/*")

    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["payments"]["totalCount"] == await payment_count(site)


async def test_a_trusted_mutation_by_get_is_405_and_deletes_nothing(site: DemoSite) -> None:
    row = await site.scalar(
        "SELECT min(id) FROM payment WHERE tenant_id = :t AND kind = 'invoice' "
        "AND status <> 'deleted'",
        t=site.tenant_id,
    )
    before = await site.counts()
    variables = json.dumps({"id": global_id("Payment", row)})

    answer = await send(site, params={"documentId": document_id(DELETE), "variables": variables})

    assert answer.status_code == 405
    assert answer.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert await site.counts() == before


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["application/json", GRAPHQL_RESPONSE])
async def test_an_unknown_id_is_persisted_query_not_found(site: DemoSite, accept: str) -> None:
    unknown = document_id(UNTRUSTED)
    for body in (
        {"documentId": unknown},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(UNTRUSTED)}}},
        {"documentId": "x-relay:42"},
    ):
        answer = await send(site, body, accept=accept)

        error = refused_with(answer, "PERSISTED_QUERY_NOT_FOUND")
        assert ("data" in answer.json()) == (accept == "application/json")
        assert error["extensions"]["requestId"] == answer.headers["x-request-id"]


async def test_a_query_whose_hash_is_not_the_one_sent_is_refused(site: DemoSite) -> None:
    before = await site.counts()
    for body in (
        {"query": UNTRUSTED, "documentId": document_id(PAYMENTS)},
        {
            "query": DELETE,
            "variables": {"id": "1"},
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(VIEWER)}},
        },
    ):
        refused_with(await send(site, body), "DOCUMENT_HASH_MISMATCH")
    assert await site.counts() == before


@pytest.mark.parametrize(
    "body",
    [
        {"documentId": 42},
        {"documentId": ""},
        {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": sha256(VIEWER)}}},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ABC"}}},
        {"documentId": document_id(VIEWER), "extensions": {"persistedQuery": {"version": 1}}},
    ],
    ids=["number", "empty", "version-2", "not-hex", "both"],
)
async def test_a_malformed_id_is_a_bad_request(site: DemoSite, body: dict[str, Any]) -> None:
    refused_with(await send(site, body), "BAD_REQUEST")


async def test_without_the_only_mode_a_query_sent_as_text_still_runs(site: DemoSite) -> None:
    answer = await send(site, {"query": UNTRUSTED})

    assert answer.json()["data"] == {"viewer": {"credential": "JWT"}}


# --- the operation name, for metrics --------------------------------------------------------


async def test_the_context_carries_the_trusted_operations_name(site: DemoSite) -> None:
    Seen.names.clear()

    await send(site, {"documentId": document_id(PAYMENTS), "variables": {"first": 1}})
    await send(site, {"documentId": document_id(TWO), "operationName": "Tenant"})
    await send(site, {"query": TWO, "operationName": "Credential"})  # its text, to the byte
    await send(site, {"documentId": document_id(VIEWER)})  # anonymous
    await send(site, {"query": UNTRUSTED})

    assert Seen.names == ["Payments", "Tenant", "Credential", None, None]


# --- only trusted documents -----------------------------------------------------------------


async def test_in_the_only_mode_a_text_that_is_not_trusted_is_refused(only: DemoSite) -> None:
    before = await only.counts()
    for body in (
        {"query": UNTRUSTED},
        {"query": PAYMENTS + " ", "variables": {"first": 1}},  # one byte off
        {"query": DELETE.replace("DeletePayment", "Other"), "variables": {"id": "1"}},
    ):
        for accept in ("application/json", GRAPHQL_RESPONSE):
            refused_with(await send(only, body, accept=accept), "DOCUMENT_NOT_TRUSTED")
    apq_retry = {
        "query": UNTRUSTED,
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(UNTRUSTED)}},
    }
    refused_with(await send(only, apq_retry), "DOCUMENT_NOT_TRUSTED")
    refused_with(await send(only, params={"query": UNTRUSTED}), "DOCUMENT_NOT_TRUSTED")
    assert await only.counts() == before


async def test_in_the_only_mode_trusted_documents_run(only: DemoSite) -> None:
    by_id = await send(only, {"documentId": document_id(PAYMENTS), "variables": {"first": 1}})
    by_text = await send(only, {"query": PAYMENTS, "variables": {"first": 1}})

    for answer in (by_id, by_text):
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["payments"]["totalCount"] == await payment_count(only)


async def test_a_browser_get_naming_a_document_needs_a_token(site: DemoSite) -> None:
    params = {"documentId": document_id(VIEWER)}
    async with httpx.AsyncClient(verify=TLS, timeout=60) as client:
        page = await client.get(f"{site.url}/graphql", headers={"Accept": "text/html"})
        anonymous = await client.get(
            f"{site.url}/graphql", headers={"Accept": "text/html"}, params=params
        )

    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert anonymous.status_code == 401
    assert answer_codes(anonymous) == ["UNAUTHENTICATED"]
    browser = await send(site, params=params, accept="text/html,application/xhtml+xml,*/*;q=0.8")
    assert browser.json()["data"] == {"viewer": {"credential": "JWT"}}


def answer_codes(answer: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in answer.json()["errors"]]
