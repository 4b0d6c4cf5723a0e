"""Map table rows to the domain's read models: select exactly the entity's columns and
build the frozen dataclass, converting enum columns on the way. Every table of the read
catalog (domain.read_catalog) has one, found by the table's name."""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from dataclasses import fields
from enum import Enum
from types import UnionType
from typing import Any

from sqlalchemy import Column, Row, Table

from db import models as m
from domain import read_catalog as catalog

RowMapper = Callable[[Row[Any]], Any]


class ReadModel:
    """The columns of `table` that `entity` needs, and how to turn a row into it."""

    def __init__(self, table: Table, entity: type[Any]) -> None:
        self.table = table
        self.entity = entity
        names = [f.name for f in fields(entity)]
        self.columns: list[Column[Any]] = [table.c[name] for name in names]
        hints = typing.get_type_hints(entity)
        self._enums = [
            (index, enum)
            for index, name in enumerate(names)
            if (enum := _enum_of(hints[name])) is not None
        ]

    def build(self, row: Sequence[Any]) -> Any:
        if not self._enums:
            return self.entity(*row)
        values = list(row)
        for index, enum in self._enums:
            if values[index] is not None:
                values[index] = enum(values[index])
        return self.entity(*values)


def _enum_of(hint: Any) -> type[Enum] | None:
    candidates = typing.get_args(hint) if isinstance(hint, UnionType) else (hint,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, Enum):
            return candidate
    return None


def _read_model(table: catalog.Table[Any]) -> ReadModel:
    found = m.Base.metadata.tables[table.name]
    return ReadModel(found, table.entity)


# The read model of every table of the read catalog.
OF_TABLE: dict[catalog.Table[Any], ReadModel] = {
    table: _read_model(table) for table in catalog.TABLES
}

# Those the unit of work reads and writes (db.unit_of_work).
PARTNER = OF_TABLE[catalog.PARTNER]
USER = OF_TABLE[catalog.USER]
ADDRESS = OF_TABLE[catalog.ADDRESS]
PAYMENT_METHOD = OF_TABLE[catalog.PAYMENT_METHOD]
INVOICE = OF_TABLE[catalog.INVOICE]
FX_RATE = OF_TABLE[catalog.FX_RATE]
PAYMENT = OF_TABLE[catalog.PAYMENT]
PAYMENT_DOCUMENT = OF_TABLE[catalog.PAYMENT_DOCUMENT]
