"""Domain errors. Each carries a stable machine-readable code; the GraphQL edge maps
them to `extensions.code` in one place."""

from __future__ import annotations


class DomainError(Exception):
    """A business outcome the caller can act on. `code` is part of the public contract."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


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


class InvalidState(DomainError):
    """The object is not in a state that allows the action (the documents' 422)."""

    code = "INVALID_STATE"


class PartnerNotFound(NotFound):
    """Document 001's PartnerNotFound."""

    code = "PARTNER_NOT_FOUND"


class InvalidDateRange(BadUserInput):
    """Document 001's InvalidDateRange: a range that ends before it starts."""

    code = "INVALID_DATE_RANGE"


class PaymentDocumentNotFound(NotFound):
    """Document 002's PAYMENT-001: no payment has this document number."""

    code = "PAYMENT-001"


class PaymentMethodNotFound(NotFound):
    """Document 002's PAYMENT-002: no payment method has this id."""

    code = "PAYMENT-002"


class PaymentCurrencyMismatch(BadUserInput):
    """Document 002's PAYMENT-003: the given currency is not the payment's."""

    code = "PAYMENT-003"


class UnknownCurrency(BadUserInput):
    def __init__(self, code: str) -> None:
        super().__init__(f"Unknown ISO 4217 currency {code!r}.", field="currency")


class CurrencyMismatch(BadUserInput):
    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"Cannot combine amounts in {left} and {right}.", field="currency")
