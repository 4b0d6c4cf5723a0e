"""The root Subscription, served over websockets (graphql-transport-ws) on /graphql."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import strawberry

from domain import entities as e
from resolvers import live
from schema.field_decorators import subscription
from schema.fields import Info, filter_arg
from schema.filters import plain
from schema.types.payment import Payment
from schema.types.payment_parts import PaymentEvent

if TYPE_CHECKING:
    PaymentFilterArg: TypeAlias = Any
else:
    PaymentFilterArg = filter_arg("Payment")


@strawberry.type(
    description=(
        "Follow payments live, over a websocket on /graphql (the graphql-transport-ws "
        "protocol; the credential goes in `connection_init`'s payload)."
    )
)
class Subscription:
    @subscription(
        description=(
            "A payment each time it changes (a transition, a document review, a payout "
            "outcome, a completion, an invoice payment created, updated or deleted, an "
            "expiry), read as the caller's `payments` list would show it now: only payments "
            "the caller may see, and only those matching `filter`."
        ),
        graphql_type=Payment,
    )
    async def payment_changed(
        self, info: Info, filter: PaymentFilterArg = None
    ) -> AsyncGenerator[e.Payment, None]:
        where = live.payment_where(plain(filter))
        async for payment in live.changed_payments(info.context, where):
            yield payment

    @subscription(
        description=(
            "A payment's audit trail as it grows: each event recorded from now on, oldest "
            "first. NOT_FOUND when the caller cannot see the payment."
        ),
        graphql_type=PaymentEvent,
    )
    async def payment_events(
        self,
        info: Info,
        payment_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The payment: global ID or numeric database id."),
        ],
    ) -> AsyncGenerator[e.PaymentEvent, None]:
        async for event in live.payment_events(info.context, payment_id):
            yield event
