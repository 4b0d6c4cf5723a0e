"""A streamed response whose every send has a deadline.

uvicorn's `send` waits while the client's socket is full, so a client that stops reading
holds whatever produces the stream (for an export, a server-side cursor and its pool
connection) for as long as it likes. Here each send, the first included, may wait at
most `send_timeout` seconds; past it the stream is given up: the chunk source is closed
(which closes the cursor and returns the connection), `on_close` runs and the response
ends incomplete, so uvicorn closes the connection and the client cannot take what it got
for a whole file. A client that disconnects ends the stream the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable, Mapping

from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

logger = logging.getLogger("paygraph.exports")
BODY = "http.response.body"


class BoundedStreamingResponse(StreamingResponse):
    def __init__(
        self,
        chunks: AsyncGenerator[bytes, None],
        *,
        send_timeout: float,
        on_close: Callable[[], None],
        media_type: str,
        headers: Mapping[str, str],
        label: str,
    ) -> None:
        super().__init__(chunks, media_type=media_type, headers=headers)
        self.chunks = chunks
        self.send_timeout = send_timeout
        self.on_close = on_close
        self.label = label  # names the stream in the log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        streaming = asyncio.ensure_future(self._stream(send))
        disconnected = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait({streaming, disconnected}, return_when=asyncio.FIRST_COMPLETED)
            if disconnected.done() and not streaming.done():
                logger.info("%s: the client went away; stream stopped", self.label)
        finally:
            for task in (streaming, disconnected):
                task.cancel()
            await asyncio.gather(streaming, disconnected, return_exceptions=True)
            self.on_close()
        error = None if streaming.cancelled() else streaming.exception()
        if error is not None:
            raise error  # a failure mid-stream: uvicorn drops the connection

    async def _stream(self, send: Send) -> None:
        start = {"type": "http.response.start", "status": self.status_code}
        try:
            await self._send(send, {**start, "headers": self.raw_headers})
            async for chunk in self.chunks:
                await self._send(send, {"type": BODY, "body": chunk, "more_body": True})
            await self._send(send, {"type": BODY, "body": b"", "more_body": False})
        except TimeoutError:
            logger.warning(
                "%s: the client read nothing for %g s; stream cut off",
                self.label,
                self.send_timeout,
            )
        finally:
            # At once, not when the generator is collected: closing it runs the cursor's
            # and the connection's own clean-up.
            await self.chunks.aclose()

    async def _send(self, send: Send, message: Message) -> None:
        async with asyncio.timeout(self.send_timeout):
            await send(message)


async def _disconnected(receive: Receive) -> None:
    """Returns once the client has gone (the request body was read before)."""
    while (await receive())["type"] != "http.disconnect":
        pass
