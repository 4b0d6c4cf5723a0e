"""The per-request context every resolver receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from domain.commission_workflow import CommissionWorkflow
    from domain.invoice_workflow import InvoicePayments
    from domain.payment_changes import PaymentFeed
    from domain.ports import CompiledReads, ReadLoaders
    from domain.principal import Principal
    from domain.reseller_payments import ResellerPayments
    from domain.throttle import CallerBucket


@dataclass(slots=True)
class Context:
    principal: Principal
    loaders: ReadLoaders
    request_id: str
    request: Any = None
    response: Any = None
    commission: CommissionWorkflow | None = None  # None: a read-only context
    resellers: ResellerPayments | None = None
    invoices: InvoicePayments | None = None
    # The caller's address: the peer, or what a trusted proxy says in X-Forwarded-For.
    client_ip: str | None = None
    # A nested list's request by its field node: every parent asks the same of it.
    list_requests: dict[Any, Any] = field(default_factory=dict)
    # The caller's bucket of query-cost points (schema.query_cost); None: not throttled.
    throttle: CallerBucket | None = None
    # What the operation was costed at (schema.query_cost.CostReport), once it was: an
    # answer replaced at the edge (REQUEST_TIMEOUT) still reports it.
    cost: Any = None
    # The operation run, as execution starts (schema.named_operation): its name (None:
    # anonymous) and type (query, mutation).
    operation_name: str | None = None
    operation_type: str | None = None
    # Runs compiled root fields (schema.compiled_execution); None: every field resolves.
    compiled: CompiledReads | None = None
    # The root fields compiled statements answered, by response key: (field, plan).
    compiled_roots: dict[str, tuple[str, Any]] = field(default_factory=dict)
    # The name of the operation the request runs when its document is a trusted one
    # (gateway.trusted_documents, set before the operation runs): the manifest bounds
    # these, so metrics may label by them. None for any other document, and for an
    # anonymous operation.
    trusted_operation: str | None = None
    # A websocket connection's subscriptions (resolvers.live): the changes of payments
    # they follow, and a fresh set of loaders per delivery (a loader keeps what it read,
    # and a delivery must read the payment as it now is). None over HTTP.
    live: PaymentFeed | None = None
    fresh_loaders: Callable[[], ReadLoaders] | None = None
