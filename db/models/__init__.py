"""SQLAlchemy models of the whole domain; importing this registers every table."""

from db.models import list_indexes  # noqa: F401  (declares the list indexes)
from db.models.base import Base
from db.models.credentials import ApiToken
from db.models.operations import AccountingTransaction, IdempotencyKey, Outbox
from db.models.parties import (
    Account,
    Address,
    Company,
    Currency,
    Merchant,
    Partner,
    PaymentMethod,
    Tenant,
    Terminal,
    User,
)
from db.models.payments import (
    FxRate,
    Invoice,
    Payment,
    PaymentDetail,
    PaymentDocument,
    PaymentEvent,
)
from db.models.payouts import PayoutAttempt

__all__ = [
    "Account",
    "AccountingTransaction",
    "Address",
    "ApiToken",
    "Base",
    "Company",
    "Currency",
    "FxRate",
    "IdempotencyKey",
    "Invoice",
    "Merchant",
    "Outbox",
    "Partner",
    "Payment",
    "PaymentDetail",
    "PaymentDocument",
    "PaymentEvent",
    "PaymentMethod",
    "PayoutAttempt",
    "Tenant",
    "Terminal",
    "User",
]
