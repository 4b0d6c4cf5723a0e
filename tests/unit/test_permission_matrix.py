"""The permission matrix as data, cell by cell: document 000's per-endpoint table kept
exactly, every row allowing each of its permissions alone and refusing every other
permission combined, unknown operations refused, every root field of the schema guarded,
and a schema with an unlisted root field refused at build time. Then which payment kinds
each read permission sees."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import strawberry
from graphql import (
    GraphQLField,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
)

from domain.access import ReadScope, visible_payment_kinds
from domain.errors import Forbidden
from domain.permissions import (
    ALL_PERMISSIONS,
    AUTHORIZE_PAYMENTS,
    COMPLETE_PAYMENTS,
    MANAGE_PAYMENTS,
    MARK_PARTNER_PAYMENTS_PAID,
    OPERATIONS,
    PAY_PARTNERS_PAYMENTS,
    REQUEST_PARTNER_PAYMENTS,
    VIEW_PARTNER_PAYMENTS,
    VIEW_PAYMENTS,
    authorize,
)
from domain.principal import Credential, Principal
from domain.statuses import PaymentKind
from resolvers.context import Context
from schema.app_schema import PayGraphSchema, schema
from schema.authorization import UnguardedOperation, guard_root_fields

READ = frozenset({VIEW_PAYMENTS, VIEW_PARTNER_PAYMENTS})
ANY_CALLER: frozenset[str] = frozenset()

# Document 000's table, row by row: (endpoint, operation, the one permission it names).
# "Payments list, details and documents" need view-partner-payments; paying, rejecting a
# payment or a document and sending to internal review need pay-partners-payments;
# approving a document needs view-partner-payments only; mark-as-paid has its own name.
DOCUMENT_000 = [
    ("GET /partner-payments", "Query.partnerPayments", VIEW_PARTNER_PAYMENTS),
    ("GET /partner-payments", "Query.payments", VIEW_PARTNER_PAYMENTS),
    ("GET /partner-payments", "Query.payment", VIEW_PARTNER_PAYMENTS),
    ("PUT /partner-payments/{id}/pay", "Mutation.payPartnerPayment", PAY_PARTNERS_PAYMENTS),
    ("PUT /partner-payments/{id}/reject", "Mutation.rejectPartnerPayment", PAY_PARTNERS_PAYMENTS),
    (
        "PATCH /partner-payments/{paymentId}/documents/{documentId}/reject",
        "Mutation.rejectPaymentDocument",
        PAY_PARTNERS_PAYMENTS,
    ),
    (
        "PATCH /partner-payments/{id}/send-to-internal-review",
        "Mutation.sendPaymentToInternalReview",
        PAY_PARTNERS_PAYMENTS,
    ),
    (
        "PATCH /partner-payments/{paymentId}/documents/{documentId}/approve",
        "Mutation.approvePaymentDocument",
        VIEW_PARTNER_PAYMENTS,
    ),
    (
        "PATCH /partner-payments/{id}/mark-as-paid",
        "Mutation.markPartnerPaymentAsPaid",
        MARK_PARTNER_PAYMENTS_PAID,
    ),
]

# The whole matrix: operation -> the permissions any one of which allows it.
EXPECTED: dict[str, frozenset[str]] = {
    "Query.viewer": ANY_CALLER,
    "Query.node": READ,
    "Query.payment": READ,
    "Query.payments": READ,
    "Query.invoice": READ,
    "Query.invoices": READ,
    "Query.address": READ,
    "Query.addresses": READ,
    "Query.partner": READ,
    "Query.partners": READ,
    "Query.partnerPayments": frozenset({VIEW_PARTNER_PAYMENTS}),
    "Query.reseller": READ,
    "Query.accountingTransactions": READ,
    "Mutation.requestPartnerPayment": frozenset({REQUEST_PARTNER_PAYMENTS}),
    "Mutation.addPaymentDocument": frozenset({REQUEST_PARTNER_PAYMENTS}),
    "Mutation.approvePaymentDocument": frozenset({VIEW_PARTNER_PAYMENTS}),
    "Mutation.rejectPaymentDocument": frozenset({PAY_PARTNERS_PAYMENTS}),
    "Mutation.payPartnerPayment": frozenset({PAY_PARTNERS_PAYMENTS}),
    "Mutation.rejectPartnerPayment": frozenset({PAY_PARTNERS_PAYMENTS}),
    "Mutation.markPartnerPaymentAsPaid": frozenset({MARK_PARTNER_PAYMENTS_PAID}),
    "Mutation.sendPaymentToInternalReview": frozenset({PAY_PARTNERS_PAYMENTS}),
    "Mutation.completePayment": frozenset({COMPLETE_PAYMENTS}),
    "Mutation.completePaymentById": frozenset({COMPLETE_PAYMENTS}),
    "Mutation.createPayment": frozenset({MANAGE_PAYMENTS}),
    "Mutation.createInvoicePayment": frozenset({MANAGE_PAYMENTS}),
    "Mutation.updatePayment": frozenset({MANAGE_PAYMENTS}),
    "Mutation.deletePayment": frozenset({MANAGE_PAYMENTS}),
    "Mutation.authorizePayment": frozenset({AUTHORIZE_PAYMENTS}),
    "Subscription.paymentChanged": READ,
    "Subscription.paymentEvents": READ,
}


def caller(*permissions: str) -> Principal:
    return Principal(
        tenant_id=1, user_id=1, credential=Credential.JWT, permissions=frozenset(permissions)
    )


def refused(principal: Principal, operation: str) -> Forbidden:
    with pytest.raises(Forbidden) as raised:
        authorize(principal, operation)
    assert raised.value.code == "FORBIDDEN"
    return raised.value


def schema_root_operations(graphql_schema: GraphQLSchema) -> list[str]:
    roots = (
        graphql_schema.query_type,
        graphql_schema.mutation_type,
        graphql_schema.subscription_type,
    )
    return [f"{root.name}.{name}" for root in roots if root is not None for name in root.fields]


# --- document 000, exactly as written --------------------------------------------------


def test_document_000_names_its_permissions_exactly() -> None:
    assert VIEW_PARTNER_PAYMENTS == "view-partner-payments"
    assert PAY_PARTNERS_PAYMENTS == "pay-partners-payments"
    assert MARK_PARTNER_PAYMENTS_PAID == "partners-payments-mark-as-a-paid"


@pytest.mark.parametrize(
    ("endpoint", "operation", "permission"),
    DOCUMENT_000,
    ids=[operation for _, operation, _ in DOCUMENT_000],
)
def test_document_000_table_row(endpoint: str, operation: str, permission: str) -> None:
    rule = OPERATIONS[operation]
    assert endpoint in rule.source
    assert rule.source.startswith("commission payouts: ")
    authorize(caller(permission), operation)
    # PayGraph's view-payments reads too; nothing else stands in for the document's name.
    assert rule.any_of - {VIEW_PAYMENTS} == {permission}
    if operation.startswith("Mutation.") or operation == "Query.partnerPayments":
        assert rule.any_of == {permission}


def test_approving_a_document_needs_view_partner_payments_and_nothing_else() -> None:
    authorize(caller(VIEW_PARTNER_PAYMENTS), "Mutation.approvePaymentDocument")
    error = refused(
        caller(*ALL_PERMISSIONS - {VIEW_PARTNER_PAYMENTS}), "Mutation.approvePaymentDocument"
    )
    assert error.message == "approvePaymentDocument needs the permission view-partner-payments."


def test_rejecting_a_document_needs_pay_partners_payments_not_view() -> None:
    refused(caller(VIEW_PARTNER_PAYMENTS, VIEW_PAYMENTS), "Mutation.rejectPaymentDocument")
    authorize(caller(PAY_PARTNERS_PAYMENTS), "Mutation.rejectPaymentDocument")


# --- the whole matrix, cell by cell -----------------------------------------------------


def test_the_matrix_is_exactly_the_expected_table() -> None:
    assert {operation: rule.any_of for operation, rule in OPERATIONS.items()} == EXPECTED


def test_every_row_names_its_source_and_only_known_permissions() -> None:
    for operation, rule in OPERATIONS.items():
        assert rule.source.strip(), operation
        assert rule.any_of <= ALL_PERMISSIONS, operation
    # Analytics read rows the caller can already list: the read permissions govern them.
    assert "view-statements" not in ALL_PERMISSIONS


CELLS = [
    (operation, permission)
    for operation in sorted(EXPECTED)
    for permission in sorted(ALL_PERMISSIONS)
]


@pytest.mark.parametrize(
    ("operation", "permission"), CELLS, ids=[f"{op}-{perm}" for op, perm in CELLS]
)
def test_one_permission_alone(operation: str, permission: str) -> None:
    expected = EXPECTED[operation]
    if not expected or permission in expected:
        authorize(caller(permission), operation)
    else:
        error = refused(caller(permission), operation)
        assert error.message.startswith(operation.partition(".")[2] + " needs the permission ")
        for needed in expected:
            assert needed in error.message


@pytest.mark.parametrize("operation", sorted(EXPECTED))
def test_every_other_permission_combined_is_refused(operation: str) -> None:
    expected = EXPECTED[operation]
    if not expected:
        # Open to any authenticated caller, with or without permissions.
        authorize(caller(), operation)
        authorize(caller(*ALL_PERMISSIONS), operation)
        return
    refused(caller(*ALL_PERMISSIONS - expected), operation)
    refused(caller(), operation)
    authorize(caller(*ALL_PERMISSIONS), operation)


@pytest.mark.parametrize(
    "operation",
    ["Query.refundEverything", "Mutation.payPartnerPayments", "Subscription.viewer", "viewer", ""],
)
def test_an_unknown_operation_is_refused_even_with_every_permission(operation: str) -> None:
    error = refused(caller(*ALL_PERMISSIONS), operation)
    assert error.message == f"{operation} is not open to any caller."


def test_permissions_that_are_not_ours_grant_nothing() -> None:
    refused(caller("VIEW-PAYMENTS", "view_payments", "*", "admin"), "Query.payments")


# --- every root field of the schema is guarded ------------------------------------------


def test_every_root_field_of_the_schema_has_a_row() -> None:
    operations = schema_root_operations(schema._schema)
    assert "Query.payments" in operations
    assert [operation for operation in operations if operation not in OPERATIONS] == []


class _NoLoaders:
    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"loader {name} used before authorization")


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ("{ payments { totalCount } }", "payments"),
        ('{ payment(id: "1") { id } }', "payment"),
        ('{ node(id: "UGF5bWVudDox") { id } }', "node"),
        ("{ partners { totalCount } }", "partners"),
    ],
)
async def test_the_built_schema_refuses_before_resolving(document: str, field: str) -> None:
    context = Context(
        principal=caller(PAY_PARTNERS_PAYMENTS, MANAGE_PAYMENTS),
        loaders=_NoLoaders(),  # type: ignore[arg-type]
        request_id="unit",
    )
    result = await schema.execute(document, context_value=context)
    assert result.errors is not None
    assert [error.extensions["code"] for error in result.errors] == ["FORBIDDEN"]
    assert result.errors[0].path == [field]
    assert result.data is None or result.data[field] is None


async def test_the_viewer_needs_no_permission() -> None:
    context = Context(principal=caller(), loaders=_NoLoaders(), request_id="unit")  # type: ignore[arg-type]
    result = await schema.execute("{ viewer { permissions paymentKinds } }", context_value=context)
    assert result.errors is None
    assert result.data == {"viewer": {"permissions": [], "paymentKinds": []}}


def test_a_schema_with_an_unlisted_query_field_does_not_build() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def viewer(self) -> str:
            return "me"

        @strawberry.field
        def refund_everything(self) -> bool:
            return True

    with pytest.raises(UnguardedOperation, match=r"Query\.refundEverything has no row"):
        PayGraphSchema(query=Query)


def test_a_schema_with_an_unlisted_mutation_does_not_build() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def viewer(self) -> str:
            return "me"

    @strawberry.type
    class Mutation:
        @strawberry.mutation
        def pay_partner_payment(self, id: strawberry.ID) -> str:
            return id

        @strawberry.mutation
        def pay_everyone(self) -> bool:
            return True

    with pytest.raises(UnguardedOperation, match=r"Mutation\.payEveryone has no row"):
        PayGraphSchema(query=Query, mutation=Mutation)


def test_a_listed_mutation_is_guarded_by_its_row() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def viewer(self) -> str:
            return "me"

    @strawberry.type
    class Mutation:
        @strawberry.mutation
        def pay_partner_payment(self, id: strawberry.ID) -> str:
            return f"paid {id}"

    tiny = PayGraphSchema(query=Query, mutation=Mutation)
    document = 'mutation { payPartnerPayment(id: "7") }'

    viewer_only = tiny.execute_sync(document, context_value=SimpleNamespace(principal=caller()))
    assert viewer_only.data is None
    assert viewer_only.errors is not None
    assert isinstance(viewer_only.errors[0].original_error, Forbidden)

    approver = SimpleNamespace(principal=caller(*ALL_PERMISSIONS - {PAY_PARTNERS_PAYMENTS}))
    assert tiny.execute_sync(document, context_value=approver).data is None

    payer = SimpleNamespace(principal=caller(PAY_PARTNERS_PAYMENTS))
    paid = tiny.execute_sync(document, context_value=payer)
    assert paid.errors is None
    assert paid.data == {"payPartnerPayment": "paid 7"}


def test_guarding_a_graphql_core_schema_fails_closed_on_every_root_type() -> None:
    viewer = GraphQLField(GraphQLString, resolve=lambda *_: "me")
    listed = GraphQLObjectType("Query", {"viewer": viewer})
    with_subscription = GraphQLSchema(
        query=listed,
        subscription=GraphQLObjectType("Subscription", {"ticks": GraphQLField(GraphQLInt)}),
    )
    with pytest.raises(UnguardedOperation, match=r"Subscription\.ticks"):
        guard_root_fields(with_subscription)

    renamed_root = GraphQLSchema(query=GraphQLObjectType("RootQuery", {"viewer": viewer}))
    with pytest.raises(UnguardedOperation, match=r"RootQuery\.viewer"):
        guard_root_fields(renamed_root)

    guard_root_fields(GraphQLSchema(query=listed))


# --- which payment kinds a reader sees --------------------------------------------------

COMMISSION_ONLY = frozenset({PaymentKind.COMMISSION})


@pytest.mark.parametrize(
    ("permissions", "kinds"),
    [
        (set(), frozenset()),
        ({VIEW_PAYMENTS}, None),
        ({VIEW_PARTNER_PAYMENTS}, COMMISSION_ONLY),
        ({VIEW_PAYMENTS, VIEW_PARTNER_PAYMENTS}, None),
        ({PAY_PARTNERS_PAYMENTS, MARK_PARTNER_PAYMENTS_PAID}, frozenset()),
        ({PAY_PARTNERS_PAYMENTS, VIEW_PARTNER_PAYMENTS}, COMMISSION_ONLY),
        (ALL_PERMISSIONS - {VIEW_PAYMENTS}, COMMISSION_ONLY),
        (ALL_PERMISSIONS - READ, frozenset()),
        (ALL_PERMISSIONS, None),
        ({"view-payment", "VIEW-PAYMENTS"}, frozenset()),
    ],
    ids=[
        "none",
        "view-payments",
        "view-partner-payments",
        "both-read-names",
        "pay-and-mark-read-nothing",
        "pay-with-view-partner",
        "all-but-view-payments",
        "all-but-the-read-names",
        "all",
        "near-misses",
    ],
)
def test_visible_payment_kinds(permissions: set[str], kinds: frozenset[PaymentKind] | None) -> None:
    assert visible_payment_kinds(permissions) == kinds
    assert visible_payment_kinds(frozenset(permissions)) == kinds


def test_the_read_scope_carries_the_visible_kinds() -> None:
    everything = ReadScope.of(caller(VIEW_PAYMENTS))
    assert everything == ReadScope(tenant_id=1)
    assert not everything.restricted

    partner_reader = ReadScope.of(caller(VIEW_PARTNER_PAYMENTS))
    assert partner_reader.payment_kinds == COMMISSION_ONLY
    assert partner_reader.partner_ids is None
    assert partner_reader.restricted

    payer = ReadScope.of(caller(PAY_PARTNERS_PAYMENTS))
    assert payer.payment_kinds == frozenset()
    assert payer.restricted

    partner_user = Principal(
        tenant_id=4,
        user_id=2,
        credential=Credential.JWT,
        permissions=frozenset({VIEW_PAYMENTS}),
        partner_id=9,
    )
    assert ReadScope.of(partner_user) == ReadScope(tenant_id=4, partner_ids=frozenset({9}))
