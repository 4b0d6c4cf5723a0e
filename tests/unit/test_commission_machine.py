"""The commission state machine (document 000) as pure functions: the transition table,
why an action is blocked, the errors `require` raises, what `available` shows, and what
each move changes (documents, postings, notifications)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import commission_moves as moves
from domain import entities as e
from domain import notifications as n
from domain.commission import (
    TRANSITIONS,
    USER_ACTIONS,
    Action,
    Block,
    Caller,
    CommissionCase,
    available,
    block,
    caller_of,
    diagram,
    require,
)
from domain.errors import BadUserInput, DomainError, Forbidden, InvalidState, NotFound
from domain.ledger import balances
from domain.payouts import PayoutReceipt
from domain.permissions import (
    ALL_PERMISSIONS,
    MARK_PARTNER_PAYMENTS_PAID,
    OPERATIONS,
    PAY_PARTNERS_PAYMENTS,
    REQUEST_PARTNER_PAYMENTS,
    VIEW_PARTNER_PAYMENTS,
)
from domain.principal import Principal
from domain.statuses import (
    STATUSES_BY_KIND,
    DocumentStatus,
    LedgerDirection,
    PaymentKind,
    PaymentStatus,
)
from domain.storage import StoredFile
from tests.unit.fakes import (
    ADMIN_USER,
    PARTNER_USER,
    admin,
    document,
    partner_user,
    payment,
    reseller_manager,
    stored_file,
    unuploaded,
    user,
)

S = PaymentStatus
COMMISSION_STATUSES = frozenset(STATUSES_BY_KIND[PaymentKind.COMMISSION])
TODAY = date(2025, 11, 10)
NOW = datetime(2025, 11, 10, 12, 0, tzinfo=UTC)
STAFF = moves.Actor(ADMIN_USER.id, ADMIN_USER.name)
AUDIENCE = n.Audience("Acme Logistics", payee=PARTNER_USER, slack_channel="#payouts")
RECEIPT = PayoutReceipt("fakepay", "fp_000001", "paid")


def case(
    status: PaymentStatus = S.APPROVED_FOR_PAYMENT,
    documents: Sequence[e.PaymentDocument] | None = None,
    *,
    payout_account: str | None = "po_1234567890",
    **payment_changes: object,
) -> CommissionCase:
    """A commission payment with, unless told otherwise, one uploaded invoice whose
    review matches the status (approved once the payment is approved for payment)."""
    if documents is None:
        reviewed = status in (S.APPROVED_FOR_PAYMENT, S.PAYOUT_IN_PROGRESS, S.PAID, S.MANUALLY_PAID)
        documents = [
            document(status=DocumentStatus.APPROVED if reviewed else DocumentStatus.PENDING)
        ]
    return CommissionCase(
        payment(status=status, **payment_changes), list(documents), payout_account
    )


def caller_for(action: Action) -> Principal:
    """A principal of the right kind with every permission."""
    if TRANSITIONS[action].caller is Caller.PARTNER_USER:
        return partner_user(*ALL_PERMISSIONS)
    return admin(*ALL_PERMISSIONS)


# --- the table ----------------------------------------------------------------------------


def test_every_action_starts_from_commission_statuses_only() -> None:
    for transition in TRANSITIONS.values():
        assert transition.sources, transition.action
        assert transition.sources <= COMMISSION_STATUSES, transition.action


def test_every_target_is_a_commission_status_and_only_adding_a_document_keeps_it() -> None:
    targets = {action: t.target for action, t in TRANSITIONS.items()}

    assert targets == {
        Action.REQUEST_PAYMENT: S.PAYMENT_REQUESTED,
        Action.ADD_DOCUMENT: None,
        Action.APPROVE_DOCUMENT: S.APPROVED_FOR_PAYMENT,
        Action.REJECT_DOCUMENT: S.DOCUMENTS_REJECTED,
        Action.SEND_TO_INTERNAL_REVIEW: S.UNDER_REVIEW,
        Action.PAY: S.PAYOUT_IN_PROGRESS,
        Action.REJECT_PAYMENT: S.DOCUMENTS_REJECTED,
        Action.MARK_AS_PAID: S.MANUALLY_PAID,
        Action.PAYOUT_PAID: S.PAID,
        Action.PAYOUT_DECLINED: S.PAYMENT_REJECTED,
        Action.PAYOUT_FAILED: S.APPROVED_FOR_PAYMENT,
    }


def test_document_000s_endpoints_are_allowed_from_the_statuses_it_names() -> None:
    reviewable = {S.PAYMENT_REQUESTED, S.DOCUMENTS_REJECTED, S.UNDER_REVIEW, S.PAYMENT_REJECTED}

    assert TRANSITIONS[Action.APPROVE_DOCUMENT].sources == reviewable
    assert TRANSITIONS[Action.REJECT_DOCUMENT].sources == reviewable
    # paying a payout in progress resumes it (domain.commission_payouts)
    assert TRANSITIONS[Action.PAY].sources == {S.APPROVED_FOR_PAYMENT, S.PAYOUT_IN_PROGRESS}
    assert TRANSITIONS[Action.REJECT_PAYMENT].sources == {S.APPROVED_FOR_PAYMENT}
    assert TRANSITIONS[Action.REQUEST_PAYMENT].sources == {S.GENERATED}


def test_every_commission_status_is_reachable_from_generated() -> None:
    reached = {S.GENERATED}
    frontier = [S.GENERATED]
    while frontier:
        status = frontier.pop()
        for transition in TRANSITIONS.values():
            target = transition.target
            if status in transition.sources and target is not None and target not in reached:
                reached.add(target)
                frontier.append(target)

    assert reached == COMMISSION_STATUSES


@pytest.mark.parametrize("final", [S.PAID, S.MANUALLY_PAID])
def test_paid_and_manually_paid_are_final(final: PaymentStatus) -> None:
    # given a payment that is paid, one way or the other
    paid = case(final)

    # then no transition leaves it and no caller may take any action on it
    assert all(final not in t.sources for t in TRANSITIONS.values())
    for action in USER_ACTIONS:
        assert block(paid, action, caller_for(action), TODAY) is Block.WRONG_STATUS
    assert not any(option.allowed for option in available(paid, admin(*ALL_PERMISSIONS), TODAY))


SYSTEM_MOVES = {Action.PAYOUT_PAID, Action.PAYOUT_DECLINED, Action.PAYOUT_FAILED}


@pytest.mark.parametrize("action", sorted(SYSTEM_MOVES))
def test_the_system_moves_have_no_permission_and_are_no_dashboard_action(action: Action) -> None:
    move = TRANSITIONS[action]

    assert move.caller is Caller.SYSTEM
    assert move.operation is None
    assert move.permissions == frozenset()
    assert action not in USER_ACTIONS
    assert set(USER_ACTIONS) == set(Action) - SYSTEM_MOVES


def test_only_the_providers_answer_leaves_a_payout_in_progress() -> None:
    leaving = {a for a, t in TRANSITIONS.items() if S.PAYOUT_IN_PROGRESS in t.sources}

    assert leaving == SYSTEM_MOVES | {Action.PAY}
    assert TRANSITIONS[Action.PAY].target is S.PAYOUT_IN_PROGRESS  # resuming stays put
    # and only paying reaches it, and only from approved for payment
    reaching = {
        source
        for t in TRANSITIONS.values()
        if t.target is S.PAYOUT_IN_PROGRESS
        for source in t.sources - {S.PAYOUT_IN_PROGRESS}
    }
    assert reaching == {S.APPROVED_FOR_PAYMENT}


@pytest.mark.parametrize("action", USER_ACTIONS)
def test_a_payout_in_progress_blocks_every_action_but_paying(action: Action) -> None:
    # given a payout sent to the provider whose answer is not recorded yet
    in_progress = case(S.PAYOUT_IN_PROGRESS)

    # when any caller with every permission tries the action
    reason = block(in_progress, action, caller_for(action), TODAY)

    # then only paying (which resumes the open attempt) is allowed
    if action is Action.PAY:
        assert reason is None
    else:
        assert reason is Block.PAYOUT_IN_PROGRESS
        with pytest.raises(InvalidState) as refused:
            require(in_progress, action, caller_for(action), TODAY)
        assert refused.value.reason == "PAYOUT_IN_PROGRESS"
        assert refused.value.status == "payout_in_progress"
        assert "payout of it is in progress" in refused.value.message


def test_every_user_action_is_guarded_by_a_row_of_the_permission_matrix() -> None:
    for action in USER_ACTIONS:
        operation = TRANSITIONS[action].operation
        assert operation is not None
        assert operation in OPERATIONS, action
        assert TRANSITIONS[action].permissions == OPERATIONS[operation].any_of
        assert TRANSITIONS[action].permissions, f"{action} would be open to anyone"


def test_the_diagram_draws_every_status_change_of_the_table() -> None:
    lines = diagram().splitlines()
    edges = {tuple(line.strip().split(":")[0].split(" --> ")) for line in lines[1:]}

    expected = {
        (source.value, t.target.value)
        for t in TRANSITIONS.values()
        if t.target is not None
        for source in t.sources
        if source is not t.target
    }
    assert lines[0] == "stateDiagram-v2"
    assert edges - {("[*]", "generated"), ("paid", "[*]"), ("manually_paid", "[*]")} == expected
    assert "payment_requested --> approved_for_payment: approvePaymentDocument (every" in (
        diagram()
    )


# --- who calls -----------------------------------------------------------------------------


def test_callers_are_told_apart_by_their_scope() -> None:
    assert caller_of(partner_user()) is Caller.PARTNER_USER
    assert caller_of(admin()) is Caller.STAFF
    assert caller_of(reseller_manager(*ALL_PERMISSIONS)) is Caller.SYSTEM
    assert caller_of(admin(user_id=None)) is Caller.SYSTEM  # type: ignore[arg-type]


# --- block: the order of the reasons ------------------------------------------------------


def test_a_missing_permission_is_reported_before_everything_else() -> None:
    # given a partner user without the permission, approving, on a paid payment without
    # any uploaded document: every rule is broken
    hopeless = case(S.PAID, [unuploaded()])
    caller = partner_user(REQUEST_PARTNER_PAYMENTS)

    # then the permission is what it hears about
    assert block(hopeless, Action.APPROVE_DOCUMENT, caller, TODAY) is Block.MISSING_PERMISSION


def test_the_wrong_caller_is_reported_before_the_status() -> None:
    hopeless = case(S.PAID, [unuploaded()])
    caller = partner_user(VIEW_PARTNER_PAYMENTS)  # has the permission, is not staff

    assert block(hopeless, Action.APPROVE_DOCUMENT, caller, TODAY) is Block.WRONG_CALLER


def test_the_status_is_reported_before_the_guards() -> None:
    hopeless = case(S.PAID, [unuploaded()])

    assert block(hopeless, Action.APPROVE_DOCUMENT, admin(), TODAY) is Block.WRONG_STATUS


def test_a_guard_is_reported_last() -> None:
    nothing_uploaded = case(S.PAYMENT_REQUESTED, [unuploaded()])

    assert block(nothing_uploaded, Action.APPROVE_DOCUMENT, admin(), TODAY) is (
        Block.NOTHING_TO_REVIEW
    )


def test_paying_checks_documents_then_payout_account_then_cutoff() -> None:
    pending = [document(status=DocumentStatus.PENDING)]
    everything_wrong = case(
        documents=pending, payout_account=None, cutoff_date=TODAY + timedelta(days=1)
    )
    no_account = case(payout_account=None, cutoff_date=TODAY + timedelta(days=1))
    too_early = case(cutoff_date=TODAY + timedelta(days=1))

    assert block(everything_wrong, Action.PAY, admin(), TODAY) is Block.DOCUMENTS_PENDING
    assert block(no_account, Action.PAY, admin(), TODAY) is Block.NO_PAYOUT_ACCOUNT
    assert block(too_early, Action.PAY, admin(), TODAY) is Block.CUTOFF_NOT_REACHED
    assert block(case(), Action.PAY, admin(), TODAY) is None


# --- block: each guard --------------------------------------------------------------------


def test_requesting_a_payout_without_documents_is_blocked() -> None:
    assert block(case(S.GENERATED, []), Action.REQUEST_PAYMENT, partner_user(), TODAY) is (
        Block.DOCUMENTS_MISSING
    )


def test_requesting_a_payout_with_a_required_document_not_uploaded_is_blocked() -> None:
    documents = [document(), unuploaded(id=101, document_type="tax_certificate")]

    assert block(case(S.GENERATED, documents), Action.REQUEST_PAYMENT, partner_user(), TODAY) is (
        Block.DOCUMENTS_MISSING
    )


def test_an_optional_document_not_uploaded_does_not_block_the_request() -> None:
    documents = [document(), unuploaded(id=101, document_type="bank_statement", required=False)]

    assert block(case(S.GENERATED, documents), Action.REQUEST_PAYMENT, partner_user(), TODAY) is (
        None
    )


@pytest.mark.parametrize("action", [Action.APPROVE_DOCUMENT, Action.REJECT_DOCUMENT])
def test_reviewing_needs_an_uploaded_document(action: Action) -> None:
    assert block(case(S.PAYMENT_REQUESTED, [unuploaded()]), action, admin(), TODAY) is (
        Block.NOTHING_TO_REVIEW
    )
    assert block(case(S.PAYMENT_REQUESTED, []), action, admin(), TODAY) is (Block.NOTHING_TO_REVIEW)


@pytest.mark.parametrize("action", [Action.PAY, Action.REJECT_PAYMENT])
def test_paying_or_rejecting_needs_every_required_document_approved(action: Action) -> None:
    documents = [
        document(status=DocumentStatus.APPROVED),
        document(id=101, document_type="tax_certificate", status=DocumentStatus.REJECTED),
    ]

    assert block(case(documents=documents), action, admin(), TODAY) is Block.DOCUMENTS_PENDING


def test_an_optional_document_under_review_does_not_block_the_payout() -> None:
    documents = [
        document(status=DocumentStatus.APPROVED),
        document(id=101, document_type="bank_statement", required=False),
    ]

    assert block(case(documents=documents), Action.PAY, admin(), TODAY) is None


@pytest.mark.parametrize("account", [None, ""])
@pytest.mark.parametrize("action", [Action.PAY, Action.REJECT_PAYMENT])
def test_paying_or_rejecting_needs_a_payout_account(account: str | None, action: Action) -> None:
    assert block(case(payout_account=account), action, admin(), TODAY) is (Block.NO_PAYOUT_ACCOUNT)


@pytest.mark.parametrize(
    ("cutoff", "expected"),
    [
        (TODAY + timedelta(days=1), Block.CUTOFF_NOT_REACHED),
        (TODAY, None),  # on the cutoff day is allowed
        (TODAY - timedelta(days=1), None),
        (None, None),
    ],
)
def test_paying_waits_for_the_cutoff_day(cutoff: date | None, expected: Block | None) -> None:
    assert block(case(cutoff_date=cutoff), Action.PAY, admin(), TODAY) is expected
    assert block(case(cutoff_date=cutoff), Action.REJECT_PAYMENT, admin(), TODAY) is expected


def test_marking_as_paid_has_no_guards() -> None:
    unready = case(
        S.UNDER_REVIEW, [unuploaded()], payout_account=None, cutoff_date=TODAY + timedelta(9)
    )

    assert block(unready, Action.MARK_AS_PAID, admin(), TODAY) is None


def test_a_payment_of_another_kind_has_no_commission_actions() -> None:
    acquiring = case(S.COMPLETED, kind=PaymentKind.ACQUIRING)

    assert available(acquiring, admin(*ALL_PERMISSIONS), TODAY) == []
    assert block(acquiring, Action.MARK_AS_PAID, admin(), TODAY) is Block.WRONG_STATUS


# --- require: the errors ------------------------------------------------------------------


def test_a_wrong_status_names_the_current_status() -> None:
    # given a payment that is already paid
    paid = case(S.PAID)

    # when staff tries to pay it again
    with pytest.raises(InvalidState) as refused:
        require(paid, Action.PAY, admin(), TODAY)

    # then the error says it is paid, and from which status paying is allowed
    error = refused.value
    assert error.code == "INVALID_STATE"
    assert error.status == "paid"
    assert error.reason == "WRONG_STATUS"
    assert "it is paid" in error.message
    assert "approved_for_payment" in error.message
    assert error.extensions() == {"status": "paid", "reason": "WRONG_STATUS"}


@pytest.mark.parametrize(
    ("refused_case", "action", "reason"),
    [
        (case(S.GENERATED, []), Action.REQUEST_PAYMENT, Block.DOCUMENTS_MISSING),
        (case(S.PAYMENT_REQUESTED, [unuploaded()]), Action.APPROVE_DOCUMENT, "NOTHING_TO_REVIEW"),
        (case(documents=[document()]), Action.PAY, Block.DOCUMENTS_PENDING),
        (case(payout_account=None), Action.PAY, Block.NO_PAYOUT_ACCOUNT),
        (case(cutoff_date=TODAY + timedelta(days=1)), Action.PAY, Block.CUTOFF_NOT_REACHED),
    ],
)
def test_a_guard_is_an_invalid_state_with_its_reason(
    refused_case: CommissionCase, action: Action, reason: str
) -> None:
    with pytest.raises(InvalidState) as refused:
        require(refused_case, action, caller_for(action), TODAY)

    assert refused.value.reason == reason
    assert refused.value.status == refused_case.payment.status.value
    assert f"payment {refused_case.payment.id}" in refused.value.message


def test_a_partner_user_may_not_approve_a_document() -> None:
    with pytest.raises(Forbidden) as refused:
        require(
            case(S.PAYMENT_REQUESTED),
            Action.APPROVE_DOCUMENT,
            partner_user(*ALL_PERMISSIONS),
            TODAY,
        )

    assert refused.value.code == "FORBIDDEN"
    assert "Only staff" in refused.value.message


def test_an_admin_may_not_request_the_payout() -> None:
    with pytest.raises(Forbidden) as refused:
        require(case(S.GENERATED), Action.REQUEST_PAYMENT, admin(*ALL_PERMISSIONS), TODAY)

    assert "Only the partner's own users" in refused.value.message


@pytest.mark.parametrize("action", USER_ACTIONS)
def test_a_reseller_manager_may_take_no_commission_action(action: Action) -> None:
    # given a payment in a status from which the action is possible
    source = sorted(TRANSITIONS[action].sources)[0]
    ready = case(source, cutoff_date=None)

    # when a reseller manager with every permission tries it, it is forbidden
    with pytest.raises(Forbidden):
        require(ready, action, reseller_manager(*ALL_PERMISSIONS), TODAY)


def test_without_the_permission_the_error_is_forbidden() -> None:
    with pytest.raises(Forbidden) as refused:
        require(case(), Action.MARK_AS_PAID, admin(PAY_PARTNERS_PAYMENTS), TODAY)

    assert "permissions do not allow you to mark as paid" in refused.value.message


def test_document_000s_permissions_are_the_ones_each_action_needs() -> None:
    ready = {
        Action.APPROVE_DOCUMENT: (case(S.PAYMENT_REQUESTED), VIEW_PARTNER_PAYMENTS),
        Action.REJECT_DOCUMENT: (case(S.PAYMENT_REQUESTED), PAY_PARTNERS_PAYMENTS),
        Action.PAY: (case(), PAY_PARTNERS_PAYMENTS),
        Action.REJECT_PAYMENT: (case(), PAY_PARTNERS_PAYMENTS),
        Action.SEND_TO_INTERNAL_REVIEW: (case(), PAY_PARTNERS_PAYMENTS),
        Action.MARK_AS_PAID: (case(), MARK_PARTNER_PAYMENTS_PAID),
    }
    for action, (ready_case, permission) in ready.items():
        require(ready_case, action, admin(permission), TODAY)
        others = ALL_PERMISSIONS - {permission}
        assert block(ready_case, action, admin(*others), TODAY) is Block.MISSING_PERMISSION


# --- available agrees with require ----------------------------------------------------------

_commission_statuses = st.sampled_from(sorted(COMMISSION_STATUSES))
_permissions = st.frozensets(st.sampled_from(sorted(ALL_PERMISSIONS)))


@st.composite
def _principals(draw: st.DrawFn) -> Principal:
    permissions = sorted(draw(_permissions))
    kind = draw(st.sampled_from(["partner", "staff", "no-user", "manager"]))
    if kind == "partner":
        return partner_user(*permissions) if permissions else partner_user("none")
    if kind == "staff":
        return admin(*permissions) if permissions else admin("none")
    if kind == "no-user":
        return admin(*(permissions or ["none"]), user_id=None)  # type: ignore[arg-type]
    return reseller_manager(*permissions)


@st.composite
def _documents(draw: st.DrawFn) -> list[e.PaymentDocument]:
    specs = draw(
        st.lists(
            st.tuples(st.booleans(), st.booleans(), st.sampled_from(list(DocumentStatus))),
            max_size=4,
        )
    )
    return [
        (document if uploaded else unuploaded)(id=100 + i, required=required, status=status)
        for i, (required, uploaded, status) in enumerate(specs)
    ]


@st.composite
def _cases(draw: st.DrawFn) -> CommissionCase:
    cutoff = draw(st.none() | st.dates(TODAY - timedelta(days=3), TODAY + timedelta(days=3)))
    return case(
        draw(_commission_statuses),
        draw(_documents()),
        payout_account=draw(st.sampled_from([None, "", "po_1"])),
        cutoff_date=cutoff,
    )


@settings(max_examples=300, deadline=None, database=None)
@given(
    any_case=_cases(),
    principal=_principals(),
    today=st.dates(TODAY - timedelta(days=3), TODAY + timedelta(days=3)),
)
def test_available_allows_exactly_what_require_lets_through(
    any_case: CommissionCase, principal: Principal, today: date
) -> None:
    options = available(any_case, principal, today)

    assert [option.action for option in options] == list(USER_ACTIONS)
    for option in options:
        assert option.operation == TRANSITIONS[option.action].operation
        try:
            require(any_case, option.action, principal, today)
        except Forbidden:
            assert option.blocked_by in (Block.MISSING_PERMISSION, Block.WRONG_CALLER)
        except InvalidState as refused:
            assert option.blocked_by is not None
            assert refused.reason == option.blocked_by.value
            assert refused.status == any_case.payment.status.value
        else:
            assert option.allowed


# --- moves: reviewing documents ------------------------------------------------------------


def _changes(outcome: moves.Outcome) -> dict[int, dict[str, object]]:
    return {change.document_id: dict(change.values) for change in outcome.document_changes}


def test_approving_one_of_two_required_documents_keeps_the_payment_waiting() -> None:
    # given a requested payout with two required documents, neither approved
    requested = case(
        S.PAYMENT_REQUESTED, [document(), document(id=101, document_type="tax_certificate")]
    )

    # when staff approves the first
    outcome = moves.approve_document(requested, 100, STAFF, NOW, AUDIENCE)

    # then the document is approved, the payment is not, and Slack hears nothing
    assert outcome.to_status is S.PAYMENT_REQUESTED
    assert "status" not in outcome.payment_changes
    assert "approved_for_payment_at" not in outcome.payment_changes
    assert _changes(outcome) == {
        100: {
            "status": DocumentStatus.APPROVED,
            "rejection_reason": None,
            "reviewed_by_id": ADMIN_USER.id,
            "reviewed_at": NOW,
        }
    }
    assert outcome.notifications == ()


def test_approving_the_last_required_document_approves_the_payment() -> None:
    # given one required document approved and an optional one still pending
    requested = case(
        S.PAYMENT_REQUESTED,
        [
            document(status=DocumentStatus.APPROVED),
            document(id=101, document_type="tax_certificate"),
            document(id=102, document_type="bank_statement", required=False),
        ],
    )

    # when staff approves the last required one
    outcome = moves.approve_document(requested, 101, STAFF, NOW, AUDIENCE)

    # then the payment is approved for payment, stamped, and announced on Slack
    assert outcome.from_status is S.PAYMENT_REQUESTED
    assert outcome.to_status is S.APPROVED_FOR_PAYMENT
    assert outcome.payment_changes == {
        "approved_for_payment_at": NOW,
        "status": S.APPROVED_FOR_PAYMENT,
    }
    assert [note.topic for note in outcome.notifications] == ["commission.approved_for_payment"]


def test_approving_an_unknown_or_empty_document_is_refused() -> None:
    requested = case(S.PAYMENT_REQUESTED, [document(), unuploaded(id=101)])

    with pytest.raises(NotFound):
        moves.approve_document(requested, 999, STAFF, NOW, AUDIENCE)
    with pytest.raises(InvalidState) as empty:
        moves.approve_document(requested, 101, STAFF, NOW, AUDIENCE)
    assert empty.value.reason == "NOTHING_TO_REVIEW"


@pytest.mark.parametrize("reason", [None, "", "   \n"])
def test_rejecting_a_document_needs_a_reason(reason: str | None) -> None:
    with pytest.raises(BadUserInput) as refused:
        moves.reject_document(case(S.PAYMENT_REQUESTED), 100, reason, STAFF, NOW, AUDIENCE)

    assert refused.value.field == "rejectionReason"


def test_rejecting_a_document_records_the_trimmed_reason_and_clears_the_approval() -> None:
    outcome = moves.reject_document(
        case(S.UNDER_REVIEW), 100, "  Blurry scan  ", STAFF, NOW, AUDIENCE
    )

    assert outcome.to_status is S.DOCUMENTS_REJECTED
    assert outcome.payment_changes == {
        "approved_for_payment_at": None,
        "status": S.DOCUMENTS_REJECTED,
    }
    assert _changes(outcome)[100]["rejection_reason"] == "Blurry scan"
    assert _changes(outcome)[100]["status"] is DocumentStatus.REJECTED
    assert outcome.comments == "invoice (document 100) rejected: Blurry scan"


def test_a_reason_longer_than_the_limit_is_refused() -> None:
    with pytest.raises(BadUserInput):
        moves.reject_document(
            case(S.PAYMENT_REQUESTED), 100, "x" * (moves.MAX_TEXT + 1), STAFF, NOW, AUDIENCE
        )


def test_rejecting_the_payment_resets_reviewed_documents_to_pending() -> None:
    # given an approved payout whose documents were reviewed, and one still pending
    reviewed = {"reviewed_by_id": ADMIN_USER.id, "reviewed_at": NOW - timedelta(days=1)}
    approved = case(
        S.APPROVED_FOR_PAYMENT,
        [
            document(status=DocumentStatus.APPROVED, **reviewed),
            document(
                id=101,
                document_type="bank_statement",
                required=False,
                status=DocumentStatus.REJECTED,
                rejection_reason="Old statement",
                **reviewed,
            ),
            document(id=102, document_type="tax_certificate", required=False),
        ],
        approved_for_payment_at=NOW - timedelta(days=1),
    )

    # when staff rejects the payment
    outcome = moves.reject_payment(approved, "Amounts disagree", AUDIENCE)

    # then the reviewed documents are pending again without their review, the pending
    # one is left alone, and the approval is cleared
    cleared = {
        "status": DocumentStatus.PENDING,
        "rejection_reason": None,
        "reviewed_by_id": None,
        "reviewed_at": None,
    }
    assert _changes(outcome) == {100: cleared, 101: cleared}
    assert outcome.to_status is S.DOCUMENTS_REJECTED
    assert outcome.payment_changes == {
        "approved_for_payment_at": None,
        "comments": "Amounts disagree",
        "status": S.DOCUMENTS_REJECTED,
    }


def test_sending_to_internal_review_needs_comments_and_clears_the_approval() -> None:
    with pytest.raises(BadUserInput):
        moves.send_to_internal_review(case(), " ")

    outcome = moves.send_to_internal_review(case(), " Check the FX rate ")

    assert outcome.to_status is S.UNDER_REVIEW
    assert outcome.payment_changes == {
        "comments": "Check the FX rate",
        "approved_for_payment_at": None,
        "status": S.UNDER_REVIEW,
    }


# --- moves: adding documents ---------------------------------------------------------------


def test_a_first_upload_of_a_type_adds_a_required_document() -> None:
    outcome = moves.add_document(case(S.GENERATED, []), "invoice", stored_file())

    assert outcome.new_document is not None
    assert outcome.new_document.required
    assert outcome.to_status is outcome.from_status is S.GENERATED
    assert outcome.payment_changes == {}


def test_a_new_upload_replaces_a_rejected_file_and_its_review() -> None:
    rejected = document(status=DocumentStatus.REJECTED, rejection_reason="Blurry")
    new_file = stored_file(b"%PDF-1.4 sharper")

    outcome = moves.add_document(case(S.DOCUMENTS_REJECTED, [rejected]), "invoice", new_file)

    assert outcome.new_document is None
    values = _changes(outcome)[100]
    assert values["storage_key"] == new_file.storage_key
    assert values["status"] is DocumentStatus.PENDING
    assert values["rejection_reason"] is None


@pytest.mark.parametrize(
    ("document_type", "file", "field"),
    [
        ("passport", stored_file(), "documentType"),
        ("invoice", stored_file(content_type="text/html"), "file"),
        ("invoice", stored_file(b""), "file"),
    ],
)
def test_uploads_of_unknown_types_wrong_formats_or_no_bytes_are_refused(
    document_type: str, file: StoredFile, field: str
) -> None:
    with pytest.raises(BadUserInput) as refused:
        moves.add_document(case(S.GENERATED, []), document_type, file)

    assert refused.value.field == field


def test_an_approved_document_cannot_be_replaced() -> None:
    approved = case(S.PAYMENT_REQUESTED, [document(status=DocumentStatus.APPROVED)])

    with pytest.raises(InvalidState) as refused:
        moves.add_document(approved, "invoice", stored_file())

    assert refused.value.reason == "DOCUMENT_APPROVED"


# --- moves: money out -----------------------------------------------------------------------


def _posted(outcome: moves.Outcome) -> list[tuple[str, LedgerDirection, int, str]]:
    assert outcome.posting is not None
    return [
        (line.account_code, line.direction, line.money.amount, line.money.currency)
        for line in outcome.posting.lines
    ]


def test_paying_records_the_attempt_and_waits_for_the_provider() -> None:
    outcome = moves.pay(case(), "October")

    assert (outcome.action, outcome.to_status) == (Action.PAY, S.PAYOUT_IN_PROGRESS)
    assert outcome.payment_changes == {"status": S.PAYOUT_IN_PROGRESS}
    assert outcome.comments == "October"
    assert outcome.posting is None
    assert outcome.notifications == ()


def test_a_paid_payout_posts_the_requested_amount_from_expense_to_clearing() -> None:
    outcome = moves.payout_paid(case(S.PAYOUT_IN_PROGRESS), None, RECEIPT, NOW, AUDIENCE)

    assert _posted(outcome) == [
        (moves.COMMISSION_EXPENSE, LedgerDirection.DEBIT, 123_456, "MXN"),
        (moves.PAYOUT_CLEARING, LedgerDirection.CREDIT, 123_456, "MXN"),
    ]
    assert outcome.posting is not None
    assert balances(outcome.posting.lines) == {"MXN": 0}
    assert "fp_000001" in outcome.posting.description
    assert outcome.payment_changes == {
        "paid_at": NOW,
        "payment_date": NOW.date(),
        "paid_amount": 123_456,
        "tracking_id": "fp_000001",
        "status": S.PAID,
    }
    assert [note.topic for note in outcome.notifications] == ["commission.paid"]


def test_marking_as_paid_posts_the_requested_amount_to_manual_payouts() -> None:
    paid_at = NOW - timedelta(days=2)

    outcome = moves.mark_as_paid(case(S.UNDER_REVIEW), paid_at, NOW, AUDIENCE)

    assert _posted(outcome) == [
        (moves.COMMISSION_EXPENSE, LedgerDirection.DEBIT, 123_456, "MXN"),
        (moves.MANUAL_PAYOUTS, LedgerDirection.CREDIT, 123_456, "MXN"),
    ]
    assert outcome.to_status is S.MANUALLY_PAID
    assert outcome.payment_changes["paid_at"] == paid_at
    assert outcome.payment_changes["paid_amount"] == 123_456


def test_marking_as_paid_refuses_a_moment_in_the_future() -> None:
    with pytest.raises(BadUserInput) as refused:
        moves.mark_as_paid(case(), NOW + timedelta(seconds=1), NOW, AUDIENCE)

    assert refused.value.field == "paidAt"
    moves.mark_as_paid(case(), NOW, NOW, AUDIENCE)  # this very moment is not the future


def test_a_paid_at_without_a_zone_is_read_as_utc() -> None:
    naive_past = datetime(2025, 11, 10, 11, 30)
    naive_future = datetime(2025, 11, 10, 12, 30)  # later than NOW read as UTC

    outcome = moves.mark_as_paid(case(), naive_past, NOW, AUDIENCE)

    assert outcome.payment_changes["paid_at"] == datetime(2025, 11, 10, 11, 30, tzinfo=UTC)
    with pytest.raises(BadUserInput):
        moves.mark_as_paid(case(), naive_future, NOW, AUDIENCE)


def test_a_paid_at_in_another_zone_records_its_utc_payment_date() -> None:
    # given a payment made at 20:00 in Mexico City on 1 November, 02:00 UTC on the 2nd
    local = datetime(2025, 11, 1, 20, 0, tzinfo=timezone(timedelta(hours=-6)))

    # when it is marked as paid with the local offset
    outcome = moves.mark_as_paid(case(), local, NOW, AUDIENCE)

    # then the payment date is the UTC date, as `pay` records it and filters read it
    assert outcome.payment_changes["payment_date"] == date(2025, 11, 2)


def test_a_refused_payout_is_approved_for_payment_again_with_nothing_posted() -> None:
    outcome = moves.payout_failed(case(S.PAYOUT_IN_PROGRESS), "Refused (400)")

    assert outcome.to_status is S.APPROVED_FOR_PAYMENT
    assert outcome.posting is None
    assert outcome.payment_changes == {"status": S.APPROVED_FOR_PAYMENT}
    assert outcome.comments == "Refused (400)"
    for not_in_progress in (S.APPROVED_FOR_PAYMENT, S.PAID):
        with pytest.raises(InvalidState):
            moves.payout_failed(case(not_in_progress), "Refused")
        with pytest.raises(InvalidState):
            moves.payout_paid(case(not_in_progress), None, RECEIPT, NOW, AUDIENCE)


def test_a_declined_payout_rejects_the_payment_with_the_providers_reason() -> None:
    outcome = moves.payout_declined(case(S.PAYOUT_IN_PROGRESS), "Account closed", AUDIENCE)

    assert outcome.to_status is S.PAYMENT_REJECTED
    assert outcome.posting is None
    assert outcome.payment_changes == {
        "comments": "Account closed",
        "approved_for_payment_at": None,
        "status": S.PAYMENT_REJECTED,
    }
    with pytest.raises(InvalidState):
        moves.payout_declined(case(S.PAID), "Account closed", AUDIENCE)


# --- notifications -------------------------------------------------------------------------


def _fields(note: n.Notification) -> list[str]:
    section = next(b for b in note.payload["blocks"] if b["type"] == "section" and "fields" in b)
    return [field["text"] for field in section["fields"]]


def test_the_approval_slack_message_lists_the_payments_facts() -> None:
    requested = case(S.PAYMENT_REQUESTED)

    (note,) = moves.approve_document(requested, 100, STAFF, NOW, AUDIENCE).notifications

    assert note.channel is n.Channel.SLACK
    assert note.payload["channel"] == "#payouts"
    assert note.payload["text"] == "Commission approved for payment: Acme Logistics, 1,234.56 MXN"
    assert note.payload["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Commission approved for payment"},
    }
    assert _fields(note) == [
        "*Partner:*\nAcme Logistics",
        "*Payment:*\n1",
        "*Amount:*\n1,234.56 MXN",
        "*Reference:*\nCOM-202510-0001",
        "*Period:*\n2025-10-01 to 2025-10-31",
    ]


def test_a_slack_message_without_a_channel_or_reference_still_renders() -> None:
    quiet = n.Audience("Acme Logistics")

    note = n.slack("t", "Title", payment(reference=None, period_start=None), quiet)

    assert "channel" not in note.payload
    assert "*Reference:*\n-" in _fields(note)
    assert not any(text.startswith("*Period") for text in _fields(note))


def test_the_payment_rejected_slack_message_has_the_reason_and_the_mentions() -> None:
    audience = n.Audience("Acme Logistics", rejection_mentions=("<@U1>", "<@U2>"))

    (note,) = moves.reject_payment(case(), None, audience).notifications

    assert note.topic == "commission.payment_rejected"
    assert note.payload["blocks"][2] == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "*Reason:*\nNo reason given."},
    }
    assert note.payload["blocks"][3] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "<@U1> <@U2>"}],
    }


@pytest.mark.parametrize("locale", ["es", "es-MX", "es_AR", "ES"])
def test_the_document_rejected_email_is_spanish_for_spanish_locales(locale: str) -> None:
    payee = user(locale=locale)
    documents = [document(document_type="tax_certificate")]

    (note,) = moves.reject_document(
        case(S.PAYMENT_REQUESTED, documents),
        100,
        "Vencida",
        STAFF,
        NOW,
        n.Audience("Acme", payee=payee),
    ).notifications

    assert note.channel is n.Channel.EMAIL
    assert note.topic == "commission.document_rejected"
    assert note.payload["to"] == payee.email
    assert note.payload["locale"] == "es"
    assert note.payload["subject"] == n.DOCUMENT_REJECTED["es"]["subject"]
    assert note.payload["text"].startswith("Hola Lucía Pérez:")
    assert "constancia de situación fiscal" in note.payload["text"]
    assert "Motivo: Vencida" in note.payload["text"]
    assert "1,234.56 MXN" in note.payload["text"]


@pytest.mark.parametrize("locale", ["en", "en-US", "fr", "pt-BR", "", "e"])
def test_the_document_rejected_email_is_english_otherwise(locale: str) -> None:
    payee = user(locale=locale)

    (note,) = moves.reject_document(
        case(S.PAYMENT_REQUESTED, [document(document_type="bank_statement")]),
        100,
        "Too old",
        STAFF,
        NOW,
        n.Audience("Acme", payee=payee),
    ).notifications

    assert note.payload["locale"] == "en"
    assert note.payload["text"].startswith("Hello Lucía Pérez,")
    assert "The bank statement you submitted" in note.payload["text"]
    assert "Reason: Too old" in note.payload["text"]


def test_no_email_is_queued_when_the_payment_has_no_payee() -> None:
    outcome = moves.reject_document(
        case(S.PAYMENT_REQUESTED), 100, "Blurry", STAFF, NOW, n.Audience("Acme")
    )

    assert outcome.notifications == ()


# --- every move keeps its promises -----------------------------------------------------------


def test_every_move_reports_the_status_it_leaves_and_the_one_it_reaches() -> None:
    outcomes: list[tuple[PaymentStatus, moves.Outcome]] = [
        (S.GENERATED, moves.request_payment(case(S.GENERATED))),
        (S.APPROVED_FOR_PAYMENT, moves.pay(case(), None)),
        (
            S.PAYOUT_IN_PROGRESS,
            moves.payout_paid(case(S.PAYOUT_IN_PROGRESS), None, RECEIPT, NOW, AUDIENCE),
        ),
        (S.PAYOUT_IN_PROGRESS, moves.payout_failed(case(S.PAYOUT_IN_PROGRESS), "no")),
        (
            S.PAYOUT_IN_PROGRESS,
            moves.payout_declined(case(S.PAYOUT_IN_PROGRESS), "no", AUDIENCE),
        ),
        (S.APPROVED_FOR_PAYMENT, moves.reject_payment(case(), None, AUDIENCE)),
        (S.UNDER_REVIEW, moves.mark_as_paid(case(S.UNDER_REVIEW), NOW, NOW, AUDIENCE)),
    ]
    for source, outcome in outcomes:
        assert outcome.from_status is source
        assert outcome.payment_changes.get("status", source) is outcome.to_status
        assert outcome.to_status in COMMISSION_STATUSES
        assert outcome.to_status is TRANSITIONS[outcome.action].target


def test_an_error_of_a_move_is_a_domain_error() -> None:
    with pytest.raises(DomainError):
        moves.reject_document(case(S.PAYMENT_REQUESTED), 100, "", STAFF, NOW, AUDIENCE)
    with pytest.raises(DomainError):
        moves.mark_as_paid(case(), NOW + timedelta(days=1), NOW, AUDIENCE)
