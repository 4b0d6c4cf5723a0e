"""The read catalog holds together: every key and foreign key is a column of the right
table, every loader name is one loader, and the schema's relation fields are the
catalog's entries over the catalog's types."""

from __future__ import annotations

import typing
from dataclasses import fields
from typing import Any

import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType

from db.loaders import BY_ID, BY_PARENT, ROOTS, SqlReadLoaders
from db.models import Base
from domain import read_catalog as catalog
from domain.listings import LISTINGS
from schema.app_schema import schema
from schema.field_kinds import CHILDREN, DEFINITION, RELATION


def _columns(table: catalog.Table[Any]) -> set[str]:
    """The names that are both a field of the table's entity and a column of its table."""
    return {f.name for f in fields(table.entity)} & set(Base.metadata.tables[table.name].c.keys())


def _named(output_type: Any) -> Any:
    while isinstance(output_type, GraphQLNonNull | GraphQLList):
        output_type = output_type.of_type
    return output_type


def _schema_fields(kind: str) -> list[tuple[str, str, Any, Any]]:
    """(type, field, GraphQL field, metadata entry) of every schema field marked `kind`."""
    found = []
    for type_name, named_type in schema._schema.type_map.items():
        if not isinstance(named_type, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for name, field in named_type.fields.items():
            definition = (field.extensions or {}).get(DEFINITION)
            metadata = getattr(definition, "metadata", None) or {}
            if kind in metadata:
                found.append((type_name, name, field, metadata[kind]))
    return found


@pytest.mark.parametrize("relation", catalog.TO_ONE, ids=lambda r: f"{r.parent.name}.{r.key}")
def test_a_to_one_key_is_a_column_of_its_parent(relation: catalog.ToOne[Any]) -> None:
    assert relation.key in _columns(relation.parent)


@pytest.mark.parametrize("relation", catalog.TO_MANY, ids=lambda r: r.name)
def test_a_to_many_foreign_key_is_a_column_of_its_children(relation: catalog.ToMany[Any]) -> None:
    assert relation.foreign_key in _columns(relation.target)
    if relation.excluded_statuses:
        status = typing.get_type_hints(relation.target.entity)["status"]
        assert all(isinstance(value, status) for value in relation.excluded_statuses)


def test_every_loader_name_names_one_entry_and_no_other_attribute_of_the_loaders() -> None:
    names = [
        *(lookup.name for lookup in catalog.LOOKUPS),
        *(relation.name for relation in catalog.TO_MANY),
        *(root.name for root in catalog.ROOT_LISTS),
    ]
    assert len(names) == len(set(names))
    assert not set(names) & set(dir(SqlReadLoaders))
    assert set(names) == set(BY_ID) | set(BY_PARENT) | set(ROOTS)


def test_every_table_is_read_as_its_listing_says() -> None:
    for table in catalog.TABLES:
        listing = LISTINGS.get(table.type_name)
        assert listing is None or listing.table == table.name, table
    assert set(LISTINGS) <= {table.type_name for table in catalog.TABLES}


def test_every_to_one_field_is_a_catalog_relation_to_its_own_type() -> None:
    relations = {(r.parent.type_name, r.key): r for r in catalog.TO_ONE}
    seen = _schema_fields(RELATION)
    for type_name, name, field, (loader, key) in seen:
        relation = relations.get((type_name, key))
        assert relation is not None, f"{type_name}.{name}"
        assert relation.name == loader, f"{type_name}.{name}"
        assert _named(field.type).name == relation.target.type_name, f"{type_name}.{name}"
    assert seen


def test_every_child_list_field_is_a_catalog_relation_listing_its_own_type() -> None:
    relations = {relation.name: relation for relation in catalog.TO_MANY}
    seen = _schema_fields(CHILDREN)
    for type_name, name, field, children in seen:
        relation = relations[children.relation]
        nodes = _named(_named(field.type).fields["nodes"].type)
        assert nodes.name == relation.target.type_name, f"{type_name}.{name}"
    assert seen
