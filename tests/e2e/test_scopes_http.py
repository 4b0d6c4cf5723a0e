"""Scopes over real HTTP: a partner user's signed JWT, and a manager's X-Api-Token made
by `paygraph manager create`, against a running server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from subprocess import CompletedProcess
from typing import Any

import httpx
import pytest

from domain.permissions import VIEW_PAYMENTS
from gateway.auth import mint_token
from gateway.settings import Settings
from resolvers.cursors import encode
from tests.e2e.server import ROOT, TEST_JWT_SECRET, TLS, RunningServer, query, running_server
from tests.factories import Factory
from tests.forkserver import run
from tests.integration.test_scopes import DEEP, seen
from tests.scoped_graphs import reseller_tree, sibling_partners

SETTINGS = Settings(jwt_secret=TEST_JWT_SECRET)
# DEEP reaches every row in scope through the default page of every list, nested: it
# may cost some 37 million points, far past what one client operation is allowed, so
# this server lifts its cost limit and throttle (the scopes are what is tested here).
UNLIMITED_COST = {
    "PAYGRAPH_MAX_QUERY_COST": "1000000000",
    "PAYGRAPH_THROTTLE_MAXIMUM": "1000000000",
}


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[RunningServer]:
    with running_server(database_url, env=UNLIMITED_COST) as running:
        yield running


def post(server: RunningServer, headers: dict[str, str], document: str, **variables: Any) -> Any:
    return httpx.post(
        server.graphql_url,
        json={"query": document, "variables": variables},
        headers=headers,
        verify=TLS,
    )


def manager(server: RunningServer, *args: str, check: bool = True) -> CompletedProcess[str]:
    """`paygraph manager ARGS`, the real CLI run as an operator would, with the server's
    settings (forked from the tests' zygote: tests.forkserver)."""
    command = [sys.executable, "-m", "gateway.cli", "manager", *args]
    return run(command, cwd=ROOT, env=server.env, check=check)


def create_manager(server: RunningServer, tenant_id: int, reseller_id: int) -> str:
    """Run the real CLI, as an operator would, and read the token it prints once."""
    printed = manager(
        server, "create", "--tenant", str(tenant_id), "--reseller", str(reseller_id),
        "--email", f"m{reseller_id}@example.test",
    ).stdout  # fmt: skip
    header = next(line for line in printed.splitlines() if line.startswith("X-Api-Token: "))
    return header.removeprefix("X-Api-Token: ")


async def test_a_partner_users_token_never_reaches_another_partners_payments(
    server: RunningServer, engine: Any
) -> None:
    graph = await sibling_partners(Factory(engine))
    token = mint_token(
        SETTINGS,
        tenant_id=graph.tenant_id,
        user_id=graph.mine_user,
        permissions=[VIEW_PAYMENTS],
        partner_id=graph.mine,
    )

    data = await query(server, token, DEEP)

    found = seen(data)
    assert found["Payment"] == {rows.payment for rows in graph.my_payments}
    assert found["Partner"] == {graph.mine}
    theirs = encode("Payment", graph.their_payments[0].payment)
    answer = post(
        server,
        {"Authorization": f"Bearer {token}"},
        "query($id: ID!) { node(id: $id) { id } }",
        id=theirs,
    ).json()
    assert answer["data"] == {"node": None}
    assert answer["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_manager_token_from_the_cli_sees_its_reseller_tree_only(
    server: RunningServer, engine: Any
) -> None:
    tree = await reseller_tree(Factory(engine))
    token = create_manager(server, tree.tenant_id, tree.own)
    headers = {"X-Api-Token": token}

    answer = post(server, headers, DEEP).json()
    viewer = post(server, headers, "{ viewer { credential scope permissions } }").json()

    assert "errors" not in answer
    allowed = ("own", "child", "grandchild")
    assert seen(answer["data"])["Payment"] == {tree.payments[n].payment for n in allowed}
    assert viewer["data"]["viewer"] == {
        "credential": "API_TOKEN",
        "scope": "RESELLER_TREE",
        "permissions": ["complete-payments", "view-payments"],
    }
    for outside in ("parent", "sibling"):
        lookup = post(
            server,
            headers,
            "query($id: ID!) { payment(id: $id) { id } }",
            id=str(tree.payments[outside].payment),
        ).json()
        assert lookup["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_manager_tokens_are_stored_only_as_hashes(server: RunningServer, engine: Any) -> None:
    tree = await reseller_tree(Factory(engine))
    token = create_manager(server, tree.tenant_id, tree.own)

    async with engine.connect() as connection:
        rows = (await connection.exec_driver_sql("SELECT * FROM api_token")).all()

    assert rows
    assert not any(token in str(value) for row in rows for value in row)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Api-Token": "pgm_" + "x" * 43},  # well formed, never issued
        {"X-Api-Token": "not-a-token"},
        {"X-Api-Token": ""},
    ],
)
def test_an_unknown_api_token_gets_401(server: RunningServer, headers: dict[str, str]) -> None:
    response = post(server, headers, "{ viewer { credential } }")

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_sending_both_credentials_is_refused(server: RunningServer, engine: Any) -> None:
    factory = Factory(engine)
    tree = await reseller_tree(factory)
    token = create_manager(server, tree.tenant_id, tree.own)
    admin = await factory.user(tree.tenant_id)
    jwt = mint_token(SETTINGS, tenant_id=tree.tenant_id, user_id=admin, permissions=[VIEW_PAYMENTS])

    response = post(
        server, {"X-Api-Token": token, "Authorization": f"Bearer {jwt}"}, "{ viewer { scope } }"
    )

    assert response.status_code == 401
    assert "one credential" in response.json()["errors"][0]["message"]


def test_the_cli_refuses_a_reseller_of_another_tenant_or_an_unknown_one(
    server: RunningServer,
) -> None:
    done = manager(
        server, "create", "--tenant", "1", "--reseller", "999999999",
        "--email", "nobody@example.test", check=False,
    )  # fmt: skip

    assert done.returncode == 2
    assert "no reseller 999999999" in done.stderr
    assert "X-Api-Token" not in done.stdout


async def test_a_revoked_manager_token_gets_401(server: RunningServer, engine: Any) -> None:
    tree = await reseller_tree(Factory(engine))
    token = create_manager(server, tree.tenant_id, tree.own)
    assert post(server, {"X-Api-Token": token}, "{ viewer { scope } }").status_code == 200

    revoked = manager(server, "revoke", token[:12])

    assert revoked.stdout.strip() == "revoked 1 token(s)"
    assert post(server, {"X-Api-Token": token}, "{ viewer { scope } }").status_code == 401
