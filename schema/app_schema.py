"""The assembled schema: `build_schema` for the server (with its request limits and
introspection setting), and `schema`, without limits, for exporting the SDL and for
in-process tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, ParserCache, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from domain.kept import KeptPerObject
from schema.authorization import guard_root_fields
from schema.compiled_execution import CompiledExecutor, CompiledOperation
from schema.errors import ErrorCodes, InputErrorCodes
from schema.limits import limit_extensions
from schema.mutation import Mutation
from schema.named_operation import NamedOperation
from schema.query import Query
from schema.query_cost import CostLimit, QueryCost
from schema.request_limits import RequestLimits
from schema.scalars import SCALAR_MAP
from schema.speedups import enabled_by_environment
from schema.speedups.lean import use_lean_resolvers
from schema.storable_text import StorableText
from schema.subscription import Subscription
from schema.types.invoices import Address, Invoice
from schema.types.parties import Company, Merchant, Partner, PaymentMethod, Terminal, User
from schema.types.payment import Payment
from schema.types.payment_parts import (
    AccountingTransaction,
    PaymentDetail,
    PaymentDocument,
    PaymentEvent,
)
from schema.types.resellers import Account

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
    Account,
]

INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
VALIDATED_DOCUMENTS = 256  # distinct documents whose validation is kept


class PayGraphSchema(strawberry.Schema):
    def __init__(self, *args: Any, speedups: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The resolver path's speed-ups (schema.speedups): off, plain Strawberry.
        self.speedups = speedups
        if speedups:
            use_lean_resolvers(self, self._schema)
        guard_root_fields(self._schema)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorCodes already logged what deserved logging, with the request id.
        return None


class KnownDocuments(SchemaExtension):
    """Strawberry's ValidationCache, keyed by the parsed document itself rather than by
    its hash: parsed documents are kept (schema.limits, ParserCache), so the same text
    is the same object, and hashing a document walks its whole tree (a fifth of a
    one-statement read's CPU went there)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        rules = tuple(context.validation_rules)
        assert document is not None  # parsed: validation runs after parsing succeeds
        context.pre_execution_errors = _VALIDATED.get_or_make(
            document, rules, lambda: validate_document(context.schema._schema, document, rules)
        )
        yield


_VALIDATED: KeptPerObject[list[GraphQLError]] = KeptPerObject(VALIDATED_DOCUMENTS)


class IntrospectionDisabledRule(NoSchemaIntrospectionCustomRule):
    """graphql-core's rule, with a code of its own."""

    def report_error(self, error: GraphQLError) -> None:
        super().report_error(
            GraphQLError(
                "Introspection is disabled on this server.",
                error.nodes,
                extensions={"code": INTROSPECTION_DISABLED},
            )
        )


def build_schema(
    limits: RequestLimits | None = None,
    *,
    introspection: bool = True,
    cost: CostLimit | None = None,
    speedups: bool | None = None,
    outer: Sequence[Any] = (),
) -> PayGraphSchema:
    """The schema with these limits; `speedups` (schema.speedups) as
    PAYGRAPH_RESOLVER_SPEEDUPS says unless given; `outer` extensions wrap all others
    (an operation's trace span)."""
    # Factories, not instances: Strawberry builds each extension afresh per request.
    extensions: list[Any] = [
        *outer,
        partial(ErrorCodes, hide_suggestions=limits.hide_suggestions if limits else False),
        InputErrorCodes,
        StorableText,
    ]
    if limits is not None:
        # Its token limit parses each document once and keeps it.
        extensions.extend(limit_extensions(limits))
    else:
        # Parsed once all the same: the same document object keys its compiled plans.
        extensions.append(partial(ParserCache, maxsize=VALIDATED_DOCUMENTS))
    if not introspection:
        extensions.append(AddValidationRules([IntrospectionDisabledRule]))
    extensions.append(NamedOperation)
    if cost is not None:
        # After validation, before execution: over the limit or out of points, no SQL runs.
        extensions.append(partial(QueryCost, cost))
    # A dashboard sends the same few documents over and over: each is validated once (the
    # cache is keyed by the parsed document and the rules). Validating the dashboard page
    # cost more than executing a 10-row page of it.
    extensions.append(KnownDocuments)
    # After the cost is taken: a query compiled statements answered whole, the last time
    # it came with these variables, is answered by them without the executor.
    extensions.append(CompiledOperation)
    return PayGraphSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        # Answers covered root fields with one compiled statement each (when the
        # context has a compiled reader), the rest through the resolvers.
        execution_context_class=CompiledExecutor,
        speedups=enabled_by_environment() if speedups is None else speedups,
    )


schema = build_schema()
