"""The root Mutation, assembled from each business area's mutations."""

from __future__ import annotations

import strawberry

from schema.mutations.commission import CommissionMutations
from schema.mutations.payments import PaymentMutations


@strawberry.type(description="Change the payment graph: one mutation per state transition.")
class Mutation(CommissionMutations, PaymentMutations):
    pass
