"""Request limits and production hardening over real HTTP.

A production server started with small limits refuses, each with its own code and before
anything executes: operations too deep (also when a fragment hides the depth), with too
many aliases (also through a fragment spread twice), with too many tokens, bodies too
large (also chunked, without Content-Length) and JSON-array batches. Introspection is off,
validation errors give no "Did you mean" hints, GraphiQL is not served and CORS answers
the configured origin only. A development server with the defaults, for contrast,
suggests field names and answers introspection. Last, a short document whose fragments
multiply its paths must still be measured in moments, not block the server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from domain.permissions import ALL_PERMISSIONS
from gateway.auth import mint_token
from gateway.settings import Settings
from tests.e2e.server import TEST_JWT_SECRET, TLS, RunningServer, running_server
from tests.factories import Factory, dashboard_graph, tenant_and_user

MAX_DEPTH = 4
MAX_ALIASES = 3
MAX_TOKENS = 60
MAX_BODY_BYTES = 2048
DASHBOARD_ORIGIN = "https://dashboard.example"
OTHER_ORIGIN = "https://evil.example"

PRODUCTION_ENV = {
    "PAYGRAPH_ENV": "production",
    "PAYGRAPH_JWT_SECRET": TEST_JWT_SECRET,
    "PAYGRAPH_PAYOUT_URL": "https://payouts.example.test",
    "PAYGRAPH_CORS_ORIGINS": DASHBOARD_ORIGIN,
    "PAYGRAPH_MAX_DEPTH": str(MAX_DEPTH),
    "PAYGRAPH_MAX_ALIASES": str(MAX_ALIASES),
    "PAYGRAPH_MAX_TOKENS": str(MAX_TOKENS),
    "PAYGRAPH_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
}

MISSPELLED = [
    pytest.param("{ paymnts { totalCount } }", "'paymnts'", id="field"),
    pytest.param("{ payments(frist: 1) { totalCount } }", "'frist'", id="argument"),
    pytest.param('{ node(id: "x") { ... on Paymnt { id } } }', "'Paymnt'", id="type-condition"),
]


@pytest.fixture(scope="module")
def production(database_url: str) -> Iterator[RunningServer]:
    with running_server(database_url, env=PRODUCTION_ENV) as running:
        yield running


@pytest.fixture(scope="module")
def development(database_url: str) -> Iterator[RunningServer]:
    with running_server(database_url) as running:
        yield running


@dataclass
class Caller:
    tenant_id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module")
async def caller(engine: Any) -> Caller:
    graph = await dashboard_graph(Factory(engine), payments=2)
    token = mint_token(
        Settings(jwt_secret=TEST_JWT_SECRET),
        tenant_id=graph.tenant_id,
        user_id=graph.admin_id,
        permissions=ALL_PERMISSIONS,
    )
    return Caller(graph.tenant_id, token)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(verify=TLS, timeout=10) as client:
        yield client


async def graphql(
    client: httpx.AsyncClient, server: RunningServer, caller: Caller, document: str
) -> httpx.Response:
    return await client.post(server.graphql_url, json={"query": document}, headers=caller.headers)


def refused_with(response: httpx.Response, code: str) -> dict[str, Any]:
    """The first error of a refused operation; every error carries `code` and nothing
    was executed."""
    body: dict[str, Any] = response.json()
    assert body.get("data") is None, body
    assert body["errors"], body
    assert {error["extensions"]["code"] for error in body["errors"]} == {code}, body
    error: dict[str, Any] = body["errors"][0]
    return error


def answered(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


# --- depth ------------------------------------------------------------------------------

AT_MAX_DEPTH = "{ payments { nodes { partner { id } } } }"
OVER_MAX_DEPTH = "{ payments { nodes { partner { parent { id } } } } }"


async def test_an_operation_at_the_depth_limit_runs(
    client: httpx.AsyncClient, production: RunningServer, caller: Caller
) -> None:
    data = answered(await graphql(client, production, caller, AT_MAX_DEPTH))
    assert len(data["payments"]["nodes"]) == 2
    assert data["payments"]["nodes"][0]["partner"]["id"]


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(OVER_MAX_DEPTH, id="plain"),
        pytest.param(
            "{ payments { nodes { ...Deep } } }"
            " fragment Deep on Payment { partner { parent { id } } }",
            id="fragment",
        ),
        pytest.param(
            "{ payments { ...Nodes } }"
            " fragment Nodes on PaymentConnection { nodes { ...Deep } }"
            " fragment Deep on Payment { partner { parent { id } } }",
            id="nested-fragments",
        ),
        pytest.param(
            "{ payments { nodes { ... on Payment { partner { parent { id } } } } } }",
            id="inline-fragment",
        ),
    ],
)
async def test_an_operation_over_the_depth_limit_is_refused(
    client: httpx.AsyncClient, production: RunningServer, caller: Caller, document: str
) -> None:
    error = refused_with(await graphql(client, production, caller, document), "QUERY_TOO_DEEP")
    assert error["message"] == (f"The operation is 5 fields deep; at most {MAX_DEPTH} are allowed.")


# --- aliases ----------------------------------------------------------------------------


async def test_aliases_at_the_limit_run(
    client: httpx.AsyncClient, production: RunningServer, caller: Caller
) -> None:
    document = "{ a: viewer { credential } b: viewer { credential } c: viewer { credential } }"
    data = answered(await graphql(client, production, caller, document))
    assert data == {name: {"credential": "JWT"} for name in "abc"}


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(
            "{ a: viewer { credential } b: viewer { credential }"
            " c: viewer { credential } d: viewer { credential } }",
            id="plain",
        ),
        pytest.param(
            "{ ...Two ...Two } fragment Two on Query { a: viewer { credential } b: __typename }",
            id="fragment-spread-twice",
        ),
        pytest.param(
            "{ viewer { ...Two } again: viewer { ...Two } }"
            " fragment Two on Viewer { a: credential b: scope }",
            id="nested-spreads",
        ),
    ],
)
async def test_too_many_aliases_are_refused(
    client: httpx.AsyncClient, production: RunningServer, caller: Caller, document: str
) -> None:
    error = refused_with(await graphql(client, production, caller, document), "TOO_MANY_ALIASES")
    assert f"at most {MAX_ALIASES} are allowed" in error["message"]


# --- tokens -----------------------------------------------------------------------------


def fields(count: int) -> str:
    """`{ viewer { credential ... } }`: `count` + 5 lexical tokens."""
    return "{ viewer { " + "credential " * count + "} }"


async def test_a_document_at_the_token_limit_runs(
    client: httpx.AsyncClient, production: RunningServer, caller: Caller
) -> None:
    data = answered(await graphql(client, production, caller, fields(MAX_TOKENS - 5)))
    assert data == {"viewer": {"credential": "JWT"}}


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(fields(MAX_TOKENS - 4), id="one-over"),
        pytest.param(fields(2 * MAX_TOKENS), id="far-over"),
        pytest.param("#\n" * (MAX_TOKENS + 1) + "{ __typename }", id="comments"),
    ],
)
async def test_too_many_tokens_are_refused(
    client: httpx.AsyncClient, production: RunningServer, caller: Caller, document: str
) -> None:
    assert len(json.dumps({"query": document})) < MAX_BODY_BYTES  # not the body limit
    error = refused_with(await graphql(client, production, caller, document), "TOO_MANY_TOKENS")
    assert f"more than {MAX_TOKENS}" in error["message"]


# --- body size and batching at the HTTP edge --------------------------------------------


def body_of(size: int) -> bytes:
    """A valid `{ __typename }` request of exactly `size` bytes (padded with spaces)."""
    bare = json.dumps({"query": "{ __typename }"}).encode()
    body = json.dumps({"query": "{ __typename }" + " " * (size - len(bare))}).encode()
    assert len(body) == size
    return body


def assert_edge_refusal(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["x-request-id"] == "limits-test"
    body = response.json()
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == [code]
    assert body["errors"][0]["extensions"]["requestId"] == "limits-test"


def edge_headers(caller: Caller) -> dict[str, str]:
    return {**caller.headers, "Content-Type": "application/json", "X-Request-Id": "limits-test"}


async def test_a_body_at_the_size_limit_runs(
    client: httpx.AsyncClient, production: RunningServer, caller: Caller
) -> None:
    response = await client.post(
        production.graphql_url, content=body_of(MAX_BODY_BYTES), headers=edge_headers(caller)
    )
    assert answered(response) == {"__typename": "Query"}


async def test_a_body_over_the_size_limit_gets_413(
    client: httpx.AsyncClient, production: RunningServer, caller: Caller
) -> None:
    response = await client.post(
        production.graphql_url, content=body_of(MAX_BODY_BYTES + 1), headers=edge_headers(caller)
    )
    assert_edge_refusal(response, 413, "REQUEST_TOO_LARGE")


async def test_a_chunked_body_over_the_size_limit_gets_413(
    client: httpx.AsyncClient, production: RunningServer, caller: Caller
) -> None:
    body = body_of(MAX_BODY_BYTES + 500)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 512):
            yield body[start : start + 512]

    request = client.build_request(
        "POST", production.graphql_url, content=chunks(), headers=edge_headers(caller)
    )
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    assert_edge_refusal(await client.send(request), 413, "REQUEST_TOO_LARGE")


async def test_a_chunked_body_under_the_size_limit_runs(
    client: httpx.AsyncClient, production: RunningServer, caller: Caller
) -> None:
    body = body_of(MAX_BODY_BYTES)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 300):
            yield body[start : start + 300]

    response = await client.post(
        production.graphql_url, content=chunks(), headers=edge_headers(caller)
    )
    assert answered(response) == {"__typename": "Query"}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'[{"query": "{ __typename }"}]', id="array"),
        pytest.param(b' \n [{"query": "{ __typename }"}, {"query": "{ __typename }"}]', id="ws"),
        pytest.param(b"[]", id="empty-array"),
        # JSON may start with a UTF-8 byte order mark; the batch is still a batch.
        pytest.param(b'\xef\xbb\xbf[{"query": "{ __typename }"}]', id="utf8-bom"),
    ],
)
async def test_a_json_array_batch_gets_400(
    client: httpx.AsyncClient, production: RunningServer, caller: Caller, body: bytes
) -> None:
    response = await client.post(production.graphql_url, content=body, headers=edge_headers(caller))
    assert_edge_refusal(response, 400, "BATCHING_NOT_SUPPORTED")


# --- production hardening ---------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        "{ __schema { types { name } } }",
        '{ __type(name: "Payment") { name fields { name } } }',
        "{ viewer { credential } __schema { queryType { name } } }",
        "{ ...Intro } fragment Intro on Query { __schema { queryType { name } } }",
    ],
)
async def test_introspection_is_disabled_in_production(
    client: httpx.AsyncClient, production: RunningServer, caller: Caller, document: str
) -> None:
    refused_with(await graphql(client, production, caller, document), "INTROSPECTION_DISABLED")


async def test_typename_still_works_in_production(
    client: httpx.AsyncClient, production: RunningServer, caller: Caller
) -> None:
    data = answered(await graphql(client, production, caller, "{ __typename }"))
    assert data == {"__typename": "Query"}


@pytest.mark.parametrize(("document", "name"), MISSPELLED)
async def test_production_validation_errors_give_no_suggestions(
    client: httpx.AsyncClient,
    production: RunningServer,
    caller: Caller,
    document: str,
    name: str,
) -> None:
    response = await graphql(client, production, caller, document)
    error = refused_with(response, "GRAPHQL_VALIDATION_FAILED")
    assert name in error["message"]
    assert "Did you mean" not in response.text


@pytest.mark.parametrize("authorized", [False, True], ids=["anonymous", "with-token"])
async def test_graphiql_is_not_served_in_production(
    client: httpx.AsyncClient, production: RunningServer, caller: Caller, authorized: bool
) -> None:
    headers = {"Accept": "text/html", **(caller.headers if authorized else {})}
    page = await client.get(production.graphql_url, headers=headers)
    assert page.status_code != 200
    assert "text/html" not in page.headers.get("content-type", "")
    assert "graphiql" not in page.text.lower()


async def test_graphiql_assets_are_not_served_in_production(
    client: httpx.AsyncClient, production: RunningServer
) -> None:
    for asset in ("graphiql/paygraph-graphiql.js", "graphiql/vendor/graphiql.min.js"):
        assert (await client.get(f"{production.url}/{asset}")).status_code == 404


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }


async def test_cors_preflight_from_the_dashboard_is_allowed(
    client: httpx.AsyncClient, production: RunningServer
) -> None:
    response = await client.options(production.graphql_url, headers=preflight(DASHBOARD_ORIGIN))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == DASHBOARD_ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed
    assert "content-type" in allowed


async def test_cors_preflight_from_another_origin_is_refused(
    client: httpx.AsyncClient, production: RunningServer
) -> None:
    response = await client.options(production.graphql_url, headers=preflight(OTHER_ORIGIN))
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_cors_headers_only_for_the_dashboard_origin(
    client: httpx.AsyncClient, production: RunningServer, caller: Caller
) -> None:
    document = {"query": "{ __typename }"}
    dashboard = await client.post(
        production.graphql_url,
        json=document,
        headers={**caller.headers, "Origin": DASHBOARD_ORIGIN},
    )
    assert answered(dashboard) == {"__typename": "Query"}
    assert dashboard.headers["access-control-allow-origin"] == DASHBOARD_ORIGIN
    assert "x-request-id" in dashboard.headers["access-control-expose-headers"].lower()

    other = await client.post(
        production.graphql_url, json=document, headers={**caller.headers, "Origin": OTHER_ORIGIN}
    )
    assert "access-control-allow-origin" not in other.headers

    # A refusal at the edge is still readable by the dashboard.
    unauthenticated = await client.post(
        production.graphql_url, json=document, headers={"Origin": DASHBOARD_ORIGIN}
    )
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["access-control-allow-origin"] == DASHBOARD_ORIGIN


# --- a development server, for contrast ---------------------------------------------------


@pytest.mark.parametrize(("document", "name"), MISSPELLED)
async def test_development_validation_errors_suggest_names(
    client: httpx.AsyncClient,
    development: RunningServer,
    caller: Caller,
    document: str,
    name: str,
) -> None:
    error = refused_with(
        await graphql(client, development, caller, document), "GRAPHQL_VALIDATION_FAILED"
    )
    assert name in error["message"]
    assert "Did you mean" in error["message"]


async def test_development_answers_introspection_and_deeper_operations(
    client: httpx.AsyncClient, development: RunningServer, caller: Caller
) -> None:
    data = answered(
        await graphql(client, development, caller, "{ __schema { queryType { name } } }")
    )
    assert data == {"__schema": {"queryType": {"name": "Query"}}}
    deeper = answered(await graphql(client, development, caller, OVER_MAX_DEPTH))
    assert len(deeper["payments"]["nodes"]) == 2
    too_deep_introspection = (
        "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    )
    error = refused_with(
        await graphql(client, development, caller, too_deep_introspection),
        "GRAPHQL_VALIDATION_FAILED",
    )
    assert error["message"] == "Maximum introspection depth exceeded"
    five_aliases = "{ " + " ".join(f"a{i}: __typename" for i in range(5)) + " }"
    assert answered(await graphql(client, development, caller, five_aliases)) == {
        f"a{i}": "Query" for i in range(5)
    }


# --- validation cost ----------------------------------------------------------------------


def fragment_chain(levels: int) -> str:
    """`levels` fragments, each spreading the next one twice, ending in an operation 12
    fields deep: a few hundred tokens, but 2**levels paths for a walk that re-reads every
    spread."""
    deep = "payments { nodes { partner { " + "parent { " * 8 + "id" + " }" * 8 + " } } }"
    parts = ["{ ...F1 }"]
    parts += [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(1, levels)]
    parts.append(f"fragment F{levels} on Query {{ {deep} }}")
    return "\n".join(parts)


async def test_fragments_spread_twice_per_level_are_measured_quickly(tmp_path: Any) -> None:
    # A server of its own (default limits): a request stuck in validation blocks its
    # event loop, /healthz included, so it is killed rather than stopped gracefully.
    document = fragment_chain(40)
    assert len(document) < 4000
    unused = f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}"
    with running_server(unused) as server:
        tenant_id, user_id = await tenant_and_user(unused)
        token = mint_token(
            Settings(jwt_secret=TEST_JWT_SECRET),
            tenant_id=tenant_id,
            user_id=user_id,
            permissions=[],
        )
        try:
            async with httpx.AsyncClient(verify=TLS, timeout=5) as client:
                response = await client.post(
                    server.graphql_url,
                    json={"query": document},
                    headers={"Authorization": f"Bearer {token}"},
                )
        except httpx.TimeoutException:
            server.process.kill()
            pytest.fail(
                "a 40-level fragment chain was not validated within 5 s: the depth rule "
                "walks every spread again (schema/limits.py `_depth` has no memo)"
            )
    error = refused_with(response, "QUERY_TOO_DEEP")
    assert error["message"] == "The operation is 12 fields deep; at most 10 are allowed."
