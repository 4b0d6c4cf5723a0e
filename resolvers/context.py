"""The per-request context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from domain.commission_workflow import CommissionWorkflow
    from domain.ports import ReadLoaders
    from domain.principal import Principal


@dataclass(slots=True)
class Context:
    principal: Principal
    loaders: ReadLoaders
    request_id: str
    request: Any = None
    response: Any = None
    commission: CommissionWorkflow | None = None  # None: a read-only context
