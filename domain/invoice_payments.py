"""The invoice payments API's rules for payments recorded against invoices, as pure functions: what
a create, change, delete or authorization writes, or every field that is wrong.

- A payment needs an invoice that takes payments (not a draft, not void).
- Its amount is an integer number of minor units greater than 0.
- Its currency is the invoice's, or the amount is converted into the invoice's currency
  at the FX rate effective on the payment date; without a direct rate, through the
  tenant's base currency in two legs (domain.fx). The entered amount and currency and
  the rates stay on the payment (`original_amount`, `original_currency`, `fx_rate_id`,
  and for a second leg `fx_rate_from_base_id`).
- It may not take the invoice's paid amount above its total.
- Each booking is a balanced posting: cash in, receivables down, and across currencies a
  conversion account that balances each currency on its own. A change reverses the
  previous posting and books the new one; a deletion only reverses.
- The invoice's paid amount is the sum of its live payments and its status follows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum

from domain import entities as e
from domain.currencies import ISO_4217
from domain.errors import InvalidState, NotFound, ValidationFailed
from domain.fx import Conversion, Leg, Route, convert_along, units_along
from domain.ledger import LedgerLine, Posting, transfer
from domain.money import MAX_MINOR_UNITS, Money
from domain.outcomes import Actor, Outcome
from domain.statuses import InvoiceStatus, LedgerDirection, PaymentKind, PaymentStatus

S = PaymentStatus
CASH = "cash"
RECEIVABLES = "receivables"
FX_CONVERSION = "fx_conversion"  # balances each currency of a converted payment
MAX_TEXT = 2000
MAX_REFERENCE = 128
PAYABLE = frozenset({InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID})


class InvoicePaymentAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    AUTHORIZE = "authorize"


@dataclass(frozen=True, slots=True)
class PaymentInput:
    """A create or change as sent; None means not given (a change keeps the value)."""

    invoice_id: int | None = None
    amount: int | None = None
    currency: str | None = None
    payment_method_id: int | None = None
    sender_id: int | None = None
    receiver_id: int | None = None
    payment_date: date | None = None
    sent_at: datetime | None = None
    received_at: datetime | None = None
    reference: str | None = None
    description: str | None = None
    authorized: bool | None = None

    def arguments(self) -> dict[str, object]:
        """For the idempotency fingerprint: every field, dates as ISO text."""
        values: dict[str, object] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            values[item.name] = value.isoformat() if isinstance(value, date) else value
        return values


@dataclass(slots=True)
class Problems:
    """The invoice payments API's 422 body: `{field: [messages]}`, in the order found."""

    prefix: str
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, name: str, message: str, *, absolute: bool = False) -> None:
        self.errors[name if absolute else f"{self.prefix}{name}"].append(message)

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationFailed(dict(self.errors))


@dataclass(frozen=True, slots=True)
class References:
    """Which referenced rows exist in the tenant (None: not given)."""

    payment_method: e.PaymentMethod | None = None
    sender: e.Address | None = None
    receiver: e.Address | None = None


@dataclass(frozen=True, slots=True)
class Booking:
    """What a payment books: the amount in the invoice's currency and, when converted,
    the amount as entered and the rates of the conversion's legs."""

    amount: Money
    conversion: Conversion | None = None

    @property
    def entered(self) -> Money:
        return self.conversion.original if self.conversion else self.amount

    def values(self) -> dict[str, object]:
        conversion = self.conversion
        rate_ids = conversion.rate_ids if conversion else ()
        return {
            "amount": self.amount.amount,
            "currency": self.amount.currency,
            "original_amount": conversion.original.amount if conversion else None,
            "original_currency": conversion.original.currency if conversion else None,
            "fx_rate_id": rate_ids[0] if rate_ids else None,
            "fx_rate_from_base_id": rate_ids[1] if len(rate_ids) > 1 else None,
        }


def booking_of(payment: e.Payment) -> Booking:
    """The booking a stored payment made (its rates are only needed by id, and the base
    currency in between not at all)."""
    original = payment.original
    if original is None or payment.fx_rate_id is None:
        return Booking(payment.requested)
    ids = [payment.fx_rate_id]
    if payment.fx_rate_from_base_id is not None:
        ids.append(payment.fx_rate_from_base_id)
    legs = tuple(
        Leg("", "", e.FxRate(rate_id, payment.tenant_id, "", "", 1, 0, date.min, datetime.min))
        for rate_id in ids
    )
    return Booking(payment.requested, Conversion(original, payment.requested, legs))


def posting_of(booking: Booking, description: str) -> Posting:
    """Cash in, receivables down; a converted payment passes through the conversion
    account so that each currency balances on its own."""
    conversion = booking.conversion
    if conversion is None:
        return transfer(booking.amount, debit=CASH, credit=RECEIVABLES, description=description)
    debit, credit = LedgerDirection.DEBIT, LedgerDirection.CREDIT
    return Posting(
        (
            LedgerLine(CASH, debit, conversion.original),
            LedgerLine(FX_CONVERSION, credit, conversion.original),
            LedgerLine(FX_CONVERSION, debit, booking.amount),
            LedgerLine(RECEIVABLES, credit, booking.amount),
        ),
        description,
    )


