"""The connection of every Relay payment list: its page, plus `aggregate` and `groupBy`
over the whole list."""

from __future__ import annotations

import strawberry

from schema.connection import Connection
from schema.types.analytics import MeasuredList
from schema.types.payment import Payment


@strawberry.type(
    name="PaymentConnection",
    description="A page of payments, with measures over every payment of the list.",
)
class PaymentConnection(Connection[Payment], MeasuredList):
    pass
