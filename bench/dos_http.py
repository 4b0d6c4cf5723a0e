"""What the denial-of-service measurements (bench/dos.py) send and how they read the
answer: every request is timed, capped, and summed up as an `Outcome` (status, error
codes, bytes, seconds), whatever comes back: JSON, plain text, a cut connection or no
answer at all."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

CAP_S = 60.0  # the longest any one wait may take; a case that hits it reports "> 60 s"
HEAD_BYTES = 1 << 20  # bodies are parsed for their codes up to this size


@dataclass(slots=True)
class Outcome:
    status: int | None  # None: no answer (see `error`)
    seconds: float
    codes: list[str] = field(default_factory=list)
    bytes: int = 0
    error: str | None = None  # "timeout", "stopped at the cap", a transport error's name
    content_type: str = ""
    request_id: bool = False  # the answer carried X-Request-Id
    data: Any = None  # the parsed `data`, when small enough to parse

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.codes and self.error is None

    def as_json(self) -> dict[str, Any]:
        found = asdict(self)
        found.pop("data")
        return found


def encoded(body: Any) -> bytes:
    """Compact JSON in ASCII, so a lone surrogate travels as the escape `\\ud800`
    (httpx's own encoder writes UTF-8, which cannot encode it)."""
    return json.dumps(body, separators=(",", ":")).encode()


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    files: Any = None,
    data: Any = None,
    timeout: float = CAP_S,
) -> Outcome:
    """One request, streamed and timed to its last byte, stopped at `timeout`."""
    started = time.perf_counter()
    head = bytearray()
    size = 0
    response: httpx.Response | None = None

    async def exchange() -> None:
        nonlocal size, response
        request = client.build_request(
            method, url, content=content, headers=headers, files=files, data=data
        )
        response = await client.send(request, stream=True)
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if len(head) < HEAD_BYTES:
                    head.extend(chunk[: HEAD_BYTES - len(head)])
        finally:
            await response.aclose()

    error = None
    try:
        await asyncio.wait_for(exchange(), timeout)
    except TimeoutError:
        error = "timeout" if response is None else "stopped at the cap (still answering)"
    except httpx.HTTPError as failure:
        error = type(failure).__name__
    outcome = Outcome(
        status=None if response is None else response.status_code,
        seconds=time.perf_counter() - started,
        bytes=size,
        error=error,
    )
    if response is not None:
        outcome.content_type = response.headers.get("content-type", "")
        outcome.request_id = "x-request-id" in response.headers
        if size <= HEAD_BYTES and "json" in outcome.content_type:
            _read_codes(outcome, bytes(head))
    return outcome


def _read_codes(outcome: Outcome, body: bytes) -> None:
    try:
        parsed = json.loads(body)
    except ValueError:
        outcome.codes = ["(not JSON)"]
        return
    if not isinstance(parsed, dict):
        return
    outcome.data = parsed.get("data")
    for error in parsed.get("errors") or []:
        code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
        outcome.codes.append(str(code or "(no code)"))


async def graphql(
    client: httpx.AsyncClient,
    url: str,
    token: str,
    query: str,
    variables: dict[str, Any] | None = None,
    timeout: float = CAP_S,
) -> Outcome:
    body = {"query": query, "variables": variables or {}}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return await send(
        client, "POST", f"{url}/graphql", content=encoded(body), headers=headers, timeout=timeout
    )


def client() -> httpx.AsyncClient:
    """A client with room for every concurrent request a case makes (240 cheap queries
    in a minute, for one), so none waits for a connection on the client's side."""
    limits = httpx.Limits(max_connections=500, max_keepalive_connections=50)
    return httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(CAP_S + 5))


async def every(
    interval_s: float, stop: asyncio.Event, probe: Callable[[], Awaitable[Outcome]]
) -> list[Outcome]:
    """Start `probe` every `interval_s` until `stop` is set, each as its own task (a probe
    that hangs does not delay the next); then wait for them, up to the cap. A probe still
    unanswered then counts as waiting since it started, with error "unanswered"."""
    tasks: list[tuple[float, asyncio.Task[Outcome]]] = []
    while not stop.is_set():
        tasks.append((time.perf_counter(), asyncio.create_task(probe())))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
    if tasks:
        await asyncio.wait([task for _, task in tasks], timeout=CAP_S)
    outcomes = []
    for started, task in tasks:
        if task.done():
            outcomes.append(task.result())
        else:
            task.cancel()
            waited = time.perf_counter() - started
            outcomes.append(Outcome(status=None, seconds=waited, error="unanswered"))
    return outcomes


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    """How a series of probes went: counts, success rate, latency p50 and worst, and
    what the failures were."""
    seconds = sorted(outcome.seconds for outcome in outcomes)
    failures: dict[str, int] = {}
    for outcome in outcomes:
        if not outcome.ok:
            what = outcome.error or f"{outcome.status} {','.join(outcome.codes)}".strip()
            failures[what] = failures.get(what, 0) + 1
    return {
        "sent": len(outcomes),
        "ok": sum(outcome.ok for outcome in outcomes),
        "p50_s": seconds[len(seconds) // 2] if seconds else None,
        "worst_s": seconds[-1] if seconds else None,
        "failures": failures,
    }
