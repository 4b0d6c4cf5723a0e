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


class UnknownCurrency(BadUserInput):
    def __init__(self, code: str) -> None:
        super().__init__(f"Unknown ISO 4217 currency {code!r}.", field="currency")


class CurrencyMismatch(BadUserInput):
    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"Cannot combine amounts in {left} and {right}.", field="currency")
