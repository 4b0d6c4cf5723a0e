"""Quick start (a): `paygraph serve --demo` on a fresh SQLite file creates and migrates
it, loads demo data, and prints a token that works against the printed URL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.e2e.server import query, running_server

ROOT = Path(__file__).resolve().parents[2]


async def test_serve_demo_prints_a_working_graphiql_url_and_token(tmp_path: Path) -> None:
    database = tmp_path / "fresh" / "paygraph.db"  # the folder does not exist yet
    # A fresh interpreter, not one forked from the tests' zygote: the quick start as a
    # user runs it, from the first import on.
    with running_server(
        f"sqlite:///{database}", "--demo", "--demo-payments", "200", timeout=120, fresh=True
    ) as server:
        printed = []
        while not any("Authorization" in line for line in printed):
            printed.append(server.next_line())
        banner = "".join(printed)
        assert re.search(rf"GraphiQL: {re.escape(server.graphql_url)}", banner)
        header = json.loads(printed[-1])
        token = header["Authorization"].removeprefix("Bearer ")
        one_click = server.next_line()
        assert one_click.startswith(
            f"GraphiQL with these headers, one click: {server.graphql_url}?"
        )
        opened_with = parse_qs(urlsplit(one_click.split(": ", 1)[1].strip()).query)
        assert json.loads(opened_with["headers"][0]) == header

        data = await query(
            server, token, "{ viewer { tenant { slug } } payments(first: 5) { totalCount } }"
        )

    assert data["viewer"]["tenant"]["slug"] == "acme"
    assert data["payments"]["totalCount"] > 0
    assert database.exists()


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.count("\nFROM ") + dockerfile.startswith("FROM ") >= 2
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", dockerfile, re.MULTILINE)
    assert 'CMD ["paygraph", "serve"]' in dockerfile
