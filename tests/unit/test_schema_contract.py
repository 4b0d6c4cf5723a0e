"""schema.graphql is the code's schema, and every type, field and argument documents
itself with a description."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType
from graphql.type.introspection import introspection_types

from schema.app_schema import schema

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schema_graphql_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == schema.as_str() + "\n", (
        "schema.graphql is stale: run `.venv/bin/paygraph export-schema --output schema.graphql`"
    )


def test_every_type_field_and_argument_has_a_description() -> None:
    missing: list[str] = []
    graphql_schema = schema._schema
    for name, named_type in graphql_schema.type_map.items():
        if name.startswith("__") or name in introspection_types:
            continue
        if name in {"String", "Int", "Float", "Boolean", "ID", "Date", "DateTime"}:
            continue
        if not named_type.description:
            missing.append(name)
        if isinstance(named_type, GraphQLObjectType | GraphQLInputObjectType):
            for field_name, field in named_type.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
        if isinstance(named_type, GraphQLEnumType):
            continue  # values are self-describing UPPER_SNAKE names of the documents
    assert missing == []
