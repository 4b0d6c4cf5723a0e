"""The request guard's two body limits over real HTTP: a GraphQL multipart request (an
upload) may be as large as the upload limit, every other body only as large as the JSON
limit; past its limit a body is refused with 413 REQUEST_TOO_LARGE, whether it declares
its length or comes chunked. An upload from a caller who may not upload is refused with
403 before a byte of its body is read."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import request_response

from domain.permissions import (
    OPERATIONS,
    REQUEST_PARTNER_PAYMENTS,
    VIEW_PARTNER_PAYMENTS,
    Rule,
)
from domain.principal import Principal
from gateway.auth import JwtVerifier, mint_token
from gateway.request_guard import RequestGuard
from gateway.settings import Settings
from tests.live_server import serving
from tests.raw_http import open_connection, read_response, request_head, unfinished_request

SETTINGS = Settings(jwt_secret="upload-limit-test-secret-long-enough-0123456789")
MAX_BODY_BYTES = 1024
MAX_UPLOAD_BYTES = 8192
BOUNDARY = "paygraph-test-boundary"


async def received(request: Request) -> Response:
    """Stands in for the GraphQL app: says what reached it."""
    body = await request.body()
    return JSONResponse({"bytes": len(body), "contentType": request.headers["content-type"]})


async def no_managers(_: str) -> Principal | None:
    return None


async def any_principal(_: Principal) -> None:
    """No database here: the stand-in app needs no user, and the body limits are checked
    the same for every principal (the user check has its tests through the whole app)."""


def guard(upload_rule: Rule | None) -> RequestGuard:
    """The edge in front of an app that echoes what it received, with these tests' limits;
    `upload_rule` None: an app that takes no uploads."""
    return RequestGuard(
        request_response(received),
        verifier=JwtVerifier(SETTINGS),
        managers=no_managers,
        principals=any_principal,
        max_body_bytes=MAX_BODY_BYTES,
        max_upload_bytes=MAX_UPLOAD_BYTES,
        upload_rule=upload_rule,
        graphiql=False,
    )


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    guarded = guard(upload_rule=OPERATIONS["Mutation.addPaymentDocument"])
    async with serving(guarded) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield client


def headers(
    content_type: str, permissions: tuple[str, ...] = (REQUEST_PARTNER_PAYMENTS,)
) -> dict[str, str]:
    token = mint_token(SETTINGS, tenant_id=1, user_id=1, permissions=permissions)
    return {
        "Authorization": f"Bearer {token}",
        "Content-Type": content_type,
        "X-Request-Id": "upload-test",
    }


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def upload_of(size: int, boundary: str = BOUNDARY) -> bytes:
    """A GraphQL multipart request (operations, map, one file) of exactly `size` bytes."""
    operations = json.dumps(
        {
            "query": "mutation($file: Upload!) { addPaymentDocument(file: $file) { id } }",
            "variables": {"file": None},
        }
    )

    def body(file: bytes) -> bytes:
        return (
            (
                f"--{boundary}\r\n"
                'Content-Disposition: form-data; name="operations"\r\n\r\n'
                f"{operations}\r\n"
                f"--{boundary}\r\n"
                'Content-Disposition: form-data; name="map"\r\n\r\n'
                '{"0": ["variables.file"]}\r\n'
                f"--{boundary}\r\n"
                'Content-Disposition: form-data; name="0"; filename="statement.pdf"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
            + file
            + f"\r\n--{boundary}--\r\n".encode()
        )

    overhead = len(body(b""))
    result = body(b"x" * (size - overhead))
    assert len(result) == size
    return result


def json_of(size: int) -> bytes:
    bare = json.dumps({"query": "{ __typename }"}).encode()
    body = json.dumps({"query": "{ __typename }" + " " * (size - len(bare))}).encode()
    assert len(body) == size
    return body


def assert_too_large(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["x-request-id"] == "upload-test"
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "REQUEST_TOO_LARGE", "requestId": "upload-test"}
    assert error["message"] == f"The request body is larger than {limit} bytes."


async def chunked(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 1000):
        yield body[start : start + 1000]


async def test_an_upload_over_the_json_limit_but_within_the_upload_limit_passes(
    client: httpx.AsyncClient,
) -> None:
    for size in (MAX_BODY_BYTES + 1, 4000, MAX_UPLOAD_BYTES):
        response = await client.post("/", content=upload_of(size), headers=headers(MULTIPART))
        assert response.status_code == 200, response.text
        assert response.json() == {"bytes": size, "contentType": MULTIPART}


async def test_an_upload_over_the_upload_limit_gets_413(client: httpx.AsyncClient) -> None:
    body = upload_of(MAX_UPLOAD_BYTES + 1)

    response = await client.post("/", content=body, headers=headers(MULTIPART))

    assert_too_large(response, MAX_UPLOAD_BYTES)


async def test_a_chunked_upload_is_held_to_the_upload_limit(client: httpx.AsyncClient) -> None:
    within = await client.post(
        "/", content=chunked(upload_of(MAX_UPLOAD_BYTES)), headers=headers(MULTIPART)
    )
    assert within.json() == {"bytes": MAX_UPLOAD_BYTES, "contentType": MULTIPART}

    request = client.build_request(
        "POST", "/", content=chunked(upload_of(MAX_UPLOAD_BYTES + 500)), headers=headers(MULTIPART)
    )
    assert "content-length" not in request.headers
    assert_too_large(await client.send(request), MAX_UPLOAD_BYTES)


async def test_a_json_body_keeps_the_json_limit(client: httpx.AsyncClient) -> None:
    json_type = "application/json"
    at_limit = await client.post("/", content=json_of(MAX_BODY_BYTES), headers=headers(json_type))
    assert at_limit.json() == {"bytes": MAX_BODY_BYTES, "contentType": json_type}

    over = await client.post("/", content=json_of(MAX_BODY_BYTES + 1), headers=headers(json_type))
    assert_too_large(over, MAX_BODY_BYTES)


@pytest.mark.parametrize(
    "content_type",
    [
        # A multipart look-alike is not an upload: Strawberry would not read it as one.
        "multipart/mixed; boundary=x",
        "text/plain; note=multipart/form-data",
        "multipart/form-data, application/json",
    ],
)
async def test_other_content_types_keep_the_json_limit(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post("/", content=upload_of(4000), headers=headers(content_type))

    assert_too_large(response, MAX_BODY_BYTES)


async def test_a_boundary_that_mentions_json_is_still_an_upload(
    client: httpx.AsyncClient,
) -> None:
    content_type = "multipart/form-data; boundary=json-boundary"

    response = await client.post(
        "/", content=upload_of(4000, "json-boundary"), headers=headers(content_type)
    )

    assert response.status_code == 200, response.text
    assert response.json()["bytes"] == 4000


async def test_an_upload_without_credentials_is_refused_before_its_body_is_read(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/", content=upload_of(MAX_UPLOAD_BYTES + 1), headers={"Content-Type": MULTIPART}
    )

    assert response.status_code == 401


async def test_an_upload_from_a_caller_who_may_not_upload_is_refused_before_its_body_is_read(
    client: httpx.AsyncClient,
) -> None:
    # given a caller whose token may read but not upload
    sent = headers(MULTIPART, permissions=(VIEW_PARTNER_PAYMENTS,))
    body = upload_of(MAX_UPLOAD_BYTES)

    # when it sends the headers and the first bytes of an upload, and never the rest
    answer = await unfinished_request(
        str(client.base_url), "/", sent, body[:200], declared_length=len(body)
    )

    # then the answer comes anyway: 403 FORBIDDEN, naming the permission uploads need
    assert answer.status == 403, answer.body
    [error] = answer.json()["errors"]
    assert error["extensions"] == {"code": "FORBIDDEN", "requestId": "upload-test"}
    assert error["message"] == f"Uploads need the permission {REQUEST_PARTNER_PAYMENTS}."


async def test_an_upload_over_the_limit_is_cut_off_once_past_it_without_waiting_for_the_rest(
    client: httpx.AsyncClient,
) -> None:
    # given an upload that declares no length (chunked) and goes on past the limit
    body = upload_of(MAX_UPLOAD_BYTES + 4000)[: MAX_UPLOAD_BYTES + 2000]
    reader, writer = await open_connection(str(client.base_url))
    sent = {**headers(MULTIPART), "Transfer-Encoding": "chunked"}

    # when the bytes past the limit are sent, and the rest never comes
    writer.write(request_head("POST", "/", sent) + b"%x\r\n" % len(body) + body + b"\r\n")
    await writer.drain()

    # then 413 comes while the request is still unfinished
    answer = await read_response(reader)
    writer.close()
    assert answer.status == 413, answer.body
    [error] = answer.json()["errors"]
    assert error["extensions"] == {"code": "REQUEST_TOO_LARGE", "requestId": "upload-test"}


async def test_a_multipart_body_where_no_upload_is_taken_keeps_the_json_limit() -> None:
    # given a guard whose app takes no uploads (the downloads' and exports' guards)
    guarded = guard(upload_rule=None)
    async with serving(guarded) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        # when a multipart body over the JSON limit comes, then it is too large
        response = await client.post("/", content=upload_of(4000), headers=headers(MULTIPART))

    assert_too_large(response, MAX_BODY_BYTES)
