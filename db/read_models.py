"""Map table rows to the domain's read models: select exactly the entity's columns and
build the frozen dataclass, converting enum columns on the way."""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from dataclasses import fields
from enum import Enum
from types import UnionType
from typing import Any

from sqlalchemy import Column, Row, Table

from db import models as m
from domain import entities as e

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


def _read_model(model: type[m.Base], entity: type[Any]) -> ReadModel:
    table = model.__table__
    assert isinstance(table, Table)
    return ReadModel(table, entity)


TENANT = _read_model(m.Tenant, e.Tenant)
PARTNER = _read_model(m.Partner, e.Partner)
MERCHANT = _read_model(m.Merchant, e.Merchant)
TERMINAL = _read_model(m.Terminal, e.Terminal)
COMPANY = _read_model(m.Company, e.Company)
USER = _read_model(m.User, e.User)
ACCOUNT = _read_model(m.Account, e.Account)
ADDRESS = _read_model(m.Address, e.Address)
PAYMENT_METHOD = _read_model(m.PaymentMethod, e.PaymentMethod)
INVOICE = _read_model(m.Invoice, e.Invoice)
FX_RATE = _read_model(m.FxRate, e.FxRate)
PAYMENT = _read_model(m.Payment, e.Payment)
PAYMENT_DETAIL = _read_model(m.PaymentDetail, e.PaymentDetail)
PAYMENT_DOCUMENT = _read_model(m.PaymentDocument, e.PaymentDocument)
ACCOUNTING_TRANSACTION = _read_model(m.AccountingTransaction, e.AccountingTransaction)
PAYMENT_EVENT = _read_model(m.PaymentEvent, e.PaymentEvent)
