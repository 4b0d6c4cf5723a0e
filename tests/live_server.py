"""An ASGI app served for real by uvicorn inside the test's own event loop, so it can use
the test's engine: real HTTP in and out, no subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, *, timeout: float = 10) -> AsyncIterator[str]:
    """Serve `app` on a free loopback port; yields its base URL, stops it after."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            lifespan="off",
            ws="none",
            log_level="warning",
            access_log=False,
            proxy_headers=False,  # as `paygraph serve`
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            async with asyncio.timeout(timeout):
                while not server.started:
                    if task.done():
                        task.result()  # raises what stopped it
                        raise RuntimeError("uvicorn stopped before it started")
                    await asyncio.sleep(0.01)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            await task


async def close_app_pools(app: Starlette) -> None:
    """Close the pools `create_app` opened beside the engine it was given (the exports'
    engine, and the write engine on SQLite): its lifespan would, but `serving` runs
    none."""
    for name in ("write_engine", "export_engine"):
        own = getattr(app.state, name, None)
        if own is not None and own is not app.state.engine:
            await own.dispose()
