"""`node(id)` and the root lookups by id: a global ID names a type and a row id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from domain import entities as e
from domain import read_catalog as catalog
from domain.errors import NotFound, PartnerNotFound
from domain.statuses import PartnerKind
from resolvers.cursors import decode_token, parse_row_id

if TYPE_CHECKING:
    from resolvers.context import Context

T = TypeVar("T")

# GraphQL type name -> the lookup of its rows by id, for every type a global ID may name
LOOKUP_OF_TYPE: dict[str, catalog.ById[Any]] = {
    lookup.table.type_name: lookup for lookup in catalog.LOOKUPS if lookup.table.node
}
# ... and that lookup's loader name, as schema.compiled_plan names a row's table
LOADER_OF_TYPE = {type_name: lookup.name for type_name, lookup in LOOKUP_OF_TYPE.items()}


def parse_global_id(global_id: str) -> tuple[str, int] | None:
    """`(type name, row id)` of a global ID, or None when it is not one of ours."""
    return decode_token(global_id)


async def node(context: Context, global_id: str) -> object:
    """The object a global ID names (an entity of any Node type), or NOT_FOUND; another
    tenant's is not found too."""
    parsed = parse_global_id(global_id)
    if parsed is None or parsed[0] not in LOOKUP_OF_TYPE:
        raise NotFound(f"No object has the ID {global_id!r}.", field="id")
    type_name, row_id = parsed
    found: object = await context.loaders.of(LOOKUP_OF_TYPE[type_name]).load(row_id)
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


async def by_id(context: Context, lookup: catalog.ById[T], given: str) -> T:
    """A root lookup such as `payment(id)`: takes the global ID or the numeric row id."""
    type_name = lookup.table.type_name
    found = await context.loaders.of(lookup).load(row_id(type_name, given))
    if found is None:
        not_found = NOT_FOUND_OF_TYPE.get(type_name, NotFound)
        raise not_found(f"No {type_name} has the ID {given!r}.", field="id")
    return found


async def reseller(context: Context, given: str) -> e.Partner:
    """`reseller(id)`: a partner of kind RESELLER in the caller's scope."""
    partner = await context.loaders.of(catalog.PARTNER_BY_ID).load(row_id("Partner", given))
    found = as_reseller(partner)
    if found is None:
        raise NotFound(f"No reseller has the ID {given!r}.", field="id")
    return found


def as_reseller(partner: e.Partner | None) -> e.Partner | None:
    """A partner read as the reseller completion API's reseller: only one of kind RESELLER is."""
    return partner if partner is not None and partner.kind is PartnerKind.RESELLER else None
