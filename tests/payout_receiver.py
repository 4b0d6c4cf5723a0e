"""A real local payout provider in the EcartPay style, for tests: POST /payouts with an
Idempotency-Key pays once per key and answers the same payout for every repeat. It can
be told to fail (500), to refuse (400), to decline (422), to answer too late, or to hold
its answer until the test lets it go."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.receivers import serving_in_thread


@dataclass
class PayoutReceiver:
    url: str = ""
    mode: str = "ok"  # ok | error | refuse | decline | slow | hold
    slow_seconds: float = 2.0
    # "hold": the payout is made, then the answer waits until `release` is set (or 60 s).
    release: threading.Event = field(default_factory=threading.Event)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    payouts: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> payout

    def calls_for(self, key_prefix: str) -> int:
        return sum(1 for key, _ in self.calls if key.startswith(key_prefix))

    def payouts_for(self, key_prefix: str) -> int:
        """Payouts actually made (one per payout key), as opposed to calls."""
        return sum(1 for key in self.payouts if key.startswith(key_prefix))


@contextlib.contextmanager
def payout_receiver() -> Iterator[PayoutReceiver]:
    receiver = PayoutReceiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = self.headers.get("Idempotency-Key", "")
            with lock:
                receiver.calls.append((key, body))
                mode = receiver.mode
            if mode == "error":
                return self._answer(500, {"message": "upstream bank unavailable"})
            if mode == "decline":
                return self._answer(422, {"message": "destination account is closed"})
            if mode == "refuse":
                return self._answer(400, {"message": "unknown destination format"})
            with lock:
                # The payout happens whether or not the caller waits for the answer.
                payout = receiver.payouts.setdefault(
                    key, {"id": f"ecp_{len(receiver.payouts) + 1:06d}", "status": "paid", **body}
                )
            if mode == "slow":
                time.sleep(receiver.slow_seconds)
            if mode == "hold":
                receiver.release.wait(timeout=60)
            self._answer(201, {"id": payout["id"], "status": "paid"})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the caller gave up waiting (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    with serving_in_thread(server, "payout-receiver"):
        try:
            yield receiver
        finally:
            receiver.release.set()  # no handler thread is left holding an answer
