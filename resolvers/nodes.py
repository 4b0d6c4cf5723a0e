"""`node(id)` and the root lookups by id: a global ID names a type and a row id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain import entities as e
from domain.errors import NotFound, PartnerNotFound
from domain.statuses import PartnerKind
from resolvers.cursors import decode_token, parse_row_id

if TYPE_CHECKING:
    from resolvers.context import Context

# GraphQL type name -> id loader name
LOADER_OF_TYPE = {
    "Payment": "payment_by_id",
    "PaymentDetail": "payment_detail_by_id",
    "PaymentDocument": "payment_document_by_id",
    "AccountingTransaction": "accounting_transaction_by_id",
    "PaymentEvent": "payment_event_by_id",
    "Invoice": "invoice_by_id",
    "Address": "address_by_id",
    "Partner": "partner_by_id",
    "Merchant": "merchant_by_id",
    "Terminal": "terminal_by_id",
    "Company": "company_by_id",
    "User": "user_by_id",
    "PaymentMethod": "payment_method_by_id",
    "Account": "account_by_id",
}


def parse_global_id(global_id: str) -> tuple[str, int] | None:
    """`(type name, row id)` of a global ID, or None when it is not one of ours."""
    return decode_token(global_id)


async def node(context: Context, global_id: str) -> Any:
    """The object a global ID names, or NOT_FOUND; another tenant's is not found too."""
    parsed = parse_global_id(global_id)
    if parsed is None or parsed[0] not in LOADER_OF_TYPE:
        raise NotFound(f"No object has the ID {global_id!r}.", field="id")
    type_name, row_id = parsed
    found = await getattr(context.loaders, LOADER_OF_TYPE[type_name]).load(row_id)
    if found is None:
        raise NotFound(f"No object has the ID {global_id!r}.", field="id")
    return found


# Lookups whose documents name their own not-found code.
NOT_FOUND_OF_TYPE: dict[str, type[NotFound]] = {"Partner": PartnerNotFound}


def named_row_id(type_name: str, given: str) -> int | None:
    """The row id in a global ID of `type_name` or a numeric database id; None for
    anything else (another type's global ID, text that is no id)."""
    parsed = parse_global_id(given)
    if parsed is not None:
        return parsed[1] if parsed[0] == type_name else None
    return parse_row_id(given)


def row_id(type_name: str, given: str, *, field: str = "id") -> int:
    """As `named_row_id`, with NOT_FOUND (or the type's own code) for anything else."""
    if (found := named_row_id(type_name, given)) is not None:
        return found
    not_found = NOT_FOUND_OF_TYPE.get(type_name, NotFound)
    raise not_found(f"No {type_name} has the ID {given!r}.", field=field)


async def by_id(context: Context, type_name: str, given: str) -> Any:
    """A root lookup such as `payment(id)`: takes the global ID or the numeric row id."""
    found = await getattr(context.loaders, LOADER_OF_TYPE[type_name]).load(row_id(type_name, given))
    if found is None:
        not_found = NOT_FOUND_OF_TYPE.get(type_name, NotFound)
        raise not_found(f"No {type_name} has the ID {given!r}.", field="id")
    return found


async def reseller(context: Context, given: str) -> Any:
    """`reseller(id)`: a partner of kind RESELLER in the caller's scope."""
    found = as_reseller(await context.loaders.partner_by_id.load(row_id("Partner", given)))
    if found is None:
        raise NotFound(f"No reseller has the ID {given!r}.", field="id")
    return found


def as_reseller(partner: e.Partner | None) -> e.Partner | None:
    """A partner read as document 002's reseller: only one of kind RESELLER is."""
    return partner if partner is not None and partner.kind is PartnerKind.RESELLER else None
