"""Document 002's completion and expiry rules, as pure functions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import entities as e
from domain.errors import (
    Forbidden,
    InvalidState,
    PaymentCurrencyMismatch,
    PaymentTotalMismatch,
)
from domain.ledger import balances
from domain.outcomes import Actor
from domain.permissions import COMPLETE_PAYMENTS
from domain.reseller_payments import (
    NOT_COMPLETABLE,
    Completion,
    ResellerAction,
    complete,
    completion_scope,
    expire,
    is_due,
)
from domain.statuses import PaymentKind, PaymentMethodType, PaymentStatus
from tests.unit.fakes import T0, admin, partner_user, payment, reseller_manager

S = PaymentStatus
METHOD = e.PaymentMethod(2, 1, "Check", PaymentMethodType.CHECK, T0)
MANAGER = Actor(6, "Mona Manager")


def waiting(**changes: object) -> e.Payment:
    values: dict[str, object] = {
        "kind": PaymentKind.RESELLER,
        "status": S.WAITING_FOR_PAYMENT,
        "amount": 12_345,
        "currency": "USD",
        "document_number": "2005258",
        "expiration_date": T0 + timedelta(days=1),
    }
    return payment(**{**values, **changes})


@pytest.mark.parametrize("status", [S.WAITING_FOR_PAYMENT, S.EXPIRED])
def test_waiting_and_expired_payments_complete(status: PaymentStatus) -> None:
    outcome = complete(
        waiting(status=status), METHOD, Completion(2, 12_345, "usd", "10.1.2.3"), MANAGER, T0
    )
    assert outcome.action is ResellerAction.COMPLETE
    assert (outcome.from_status, outcome.to_status) == (status, S.COMPLETED)
    changes = outcome.payment_changes
    assert changes["status"] is S.COMPLETED
    assert changes["closed_at"] == T0
    assert changes["manager_id"] == MANAGER.user_id
    assert changes["payment_method_id"] == METHOD.id
    assert changes["requester_ip"] == "10.1.2.3"
    assert outcome.posting is not None
    assert balances(outcome.posting.lines) == {"USD": 0}


@pytest.mark.parametrize("status", [S.COMPLETED, S.CANCELLED])
def test_other_statuses_get_the_documents_message(status: PaymentStatus) -> None:
    with pytest.raises(InvalidState) as refused:
        complete(waiting(status=status), METHOD, Completion(2), MANAGER, T0)
    assert refused.value.message == NOT_COMPLETABLE
    assert refused.value.status == status.value


def test_currency_and_total_must_match_when_given() -> None:
    with pytest.raises(PaymentCurrencyMismatch):
        complete(waiting(), METHOD, Completion(2, currency_code="EUR"), MANAGER, T0)
    with pytest.raises(PaymentTotalMismatch):
        complete(waiting(), METHOD, Completion(2, total=12_344), MANAGER, T0)
    # neither is required
    complete(waiting(), METHOD, Completion(2), MANAGER, T0)


def test_the_currency_is_checked_before_the_status() -> None:
    with pytest.raises(PaymentCurrencyMismatch):
        complete(
            waiting(status=S.COMPLETED), METHOD, Completion(2, currency_code="EUR"), MANAGER, T0
        )


def test_a_zero_total_posts_nothing() -> None:
    assert complete(waiting(amount=0), METHOD, Completion(2), MANAGER, T0).posting is None


def test_only_waiting_payments_past_their_date_expire() -> None:
    due = waiting(expiration_date=T0 - timedelta(seconds=1))
    assert is_due(due, T0)
    assert expire(due, T0).to_status is S.EXPIRED
    for not_due in (waiting(), waiting(expiration_date=None), waiting(status=S.COMPLETED)):
        assert not is_due(not_due, T0)
        with pytest.raises(InvalidState):
            expire(not_due, T0)


def test_managers_and_tenant_admins_complete_partner_users_do_not() -> None:
    manager = completion_scope(reseller_manager(COMPLETE_PAYMENTS, tree=frozenset({10, 11})))
    assert manager.partner_ids == frozenset({10, 11})
    assert manager.payment_kinds == frozenset({PaymentKind.RESELLER})
    assert completion_scope(admin(COMPLETE_PAYMENTS)).partner_ids is None
    with pytest.raises(Forbidden) as refused:
        completion_scope(partner_user(COMPLETE_PAYMENTS))
    assert refused.value.reason == "WRONG_CALLER"
    with pytest.raises(Forbidden) as refused:
        completion_scope(reseller_manager())
    assert refused.value.reason == "MISSING_PERMISSION"
