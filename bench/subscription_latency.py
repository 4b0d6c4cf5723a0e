"""Commit-to-delivery latency of live subscriptions across two instances.

Two `paygraph serve` processes over one PostgreSQL database (LISTEN/NOTIFY between
them), `--subscribers` websocket clients split between the two, each following
`paymentChanged`, and `--changes` invoice payment changes made one after another through
the instances in turn. For every change and subscriber, the delivery's arrival is
measured against the change's HTTP answer (the commit happened before it: a lower
bound) and against its request's start (the commit happened after it: an upper bound).

    .venv/bin/python bench/subscription_latency.py postgresql://postgres@127.0.0.1/latency

The database is created, migrated and given demo data when it has none. Prints p50,
p99 and max of both measures in milliseconds, as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import AsyncExitStack, ExitStack
from typing import Any

import httpx

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))

from bench.servers import PAYGRAPH, serving
from tests.live_client import LiveClient, live_client

CHANGED = "subscription { paymentChanged { databaseId description } }"
PAYMENTS = """query {
  payments(first: 50, filter: {kind: {eq: INVOICE}, status: {eq: RECORDED}}) {
    nodes { databaseId }
  }
}"""
UPDATE = """mutation($id: ID!, $input: UpdatePaymentInput!) {
  updatePayment(id: $id, input: $input) { success }
}"""


def prepared(database_url: str) -> None:
    """Migrated, with demo data unless it has some (`paygraph demo` refuses then)."""
    env = {"DATABASE_URL": database_url, "PATH": ""}
    subprocess.run([PAYGRAPH, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([PAYGRAPH, "demo", "--payments", "2000"], env=env, capture_output=True)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "p50": round(cut[49] * 1000, 2),
        "p99": round(cut[98] * 1000, 2),
        "max": round(ordered[-1] * 1000, 2),
    }


async def follow(
    client: LiveClient, operation: str, arrivals: dict[str, float], expected: int
) -> None:
    """Record when each change's delivery arrives, until `expected` have."""
    while len(arrivals) < expected:
        message = await client.next(operation, timeout=60)
        payment = message["payload"]["data"]["paymentChanged"]
        arrivals.setdefault(payment["description"], time.perf_counter())


async def measure(urls: list[str], token: str, changes: int, subscribers: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as http, AsyncExitStack() as stack:
        listed = (await http.post(f"{urls[0]}/graphql", json={"query": PAYMENTS})).json()
        payments = [node["databaseId"] for node in listed["data"]["payments"]["nodes"]]
        clients = [
            await stack.enter_async_context(live_client(f"{urls[n % 2]}/graphql", headers))
            for n in range(subscribers)
        ]
        operations = [await client.subscribe(CHANGED) for client in clients]
        await asyncio.sleep(1)
        arrivals: list[dict[str, float]] = [{} for _ in clients]
        followers = [
            asyncio.create_task(follow(client, operation, seen, changes))
            for client, operation, seen in zip(clients, operations, arrivals, strict=True)
        ]
        started: dict[str, float] = {}
        answered: dict[str, float] = {}
        for n in range(changes):
            description = f"latency {n} {time.time_ns()}"
            variables = {
                "id": str(payments[n % len(payments)]),
                "input": {"description": description},
            }
            started[description] = time.perf_counter()
            answer = await http.post(
                f"{urls[n % 2]}/graphql", json={"query": UPDATE, "variables": variables}
            )
            answered[description] = time.perf_counter()
            assert answer.json()["data"]["updatePayment"]["success"], answer.text
        await asyncio.wait_for(asyncio.gather(*followers), timeout=120)
    after_answer = [seen[d] - answered[d] for seen in arrivals for d in answered]
    after_start = [seen[d] - started[d] for seen in arrivals for d in started]
    return {
        "changes": changes,
        "subscribers": subscribers,
        "instances": 2,
        "deliveries": len(after_answer),
        "after_http_answer_ms": percentiles(after_answer),
        "after_request_start_ms": percentiles(after_start),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url", help="a PostgreSQL URL (created when missing)")
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--subscribers", type=int, default=100)
    arguments = parser.parse_args()
    prepared(arguments.database_url)
    # Every subscriber holds the one token `serving` mints: its cap would stop them.
    os.environ.setdefault("PAYGRAPH_SUBSCRIPTION_CONNECTIONS_PER_CREDENTIAL", "10000")
    with ExitStack() as stack:
        servers = [stack.enter_context(serving(arguments.database_url)) for _ in range(2)]
        report = asyncio.run(
            measure(
                [s.url for s in servers],
                servers[0].token,
                arguments.changes,
                arguments.subscribers,
            )
        )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
