"""Domain errors. Each carries a stable machine-readable code; the GraphQL edge maps
them to `extensions.code` in one place."""

from __future__ import annotations


class DomainError(Exception):
    """A business outcome the caller can act on. `code` is part of the public contract."""

    code = "BAD_USER_INPUT"

    def __init__(
        self, message: str, *, field: str | None = None, reason: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.reason = reason  # which rule refused, where the code alone does not say

    def extensions(self) -> dict[str, object]:
        """Machine-readable details beyond the code, shown in `extensions`."""
        details: dict[str, object] = {"field": self.field} if self.field else {}
        if self.reason:
            details["reason"] = self.reason
        return details


class BadUserInput(DomainError):
    code = "BAD_USER_INPUT"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class PageSizeTooLarge(DomainError):
    code = "PAGE_SIZE_TOO_LARGE"


class AmountOutOfRange(DomainError):
    """A measured amount (a sum of many payments) beyond the signed 64 bits of BigInt."""

    code = "AMOUNT_OUT_OF_RANGE"


class InvalidState(DomainError):
    """The object is not in a state that allows the action (the REST APIs' 422).
    `status` names the current status; `reason` says which rule refused."""

    code = "INVALID_STATE"

    def __init__(
        self,
        message: str,
        *,
        status: str | None = None,
        reason: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, field=field, reason=reason)
        self.status = status

    def extensions(self) -> dict[str, object]:
        details = super().extensions()
        if self.status:
            details["status"] = self.status
        return details


class PartnerNotFound(NotFound):
    """The partner portfolio API's PartnerNotFound."""

    code = "PARTNER_NOT_FOUND"


class InvalidDateRange(BadUserInput):
    """The partner portfolio API's InvalidDateRange: a range that ends before it starts."""

    code = "INVALID_DATE_RANGE"


class PaymentDocumentNotFound(NotFound):
    """The reseller completion API's PAYMENT-001: no payment has this document number."""

    code = "PAYMENT-001"


class PaymentMethodNotFound(NotFound):
    """The reseller completion API's PAYMENT-002: no payment method has this id."""

    code = "PAYMENT-002"


class PaymentCurrencyMismatch(BadUserInput):
    """The reseller completion API's PAYMENT-003: the given currency is not the payment's."""

    code = "PAYMENT-003"


class UnknownCurrency(BadUserInput):
    def __init__(self, code: str) -> None:
        super().__init__(f"Unknown ISO 4217 currency {code!r}.", field="currency")


class CurrencyMismatch(BadUserInput):
    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"Cannot combine amounts in {left} and {right}.", field="currency")


class IdempotencyKeyReused(BadUserInput):
    """The key was used before with a different operation, input or caller."""

    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyKeyInUse(DomainError):
    """Another request with this key is still running; retry after it finishes."""

    code = "IDEMPOTENCY_KEY_IN_USE"


class PayoutFailed(DomainError):
    """The payout provider answered with an error, or could not be reached, so whether it
    paid is not known: the payout stays in progress until it is asked again."""

    code = "PAYOUT_FAILED"


class PayoutRefused(PayoutFailed):
    """The payout provider answered that it made no payout under the payout key (a client
    error other than a decline): the payment is approved for payment again."""


class PayoutTimedOut(PayoutFailed):
    """The payout provider did not answer in time, so whether it paid is not known.
    Retrying with the same idempotency key asks it again under the same payout key, which
    it deduplicates."""

    code = "PAYOUT_TIMEOUT"


class PayoutDeclined(DomainError):
    """The payout provider refused the payout for good (e.g. a closed account)."""

    code = "PAYOUT_DECLINED"


class NotRecorded(DomainError):
    """The change could not be committed; retrying with the same idempotency key is safe."""

    code = "TRANSACTION_FAILED"


class RequestTimedOut(DomainError):
    """The request ran past its deadline, or a statement past the database's statement
    timeout; what it had not committed was rolled back. Ask for less, or retry a
    mutation with the same idempotency key."""

    code = "REQUEST_TIMEOUT"


class PaymentTotalMismatch(BadUserInput):
    """Completing a reseller payment with a `total` other than the payment's."""

    code = "PAYMENT_TOTAL_MISMATCH"


class ValidationFailed(DomainError):
    """The invoice payments API's 422: every invalid field with its messages, `{field: [messages]}`
    in `extensions.errors`, keyed by the argument path (`input.amount`)."""

    code = "VALIDATION_FAILED"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        fields = ", ".join(f"{name} {'; '.join(texts)}" for name, texts in errors.items())
        super().__init__(f"Validation failed: {fields}.", field=next(iter(errors), None))
        self.errors = errors

    def extensions(self) -> dict[str, object]:
        return {**super().extensions(), "errors": self.errors}
