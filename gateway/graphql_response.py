"""The status codes that go with GraphQL over HTTP's two response media types
(gateway.media_types).

A client that prefers `application/graphql-response+json` (its Accept header says so)
gets it, with the spec's status codes: a request error (the operation never started: it
did not parse or validate, its variables did not coerce, or it was refused before any
resolver ran) is a 4xx whose body has no `data` entry. Every other client gets
`application/json` as before: 200 for any GraphQL answer, errors in the body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from gateway.request_guard import error_response
from schema.app_schema import INTROSPECTION_DISABLED
from schema.errors import BAD_USER_INPUT, VALIDATION_FAILED
from schema.limits import QUERY_TOO_DEEP, TOO_MANY_ALIASES, TOO_MANY_TOKENS
from schema.query_cost import QUERY_TOO_COSTLY, THROTTLED

METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
# Codes for Strawberry's own refusals by their status (BAD_REQUEST for any other).
HTTP_ERROR_CODES = {404: "NOT_FOUND", 405: METHOD_NOT_ALLOWED}

# The codes of request errors, with their status under GRAPHQL_RESPONSE_JSON. An error
# with a `path` came from a resolver, so BAD_USER_INPUT is a request error only without
# one (a variable the schema's types refuse).
REQUEST_ERROR_STATUS: Mapping[str, int] = {
    VALIDATION_FAILED: 400,
    BAD_USER_INPUT: 400,
    QUERY_TOO_DEEP: 400,
    TOO_MANY_ALIASES: 400,
    TOO_MANY_TOKENS: 400,
    INTROSPECTION_DISABLED: 400,
    QUERY_TOO_COSTLY: 400,
    THROTTLED: 429,
}


def request_error_status(answer: Mapping[str, Any]) -> int | None:
    """The status of a GraphQL answer that is a request error, None for any other: no
    data, and every error one of REQUEST_ERROR_STATUS's codes without a path (429 when
    one was THROTTLED, 400 otherwise)."""
    errors = answer.get("errors")
    if answer.get("data") is not None or not errors:
        return None
    statuses = set()
    for error in errors:
        code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
        status = REQUEST_ERROR_STATUS.get(code) if isinstance(code, str) else None
        if status is None or error.get("path") is not None:
            return None
        statuses.add(status)
    return max(statuses)


class Refusal(Exception):
    """A request refused before its operation runs, with an HTTP status and a code."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def response(self, request_id: str, media_type: str) -> Response:
        """The refusal as one GraphQL error in `media_type`, as the edge's."""
        response = error_response(
            self.status, self.code, self.message, request_id, media_type=media_type
        )
        response.headers.update(self.headers)
        return response
