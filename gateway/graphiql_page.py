"""The GraphiQL page (GET /graphql from a browser) and the files it loads (/graphiql/...),
all served from the package (gateway/graphiql/): pinned React, GraphiQL and explorer
builds (assets/vendor/, fetched by scripts/graphiql-assets) and PayGraph's own script. Nothing
comes from a CDN, so the page works offline, and its Content-Security-Policy lets it load
nothing from anywhere else."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

GRAPHIQL_DIR = Path(__file__).with_name("graphiql")
# Where the page's relative asset URLs (graphiql/...) point from /graphql, and what is
# served there (the page itself is not: it is served with its headers at /graphql).
ASSETS_PATH = "/graphiql"
ASSETS_DIR = GRAPHIQL_DIR / "assets"

# Same origin only: scripts and styles are files (no inline code), the fonts and the
# favicon are data: URLs inside them, and queries go to this gateway. No framing, no
# <base>, no form posts; no Referer, which would carry a one-click URL's token.
PAGE_HEADERS = {
    "Content-Security-Policy": "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    ),
    "Referrer-Policy": "no-referrer",
}
# The assets' names do not change with their versions: a browser revalidates them (ETag)
# rather than keep a stale copy after an upgrade.
ASSET_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}


def one_click_url(graphql_url: str, headers: dict[str, str]) -> str:
    """The GraphiQL URL that opens with `headers` in its Headers tab (the page reads
    `?headers=`, keeps them and takes them out of the address bar)."""
    return f"{graphql_url}?headers={quote(json.dumps(headers), safe='')}"


def graphiql_page() -> HTMLResponse:
    """The page itself; Strawberry's own loads GraphiQL from a CDN."""
    return HTMLResponse((GRAPHIQL_DIR / "index.html").read_bytes(), headers=PAGE_HEADERS)


class GraphiQLAssets:
    """The page's files, with ASSET_HEADERS, from gateway/graphiql/assets/."""

    def __init__(self) -> None:
        self.files = StaticFiles(directory=ASSETS_DIR)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    *((k.lower().encode(), v.encode()) for k, v in ASSET_HEADERS.items()),
                ]
            await send(message)

        await self.files(scope, receive, sending)
