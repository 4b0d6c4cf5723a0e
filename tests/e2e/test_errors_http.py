"""Unexpected failures over real HTTP: the client gets a generic message and a request
id, never SQL, table names or a stack trace; the server log has the details under the
same request id."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from domain.permissions import ALL_PERMISSIONS
from gateway.auth import mint_token
from gateway.settings import Settings
from tests.e2e.server import TEST_JWT_SECRET, TLS, running_server
from tests.factories import tenant_and_user


def caller_token(tenant_id: int, user_id: int) -> str:
    settings = Settings(jwt_secret=TEST_JWT_SECRET)
    return mint_token(settings, tenant_id=tenant_id, user_id=user_id, permissions=ALL_PERMISSIONS)


async def test_a_database_failure_is_masked_and_logged_with_the_request_id(
    tmp_path: Path,
) -> None:
    database = tmp_path / "broken.db"
    with running_server(f"sqlite:///{database}") as server:
        tenant_id, user_id = await tenant_and_user(f"sqlite:///{database}")
        token = caller_token(tenant_id, user_id)
        # Break the schema under the running server: reading payments now fails in SQL.
        with sqlite3.connect(database) as connection:
            connection.execute("ALTER TABLE payment RENAME TO payment_gone")
            connection.execute("ALTER TABLE api_token RENAME TO api_token_gone")

        response = httpx.post(
            server.graphql_url,
            json={"query": "{ payments { nodes { id } } }"},
            headers={"Authorization": f"Bearer {token}", "X-Request-Id": "req-masking-1"},
            verify=TLS,
        )
        manager = httpx.post(
            server.graphql_url,
            json={"query": "{ viewer { scope } }"},
            headers={"X-Api-Token": "pgm_" + "a" * 43, "X-Request-Id": "req-masking-2"},
            verify=TLS,
        )
        log = server.stop_and_read()

    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-masking-1"
    body = response.json()
    assert body["data"] is None
    assert body["errors"] == [
        {
            "message": "Internal server error.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["payments"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-masking-1"},
        }
    ]
    text = response.text.lower()
    assert "select" not in text and "payment_gone" not in text and "traceback" not in text
    assert "request req-masking-1" in log
    assert "no such table: payment" in log

    # Checking a manager's token fails in SQL before any GraphQL: masked the same way.
    assert manager.status_code == 500
    assert manager.json() == {
        "data": None,
        "errors": [
            {
                "message": "Internal server error.",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-masking-2"},
            }
        ],
    }
    assert "request req-masking-2" in log
    assert "no such table: api_token" in log


async def test_bodies_that_are_not_one_json_object_get_a_coded_400(tmp_path: Path) -> None:
    bodies = {
        b"{not json": "BAD_REQUEST",
        b'{"query": "{ viewer { scope } }", "variables": ' + b"[" * 100_000: "BAD_REQUEST",
        b'[{"query": "{ viewer { scope } }"}]': "BATCHING_NOT_SUPPORTED",
        "[{}]".encode("utf-16"): "BATCHING_NOT_SUPPORTED",
        b"\xef\xbb\xbf[{}]": "BATCHING_NOT_SUPPORTED",
        # JSON, but not an object: once a bare plain-text 500.
        b"null": "BAD_REQUEST",
        b"42": "BAD_REQUEST",
        b'"x"': "BAD_REQUEST",
        b"true": "BAD_REQUEST",
    }
    database_url = f"sqlite:///{tmp_path / 'j.db'}"
    with running_server(database_url, env={"PAYGRAPH_MAX_BODY_BYTES": "1000000"}) as server:
        token = caller_token(*await tenant_and_user(database_url))
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        answers = {
            body: httpx.post(server.graphql_url, content=body, headers=headers, verify=TLS)
            for body in bodies
        }

    for body, code in bodies.items():
        response = answers[body]
        assert response.status_code == 400, body[:40]
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == code
        assert error["extensions"]["requestId"] == response.headers["x-request-id"]
        assert response.headers["content-type"] == "application/json"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
