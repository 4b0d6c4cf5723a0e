"""`paygraph statement`: one partner's (or every partner's in the caller's scope)
statement for a month, pulled from a running gateway, reconciled against the gateway's
own aggregate, and written as CSV, JSON and PDF."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from domain.errors import NotFound
from domain.statements import Month, Statement, reconciled
from gateway.statement_client import PartnerRef, StatementSource
from gateway.statement_files import StatementFiles, write_statement


@dataclass(frozen=True, slots=True)
class StatementReport:
    """What generating one partner's statement took."""

    partner: PartnerRef
    payments: int
    merchants: int
    requests: int
    seconds: float
    files: StatementFiles


async def generate_statements(
    source: StatementSource,
    month: Month,
    folder: Path,
    *,
    partner_id: str | None = None,
) -> list[StatementReport]:
    """Statements for `partner_id`, or for every partner the credential can see; stops at
    the first that does not reconcile (StatementMismatch), writing nothing for it."""
    if partner_id is not None:
        found = await source.partner(partner_id)
        if found is None:
            raise NotFound(f"Partner {partner_id} is not visible to this credential.")
        partners = [found]
    else:
        partners = await source.partners()
    reports = []
    progress = tqdm(
        partners,
        desc=f"Statements {month}",
        unit="partner",
        file=sys.stderr,
        disable=len(partners) < 2,
    )
    for partner in progress:
        reports.append(await _one(source, partner, month, folder))
    return reports


async def _one(
    source: StatementSource, partner: PartnerRef, month: Month, folder: Path
) -> StatementReport:
    started, requests = time.perf_counter(), source.requests
    statement = Statement(partner.database_id, partner.name, month)
    merchants = await source.merchants(partner)
    async for lines in source.lines(merchants, month):
        for line in lines:
            statement.add(line)
    reconciled(statement, await source.gateway_groups(partner, month))
    files = write_statement(statement, folder)
    return StatementReport(
        partner,
        len(statement.lines),
        len(merchants),
        source.requests - requests,
        time.perf_counter() - started,
        files,
    )
