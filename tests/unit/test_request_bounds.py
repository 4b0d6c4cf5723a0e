"""The request budget's and the server's bounds are read and checked at start-up, and a
principal's existence is looked up once per time-to-live, never believed when denied."""

from __future__ import annotations

import pytest

from domain.errors import Unauthenticated
from domain.principal import Credential, Principal
from gateway.known_principals import KnownPrincipals
from gateway.request_budget import RequestBudget, RequestBudgetError
from gateway.server_timeouts import ServerTimeouts, ServerTimeoutsError
from gateway.timeout_protocol import HeaderTimeoutProtocol, uvicorn_options


def test_the_budget_and_timeouts_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAYGRAPH_REQUEST_TIMEOUT", "4")
    monkeypatch.setenv("PAYGRAPH_MAX_RESPONSE_BYTES", "65536")
    monkeypatch.setenv("PAYGRAPH_HEADER_TIMEOUT", "2.5")
    monkeypatch.setenv("PAYGRAPH_LIMIT_CONCURRENCY", "64")
    monkeypatch.setenv("PAYGRAPH_SEND_TIMEOUT", "12")

    budget = RequestBudget.from_env()
    options = uvicorn_options(ServerTimeouts.from_env())

    assert (budget.request_timeout, budget.max_response_bytes) == (4.0, 65536)
    assert budget.statement_timeout == 3.5  # just under the deadline
    assert RequestBudget(request_timeout=0.4).statement_timeout == 0.2
    assert options["http"].func is HeaderTimeoutProtocol
    assert options["http"].keywords == {"header_timeout": 2.5, "send_timeout": 12.0}
    assert options["limit_concurrency"] == 64
    assert options["timeout_keep_alive"] == 5.0
    assert options["server_header"] is False


@pytest.mark.parametrize(
    ("variable", "value", "error"),
    [
        ("PAYGRAPH_REQUEST_TIMEOUT", "0", RequestBudgetError),
        ("PAYGRAPH_REQUEST_TIMEOUT", "nan", RequestBudgetError),
        ("PAYGRAPH_REQUEST_TIMEOUT", "601", RequestBudgetError),
        ("PAYGRAPH_MAX_RESPONSE_BYTES", "100", RequestBudgetError),
        ("PAYGRAPH_MAX_RESPONSE_BYTES", "8MB", RequestBudgetError),
        ("PAYGRAPH_HEADER_TIMEOUT", "-1", ServerTimeoutsError),
        ("PAYGRAPH_KEEP_ALIVE_TIMEOUT", "0", ServerTimeoutsError),
        ("PAYGRAPH_LIMIT_CONCURRENCY", "0", ServerTimeoutsError),
        ("PAYGRAPH_SEND_TIMEOUT", "0", ServerTimeoutsError),
        ("PAYGRAPH_SEND_TIMEOUT", "nan", ServerTimeoutsError),
    ],
)
def test_an_unusable_bound_stops_the_start_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, error: type[Exception]
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(error, match=variable):
        RequestBudget.from_env()
        ServerTimeouts.from_env()


class Lookups:
    """A stand-in for the user table: which (tenant, user, partner) exist, and every ask."""

    def __init__(self, *existing: tuple[int, int, int | None]) -> None:
        self.existing = set(existing)
        self.asked: list[tuple[int, int, int | None]] = []

    async def __call__(self, tenant: int, user: int, partner: int | None) -> bool:
        self.asked.append((tenant, user, partner))
        return (tenant, user, partner) in self.existing


def principal(tenant: int, user: int, partner: int | None = None) -> Principal:
    return Principal(tenant, user, Credential.JWT, partner_id=partner)


async def test_a_known_principal_is_looked_up_once_per_time_to_live() -> None:
    lookups, now = Lookups((1, 7, None)), [0.0]
    known = KnownPrincipals(lookups, ttl=30, clock=lambda: now[0])

    await known.check(principal(1, 7))
    now[0] = 29.0
    await known.check(principal(1, 7))
    now[0] = 31.0
    await known.check(principal(1, 7))

    assert lookups.asked == [(1, 7, None), (1, 7, None)]


async def test_an_unknown_principal_is_refused_every_time_and_never_remembered() -> None:
    lookups = Lookups((1, 7, None))
    known = KnownPrincipals(lookups)

    for _ in range(2):
        with pytest.raises(Unauthenticated, match="unknown"):
            await known.check(principal(2, 7))
        with pytest.raises(Unauthenticated):
            await known.check(principal(1, 7, partner=3))

    assert len(lookups.asked) == 4


async def test_the_oldest_confirmations_are_dropped_past_capacity() -> None:
    lookups = Lookups(*((1, user, None) for user in range(5)))
    known = KnownPrincipals(lookups, capacity=2)

    for user in (0, 1, 2, 0):
        await known.check(principal(1, user))

    assert [user for _, user, _ in lookups.asked] == [0, 1, 2, 0]
