"""Payout providers: the local sandbox that is the embedded default, and the EcartPay-style
HTTP provider (gateway.payout_http, imported only when configured)."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from domain.errors import PayoutDeclined
from domain.payouts import PayoutReceipt, PayoutRequest

if TYPE_CHECKING:
    from gateway.payout_http import HttpPayoutProvider
    from gateway.settings import PayoutSettings

# The sandbox declines payouts to accounts named like this, so a demo can show a decline.
SANDBOX_DECLINED_PREFIX = "po_decline"


class SandboxPayoutProvider:
    """Pays instantly, in memory, deduplicating on the payout key like a real provider."""

    name = "sandbox"

    def __init__(self) -> None:
        self._paid: dict[str, PayoutReceipt] = {}
        self._serial = itertools.count(1)

    async def pay(self, request: PayoutRequest) -> PayoutReceipt:
        if request.destination.startswith(SANDBOX_DECLINED_PREFIX):
            raise PayoutDeclined(f"The sandbox declines payouts to {request.destination}.")
        if request.payout_key not in self._paid:
            receipt = PayoutReceipt(self.name, f"sbx_{next(self._serial):08d}", "paid")
            self._paid[request.payout_key] = receipt
        return self._paid[request.payout_key]

    async def close(self) -> None:
        return None


def payout_provider(settings: PayoutSettings) -> SandboxPayoutProvider | HttpPayoutProvider:
    if settings.provider == "http":
        from gateway.payout_http import HttpPayoutProvider

        assert settings.url, "checked by Settings"
        return HttpPayoutProvider(settings.url, api_key=settings.api_key, timeout=settings.timeout)
    return SandboxPayoutProvider()
