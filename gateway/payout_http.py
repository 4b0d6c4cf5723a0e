"""The EcartPay-style HTTP payout provider (PAYGRAPH_PAYOUT_PROVIDER=http), in a module of
its own so that its HTTP client is imported only where it is configured.

The HTTP provider POSTs `{base}/payouts` with the payout as JSON and the payout key as
the `Idempotency-Key` header, which the provider uses to deduplicate: the same key
returns the first payout instead of paying again. Its answers:

- 2xx with `{"id", "status"}`: paid.
- 402 or 422: declined for good (`{"message"}` or `{"reason"}` says why): PAYOUT_DECLINED.
- any other 4xx but 408, 409, 425 and 429: refused, so it made no payout under the key
  (PayoutRefused, PAYOUT_FAILED).
- any other status, a refused connection or a malformed body: PAYOUT_FAILED, and no
  answer within the timeout: PAYOUT_TIMEOUT. Neither says whether it paid: the payout
  stays in progress until the provider is asked again (domain.commission_payouts).
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from domain.errors import PayoutDeclined, PayoutFailed, PayoutRefused, PayoutTimedOut
from domain.payouts import PayoutReceipt, PayoutRequest

logger = logging.getLogger("paygraph.payouts")

DECLINED_STATUSES = frozenset({402, 422})
# Client errors that do not mean "no payout": a timeout, a request with this key still
# running, too early, too many requests. Asked again later.
UNSETTLED_CLIENT_ERRORS = frozenset({408, 409, 425, 429})


class HttpPayoutProvider:
    name = "ecartpay"

    def __init__(self, url: str, *, api_key: str | None = None, timeout: float = 10.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._url = url.rstrip("/") + "/payouts"
        self._client = httpx.AsyncClient(timeout=timeout, headers=headers)

    async def pay(self, request: PayoutRequest) -> PayoutReceipt:
        body = {
            "amount": request.amount.amount,
            "currency": request.amount.currency,
            "destination": request.destination,
            "reference": request.reference,
            "description": request.description,
        }
        try:
            response = await self._client.post(
                self._url, json=body, headers={"Idempotency-Key": request.payout_key}
            )
        except httpx.TimeoutException as error:
            logger.warning("payout %s timed out: %r", request.payout_key, error)
            raise PayoutTimedOut("The payout provider did not answer in time.") from error
        except httpx.HTTPError as error:
            logger.warning("payout %s failed: %r", request.payout_key, error)
            raise PayoutFailed("The payout provider could not be reached.") from error
        return self._receipt(request, response)

    def _receipt(self, request: PayoutRequest, response: httpx.Response) -> PayoutReceipt:
        answer = _json(response)
        if response.status_code in DECLINED_STATUSES:
            reason = answer.get("message") or answer.get("reason") or "no reason given"
            raise PayoutDeclined(f"The payout provider declined the payout: {reason}")
        if not response.is_success:
            logger.warning(
                "payout %s: provider answered %s: %s",
                request.payout_key,
                response.status_code,
                response.text[:500],
            )
            if response.is_client_error and response.status_code not in UNSETTLED_CLIENT_ERRORS:
                raise PayoutRefused(
                    f"The payout provider refused the payout ({response.status_code})."
                )
            raise PayoutFailed(f"The payout provider answered {response.status_code}.")
        payout_id = answer.get("id")
        if not isinstance(payout_id, str | int) or not str(payout_id):
            raise PayoutFailed("The payout provider's answer had no payout id.")
        return PayoutReceipt(self.name, str(payout_id), str(answer.get("status") or "paid"))

    async def close(self) -> None:
        await self._client.aclose()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        parsed = response.json()
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