def invoice_after(invoice: e.Invoice, paid: int) -> dict[str, object]:
    """The invoice's paid amount and status once its live payments sum to `paid`."""
    if paid <= 0:
        status = InvoiceStatus.OPEN
    elif paid < invoice.total_amount:
        status = InvoiceStatus.PARTIALLY_PAID
    else:
        status = InvoiceStatus.PAID
    return {"paid_amount": paid, "status": status}


# --- checks --------------------------------------------------------------------------


def check_invoice(
    invoice: e.Invoice | None, given: int | None, problems: Problems, name: str
) -> None:
    if given is None:
        problems.add(name, "can't be blank", absolute=True)
    elif invoice is None:
        problems.add(name, "does not exist", absolute=True)
    elif invoice.status not in PAYABLE:
        problems.add(name, f"is {invoice.status.value} and takes no payments", absolute=True)


def check_fields(
    data: PaymentInput, refs: References, problems: Problems, *, creating: bool
) -> None:
    """Every field's own rule, collecting all problems."""
    if data.amount is None:
        if creating:
            problems.add("amount", "can't be blank")
    elif not valid_amount(data.amount):
        problems.add("amount", "must be greater than 0" if data.amount <= 0 else "is too large")
    for name, given, found in (
        ("paymentMethodId", data.payment_method_id, refs.payment_method),
        ("senderId", data.sender_id, refs.sender),
        ("receiverId", data.receiver_id, refs.receiver),
    ):
        if given is not None and found is None:
            problems.add(name, "does not exist")
    for name, text, limit in (
        ("reference", data.reference, MAX_REFERENCE),
        ("description", data.description, MAX_TEXT),
    ):
        if text is not None and len(text.strip()) > limit:
            problems.add(name, f"is too long (at most {limit} characters)")
    if data.sent_at and data.received_at and data.received_at < data.sent_at:
        problems.add("receivedAt", "must not be before sentAt")


def valid_amount(amount: int | None) -> bool:
    return type(amount) is int and 0 < amount <= MAX_MINOR_UNITS


def currency_of(given: str | None, default: str | None, problems: Problems) -> str | None:
    """The entered currency, upper-cased; None when unknown (a problem then) or when
    neither is known."""
    if given is None and default is None:
        return None
    code = (given if given is not None else default or "").strip().upper()
    if code not in ISO_4217:
        problems.add("currency", f"{code!r} is not an ISO 4217 currency")
        return None
    return code


def book(
    amount: int,
    currency: str,
    invoice: e.Invoice,
    route: Route | None,
    on: date,
    problems: Problems,
) -> Booking | None:
    """The booking of `amount` `currency` against the invoice, converted along `route`
    (None: the currencies are the same), or None with problems."""
    entered = Money(amount, currency)
    if currency == invoice.currency:
        return Booking(entered)
    if route is None or not route.legs:
        message = f"has no FX rate to {invoice.currency} effective on or before {on.isoformat()}"
        if route is not None and route.via is not None:
            pairs = " nor ".join(f"from {source} to {target}" for source, target in route.missing)
            message += f", directly or through {route.via} (none {pairs})"
        problems.add("currency", message)
        return None
    conversion = convert_along(entered, route.legs)
    if conversion.converted.amount <= 0:
        problems.add("amount", f"is less than one minor unit of {invoice.currency} once converted")
        return None
    return Booking(conversion.converted, conversion)


def check_room(invoice: e.Invoice, already_paid: int, booking: Booking, problems: Problems) -> None:
    """The invoice's paid amount may not pass its total."""
    room = invoice.total_amount - already_paid
    if booking.amount.amount > room:
        outstanding = Money(max(room, 0), invoice.currency).format()
        problems.add("amount", f"exceeds the invoice's outstanding amount ({outstanding})")


# --- outcomes ------------------------------------------------------------------------


def _texts(data: PaymentInput) -> dict[str, object]:
    values: dict[str, object] = {}
    for name in ("reference", "description"):
        text = getattr(data, name)
        if text is not None:
            values[name] = text.strip() or None
    return values


def new_payment_values(
    invoice: e.Invoice, data: PaymentInput, booking: Booking, on: date, now: datetime, actor: Actor
) -> dict[str, object]:
    """The row of a new payment. Sender and receiver default to the invoice's billed
    address (the payer) and its issuer (the payee)."""
    values: dict[str, object] = {
        "tenant_id": invoice.tenant_id,
        "kind": PaymentKind.INVOICE,
        "status": S.RECORDED,
        "invoice_id": invoice.id,
        "company_id": invoice.company_id,
        "account_id": invoice.account_id,
        "sender_id": data.sender_id if data.sender_id is not None else invoice.receiver_id,
        "receiver_id": data.receiver_id if data.receiver_id is not None else invoice.sender_id,
        "payment_method_id": data.payment_method_id,
        "payment_date": on,
        "sent_at": data.sent_at,
        "received_at": data.received_at,
        "authorized": bool(data.authorized),
        "authorized_by_id": actor.user_id if data.authorized else None,
        "authorized_at": now if data.authorized else None,
        "created_at": now,
        "updated_at": now,
        **booking.values(),
        **_texts(data),
    }
    return values


