"""Receive financial statements. One statement per buyer and fiscal year: a re-send replaces it
(a restated statement), an identical re-send changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from creditguard_scoring.buyers.service import get_buyer
from creditguard_scoring.models.statements import FinancialStatement
from creditguard_scoring.statements.repository import StatementRepository
from creditguard_scoring.statements.rules import LINES, compute_ratios, statement_problems
from creditguard_scoring.statements.schemas import StatementIn
from creditguard_shared.errors import Unprocessable
from creditguard_shared.unit_of_work import UnitOfWork

HEADER_FIELDS = ("period_end", "currency", "source")

# Enough years for every ratio that looks back (sales growth, three-year profit).
YEARS_FOR_RATIOS = 3


def statement_lines(statement: FinancialStatement) -> dict[str, Any]:
    return {name: getattr(statement, name) for name in LINES}


async def submit_statement(uow: UnitOfWork, *, buyer_id: str, submitted: StatementIn, now: datetime) -> tuple[FinancialStatement, bool, bool]:
    """Returns (statement, created, changed)."""
    await get_buyer(uow, buyer_id=buyer_id)
    values = submitted.model_dump(include=set(LINES) | set(HEADER_FIELDS))
    problems = statement_problems(values)
    if problems:
        raise Unprocessable("The financial statement is not plausible: " + "; ".join(p["message"] for p in problems), errors=problems)
    repository = StatementRepository(uow.session)
    existing = await repository.for_year(buyer_id, submitted.fiscal_year)
    if existing is None:
        statement = FinancialStatement(buyer_id=buyer_id, fiscal_year=submitted.fiscal_year, received_at=now, **values)
        await repository.add(statement)
        return statement, True, True
    if all(getattr(existing, name) == value for name, value in values.items()):
        return existing, False, False
    for name, value in values.items():
        setattr(existing, name, value)
    existing.received_at = now
    await uow.session.flush()
    return existing, False, True


async def statements(uow: UnitOfWork, *, buyer_id: str) -> list[tuple[FinancialStatement, dict[str, float | None]]]:
    """The buyer's statements, newest first, each with the ratios it yields."""
    await get_buyer(uow, buyer_id=buyer_id)
    newest_first = await StatementRepository(uow.session).newest_first(buyer_id)
    return [(s, compute_ratios(statement_lines(s), [statement_lines(e) for e in _preceding(newest_first, i)])) for i, s in enumerate(newest_first)]


def _preceding(newest_first: list[FinancialStatement], index: int) -> list[FinancialStatement]:
    # Only an unbroken run of directly preceding fiscal years counts for growth and three-year profit.
    preceding: list[FinancialStatement] = []
    expected_year = newest_first[index].fiscal_year - 1
    for statement in newest_first[index + 1 : index + YEARS_FOR_RATIOS]:
        if statement.fiscal_year != expected_year:
            break
        preceding.append(statement)
        expected_year -= 1
    return preceding


async def latest_with_history(uow: UnitOfWork, *, buyer_id: str) -> tuple[FinancialStatement | None, list[FinancialStatement]]:
    """The newest statement and the directly preceding years, newest first."""
    newest_first = await StatementRepository(uow.session).newest_first(buyer_id, limit=YEARS_FOR_RATIOS)
    if not newest_first:
        return None, []
    return newest_first[0], _preceding(newest_first, 0)
