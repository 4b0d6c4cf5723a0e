"""Every field a list may be sorted or filtered by has an index serving it (PostgreSQL
plans are in the issue notes; this keeps new catalogue fields from arriving without)."""

from __future__ import annotations

import pytest

from db.models import Base
from db.models.list_indexes import trigram_index_name
from domain.filtering import FieldKind
from domain.listings import LISTINGS

# --- every filter and sort has an index ------------------------------------------------


def _indexed_columns(table_name: str) -> list[list[str]]:
    return [[c.name for c in index.columns] for index in Base.metadata.tables[table_name].indexes]


@pytest.mark.parametrize("listing", sorted(LISTINGS), ids=str)
def test_every_sortable_field_leads_an_index_after_its_tenant_or_parent_key(listing: str) -> None:
    catalogue = LISTINGS[listing]
    indexes = _indexed_columns(catalogue.table)
    for name, scalar in catalogue.sortable.items():
        if scalar.column == "id":
            continue
        assert any(scalar.column in columns[:2] for columns in indexes), (
            f"{listing}.{name} sorts without an index"
        )


@pytest.mark.parametrize("listing", sorted(LISTINGS), ids=str)
def test_every_text_and_id_filter_has_an_index(listing: str) -> None:

    catalogue = LISTINGS[listing]
    table = Base.metadata.tables[catalogue.table]
    names = {index.name for index in table.indexes}
    indexes = _indexed_columns(catalogue.table)
    for name, scalar in catalogue.scalars.items():
        if scalar.kind is FieldKind.TEXT:
            assert trigram_index_name(table.name, scalar.column) in names, (
                f"{listing}.{name} is searched with `contains` without a trigram index"
            )
        elif scalar.kind is FieldKind.ID and scalar.column != "id":
            assert any(
                columns[:1] == [scalar.column] or columns[:2] == ["tenant_id", scalar.column]
                for columns in indexes
            ), f"{listing}.{name} filters without an index"