def _describe(booking: Booking, invoice: e.Invoice) -> str:
    text = f"{booking.amount.format()} against invoice {invoice.number}"
    conversion = booking.conversion
    if conversion is not None:
        text += f", converted from {booking.entered.format()} at {_rate(conversion.legs)}"
        if len(conversion.legs) > 1:
            text += f" through {conversion.legs[0].target}: " + " then ".join(
                f"{leg.source}->{leg.target} {_rate((leg,))}" for leg in conversion.legs
            )
    return text


def _rate(legs: tuple[Leg, ...]) -> str:
    """`5417/5000 (FX rate 5)`: the exact factor and the stored rates it came from."""
    factor = units_along(legs)
    ids = ", ".join(str(leg.rate.id) for leg in legs)
    return f"{factor.numerator}/{factor.denominator} (FX rate{'s' if len(legs) > 1 else ''} {ids})"


def created(invoice: e.Invoice, booking: Booking, data: PaymentInput) -> Outcome:
    description = f"Payment of {_describe(booking, invoice)}"
    comments = "recorded " + _describe(booking, invoice)
    if data.authorized:
        comments += "; authorized"
    return Outcome(
        InvoicePaymentAction.CREATE,
        None,
        S.RECORDED,
        {},
        comments=comments,
        posting=posting_of(booking, description),
    )


def require_live(payment: e.Payment | None, payment_id: int) -> e.Payment:
    if payment is None or payment.kind is not PaymentKind.INVOICE:
        raise NotFound(f"No invoice payment has the ID {payment_id}.", field="id")
    if payment.status is not S.RECORDED:
        raise InvalidState(
            f"Payment {payment.id} is {payment.status.value}; it can no longer change.",
            status=payment.status.value,
            reason="WRONG_STATUS",
        )
    return payment


def changed(
    payment: e.Payment,
    invoice: e.Invoice,
    data: PaymentInput,
    booking: Booking,
    on: date,
) -> Outcome | None:
    """A change: the new values and, when the booking moved, the previous posting
    reversed and the new one booked; a booking change clears the authorization. None
    when nothing would change."""
    values: dict[str, object] = {"payment_date": on, **_texts(data)}
    for name in ("payment_method_id", "sender_id", "receiver_id", "sent_at", "received_at"):
        given = getattr(data, name)
        if given is not None:
            values[name] = given
    before = booking_of(payment)
    moved = booking.values() != before.values()
    notes = []
    reversal = posting = None
    if moved:
        values.update(booking.values())
        reversal = posting_of(before, f"Reversal: payment {payment.id} changed").reversed(
            f"Reversal of payment {payment.id} ({before.amount.format()})"
        )
        posting = posting_of(booking, f"Payment of {_describe(booking, invoice)}")
        notes.append(f"rebooked {before.amount.format()} as {_describe(booking, invoice)}")
        if payment.authorized:
            values.update(authorized=False, authorized_by_id=None, authorized_at=None)
            notes.append("authorization cleared")
    changed_names = sorted(
        name for name, value in values.items() if getattr(payment, name, value) != value
    )
    if not changed_names:
        return None
    if not moved:
        notes.append("changed " + ", ".join(changed_names))
    return Outcome(
        InvoicePaymentAction.UPDATE,
        payment.status,
        S.RECORDED,
        values,
        comments="; ".join(notes),
        posting=posting,
        reversal=reversal,
    )


def deleted(payment: e.Payment, now: datetime) -> Outcome:
    before = booking_of(payment)
    return Outcome(
        InvoicePaymentAction.DELETE,
        payment.status,
        S.DELETED,
        {"status": S.DELETED, "deleted_at": now},
        comments=f"deleted; {before.amount.format()} reversed",
        reversal=posting_of(before, "").reversed(
            f"Reversal of deleted payment {payment.id} ({before.amount.format()})"
        ),
    )


def authorized(payment: e.Payment, actor: Actor, now: datetime) -> Outcome:
    if payment.authorized:
        raise InvalidState(
            f"Payment {payment.id} is already authorized.",
            status=payment.status.value,
            reason="ALREADY_AUTHORIZED",
        )
    return Outcome(
        InvoicePaymentAction.AUTHORIZE,
        payment.status,
        payment.status,
        {"authorized": True, "authorized_by_id": actor.user_id, "authorized_at": now},
        comments=f"authorized by {actor.label}",
    )


def entered_values(payment: e.Payment, data: PaymentInput) -> tuple[int, str | None, date | None]:
    """Amount, currency and date a change books: the given ones, else as entered."""
    entered = booking_of(payment).entered
    amount = data.amount if data.amount is not None else entered.amount
    currency = data.currency if data.currency is not None else entered.currency
    return amount, currency, data.payment_date or payment.payment_date
