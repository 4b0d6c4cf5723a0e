"""The assembled schema object served at /graphql and exported to schema.graphql."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql.error import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.errors import ErrorCodes
from schema.query import Query
from schema.scalars import SCALAR_MAP
from schema.types.invoices import Address, Invoice
from schema.types.parties import Company, Merchant, Partner, PaymentMethod, Terminal, User
from schema.types.payment import Payment
from schema.types.payment_parts import (
    AccountingTransaction,
    PaymentDetail,
    PaymentDocument,
    PaymentEvent,
)

NODE_TYPES: list[Any] = [
    Payment,
    PaymentDetail,
    PaymentDocument,
    AccountingTransaction,
    PaymentEvent,
    Invoice,
    Address,
    Partner,
    Merchant,
    Terminal,
    Company,
    User,
    PaymentMethod,
]


class PayGraphSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorCodes already logged what deserved logging, with the request id.
        return None


schema = PayGraphSchema(
    query=Query,
    types=NODE_TYPES,
    extensions=[ErrorCodes],
    config=StrawberryConfig(scalar_map=SCALAR_MAP),
)
