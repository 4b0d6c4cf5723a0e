"""Real local receivers for outbox notifications: a Slack-style webhook endpoint (an HTTP
server in a thread) and an SMTP server (aiosmtpd on the test's event loop). Both listen
on 127.0.0.1 only and record what they accept."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


@contextlib.contextmanager
def serving_in_thread(server: Any, name: str) -> Iterator[None]:
    """Run a stdlib HTTP server's loop in a thread until the block ends, then stop it and
    close its socket."""
    # A short poll interval: shutdown() waits up to one for the serving loop to notice.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, name=name, daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def free_port() -> int:
    """A port nothing listens on (until someone binds it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class WebhookRequest:
    path: str
    content_type: str
    body: Any
    answered: int


@dataclass
class SlackReceiver:
    """Answers every POST with `status` after `delay` seconds and records it."""

    url: str = ""
    status: int = 200
    delay: float = 0.0
    requests: list[WebhookRequest] = field(default_factory=list)

    def accepted(self, marker: str) -> list[Any]:
        """The bodies answered 2xx whose `text` mentions `marker`."""
        return [
            request.body
            for request in self.requests
            if request.answered < 300 and marker in str(request.body.get("text"))
        ]


@contextlib.contextmanager
def slack_receiver() -> Iterator[SlackReceiver]:
    receiver = SlackReceiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            time.sleep(receiver.delay)
            status = receiver.status
            with lock:
                receiver.requests.append(
                    WebhookRequest(self.path, self.headers["Content-Type"], body, status)
                )
            answer = b"ok" if status < 300 else b"internal_error"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/services/T0/B0/secret"
    with serving_in_thread(server, "slack-receiver"):
        yield receiver


@dataclass
class MailReceiver:
    """An aiosmtpd handler that accepts every message."""

    port: int = 0
    envelopes: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self, marker: str) -> list[EmailMessage]:
        """The accepted messages whose subject mentions `marker`."""
        parsed = [
            # Lines end in CRLF on the wire; "\n" in Python strings.
            message_from_bytes(content.replace(b"\r\n", b"\n"), policy=policy.default)
            for envelope in self.envelopes
            if isinstance(content := envelope.content, bytes)
        ]
        return [m for m in parsed if isinstance(m, EmailMessage) and marker in m["Subject"]]


@contextlib.asynccontextmanager
async def mail_receiver(port: int = 0) -> AsyncIterator[MailReceiver]:
    receiver = MailReceiver()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(receiver, hostname="mx.paygraph.test"), "127.0.0.1", port
    )
    receiver.port = int(server.sockets[0].getsockname()[1])
    try:
        yield receiver
    finally:
        server.close()
        await server.wait_closed()
