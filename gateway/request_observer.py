"""Every HTTP request, once finished, counted (gateway.metrics) and logged as one line
(logger `paygraph.requests`) with its request id, operation, principal kind and tenant,
duration, cost and error code.

The request guard leaves the request's id and principal in the scope's state; the GraphQL
view fills in the request's RequestOutcome (`current_outcome()`, a context variable of
the request's task) with the operation, its cost and its error codes (`record_execution`,
`record_error`). A refusal that never reached GraphQL (401, 413, ...) is read from its
small JSON body."""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.principal import Credential, Principal
from gateway import metrics
from gateway.metrics import RequestOutcome

logger = logging.getLogger("paygraph.requests")

GRAPHQL_PATH = "/graphql"
MAX_REFUSAL_BYTES = 16 * 1024  # a refusal's body is read for its code up to this size
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"

_CURRENT: ContextVar[RequestOutcome | None] = ContextVar("paygraph_outcome", default=None)


def current_outcome() -> RequestOutcome | None:
    """The outcome of the request being handled (None outside a request)."""
    return _CURRENT.get()


class RequestObserver:
    """Times each HTTP request of `app` and reports it when its response is done."""

    def __init__(self, app: ASGIApp, *, count: bool = True, log: bool = True) -> None:
        self.app = app
        self.count = count
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        outcome = RequestOutcome(time.perf_counter(), graphql=scope["path"] == GRAPHQL_PATH)
        scope.setdefault("state", {})
        token = _CURRENT.set(outcome)
        status = 500
        refusal: list[bytes] | None = None

        async def sending(message: Message) -> None:
            nonlocal status, refusal
            if message["type"] == "http.response.start":
                status = message["status"]
                if status >= 400 and not outcome.error_codes and _is_json(message):
                    refusal = []
            elif refusal is not None and sum(map(len, refusal)) < MAX_REFUSAL_BYTES:
                refusal.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except BaseException:
            outcome.error_codes = (INTERNAL_SERVER_ERROR,)
            raise
        finally:
            _CURRENT.reset(token)
            seconds = time.perf_counter() - outcome.started
            if refusal:
                outcome.error_codes = _codes_in(b"".join(refusal))
            if self.count:
                metrics.observe(outcome, seconds)
            if self.log:
                _log(scope, outcome, status, seconds)


def _is_json(message: Message) -> bool:
    for name, value in message.get("headers", ()):
        if name.lower() == b"content-type":
            return b"json" in value
    return False


def _codes_in(body: bytes) -> tuple[str, ...]:
    try:
        errors = orjson.loads(body).get("errors") or ()
        return tuple(str(error["extensions"]["code"]) for error in errors)
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError):
        return ()


def principal_kind(principal: Principal) -> str:
    """`manager` (an X-Api-Token), `partner` (a partner user's JWT) or `user` (a
    tenant-wide JWT)."""
    if principal.credential is Credential.API_TOKEN:
        return "manager"
    return "partner" if principal.partner_id is not None else "user"


def _log(scope: Scope, outcome: RequestOutcome, status: int, seconds: float) -> None:
    state = scope["state"]
    principal: Principal | None = state.get("principal")
    fields: dict[str, Any] = {
        "request_id": state.get("request_id"),
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "operation": outcome.operation,
        "operation_type": outcome.operation_type,
    }
    if principal is not None:
        fields["principal"] = principal_kind(principal)
        fields["tenant"] = principal.tenant_id
    if outcome.requested_cost is not None:
        fields["cost"] = outcome.requested_cost
        fields["actual_cost"] = outcome.actual_cost
    if outcome.error_codes:
        fields["error_code"] = outcome.error_codes[0]
        if len(outcome.error_codes) > 1:
            fields["error_codes"] = list(outcome.error_codes)
    fields = {key: value for key, value in fields.items() if value is not None}
    level = logging.ERROR if status >= 500 else logging.INFO
    what = (
        f"{outcome.operation_type} {outcome.operation or '(anonymous)'} "
        if outcome.operation_type
        else ""
    )
    logger.log(level, "%s %s %s%d", scope["method"], scope["path"], what, status, extra=fields)


def record_execution(context: Any, result: Any) -> None:
    """Copy what a GraphQL execution came to (operation, cost, error codes) to the
    request's outcome."""
    outcome = _CURRENT.get()
    if outcome is None:
        return
    outcome.operation = context.operation_name
    outcome.operation_type = context.operation_type
    cost = context.cost
    if cost is not None:
        outcome.requested_cost = cost.requested
        outcome.actual_cost = cost.actual
    errors = getattr(result, "errors", None)
    if errors:
        outcome.error_codes = tuple(
            str((error.extensions or {}).get("code", INTERNAL_SERVER_ERROR)) for error in errors
        )


def record_error(code: str) -> None:
    """An answer replaced after execution (RESPONSE_TOO_LARGE) is reported by its code."""
    outcome = _CURRENT.get()
    if outcome is not None:
        outcome.error_codes = (code,)
