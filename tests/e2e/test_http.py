"""End to end: uvicorn on a free port, queried over HTTP with the gql client and real
signed tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gql.transport.exceptions import TransportQueryError

from domain.permissions import ALL_PERMISSIONS
from gateway.auth import mint_token
from gateway.settings import Settings
from tests.e2e.server import TEST_JWT_SECRET, TLS, RunningServer, query, running_server
from tests.factories import Factory, dashboard_graph
from tests.integration.test_dashboard_statements import DASHBOARD

SETTINGS = Settings(jwt_secret=TEST_JWT_SECRET)


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[RunningServer]:
    with running_server(database_url) as running:
        yield running


def token_for(tenant_id: int, user_id: int, **claims: Any) -> str:
    return mint_token(
        SETTINGS, tenant_id=tenant_id, user_id=user_id, permissions=ALL_PERMISSIONS, **claims
    )


async def test_dashboard_query_over_http(server: RunningServer, engine: Any) -> None:
    graph = await dashboard_graph(Factory(engine), payments=12)

    data = await query(server, token_for(graph.tenant_id, graph.admin_id), DASHBOARD, first=10)

    page = data["payments"]
    assert page["totalCount"] == 12
    assert len(page["edges"]) == 10
    assert page["pageInfo"]["hasNextPage"] is True
    node = page["edges"][0]["node"]
    assert node["amount"]["amount"] == "10000"
    assert node["invoice"]["payments"]["totalCount"] == 12
    assert node["partner"]["parent"]["id"]


async def test_viewer_names_the_caller(server: RunningServer, engine: Any) -> None:
    graph = await dashboard_graph(Factory(engine), payments=1)
    viewer = "{ viewer { credential permissions tenant { id } user { databaseId } } }"

    data = await query(server, token_for(graph.tenant_id, graph.admin_id), viewer)

    assert data["viewer"] == {
        "credential": "JWT",
        "permissions": sorted(ALL_PERMISSIONS),
        "tenant": {"id": str(graph.tenant_id)},
        "user": {"databaseId": graph.admin_id},
    }


async def test_errors_carry_their_code_over_http(server: RunningServer, engine: Any) -> None:
    factory = Factory(engine)
    tenant = await factory.tenant()
    user = await factory.user(tenant)
    with pytest.raises(TransportQueryError) as raised:
        await query(server, token_for(tenant, user), "{ payments(first: 500) { totalCount } }")
    assert raised.value.errors[0]["extensions"]["code"] == "PAGE_SIZE_TOO_LARGE"


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 20],
    ids=["missing", "garbage", "basic", "opaque"],
)
def test_requests_without_a_valid_credential_get_401(
    server: RunningServer, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.post(
        server.graphql_url, json={"query": "{ viewer { credential } }"}, headers=headers, verify=TLS
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_token_signed_with_another_key_is_rejected(server: RunningServer) -> None:
    forged = mint_token(
        Settings(jwt_secret="another-secret-of-enough-length-000000000"),
        tenant_id=1,
        user_id=1,
        permissions=ALL_PERMISSIONS,
    )
    response = httpx.post(
        server.graphql_url,
        json={"query": "{ viewer { credential } }"},
        headers={"Authorization": f"Bearer {forged}"},
        verify=TLS,
    )
    assert response.status_code == 401


def test_health_readiness_and_graphiql(server: RunningServer) -> None:
    assert httpx.get(f"{server.url}/healthz", verify=TLS).json() == {"status": "ok"}
    assert httpx.get(f"{server.url}/readyz", verify=TLS).json() == {"status": "ready"}
    page = httpx.get(server.graphql_url, headers={"Accept": "text/html"}, verify=TLS)
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
