"""Who may send a GraphQL multipart request (an upload), derived from the schema and the
permission matrix: the HTTP edge checks it before it reads a byte of the body, so a
caller that may not upload cannot make the server take in megabytes first."""

from __future__ import annotations

from graphql import GraphQLNamedType, GraphQLSchema, get_named_type

from domain.permissions import OPERATIONS, Rule

UPLOAD_SCALAR = "Upload"


def upload_operations(graphql_schema: GraphQLSchema) -> tuple[str, ...]:
    """The root fields ("Mutation.addPaymentDocument") with an Upload argument (directly,
    or as a list of them)."""
    found = []
    for root in (graphql_schema.query_type, graphql_schema.mutation_type):
        if root is None:
            continue
        for name, field in root.fields.items():
            if any(_is_upload(get_named_type(a.type)) for a in field.args.values()):
                found.append(f"{root.name}.{name}")
    return tuple(found)


def upload_rule(graphql_schema: GraphQLSchema) -> Rule | None:
    """A caller may send an upload when it may run at least one operation that takes
    one: the rows of those operations in the permission matrix, joined. None when no
    operation takes an upload."""
    rules = [OPERATIONS[operation] for operation in upload_operations(graphql_schema)]
    if not rules:
        return None
    if any(not rule.any_of for rule in rules):
        return Rule(frozenset(), "an upload operation open to any caller")
    names = frozenset(name for rule in rules for name in rule.any_of)
    return Rule(names, "; ".join(rule.source for rule in rules))


def _is_upload(named: GraphQLNamedType | None) -> bool:
    return named is not None and named.name == UPLOAD_SCALAR
