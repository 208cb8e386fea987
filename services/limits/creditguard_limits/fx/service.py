from __future__ import annotations

from decimal import Decimal

from creditguard_limits.context import LimitsContext
from creditguard_limits.fx.repository import FxRepository
from creditguard_limits.fx.rules import RateTable
from creditguard_limits.models.fx import FxRate
from creditguard_shared.errors import Unprocessable
from creditguard_shared.held import Held
from creditguard_shared.unit_of_work import UnitOfWork

# The rates this unit of work read (until it changes one).
_RATE_TABLE: Held[RateTable] = Held("limits.rate_table")


async def rate_table(uow: UnitOfWork, *, context: LimitsContext) -> RateTable:
    """Read once per unit of work: a bank statement's payments each re-decide a policy limit."""
    table = _RATE_TABLE.peek(uow.session)
    if table is None:
        rates = await FxRepository(uow.session).all_rates()
        table = _RATE_TABLE.put(uow.session, RateTable(reporting_currency=context.settings.reporting_currency, rates=rates))
    return table


async def require_rate(uow: UnitOfWork, *, context: LimitsContext, currency: str) -> None:
    """A limit or cover in a currency without a rate could never be compared with an exposure
    nor added to the book's totals: refused (422 naming the currency) until the rate is set."""
    (await rate_table(uow, context=context)).rate(currency)


async def set_rate(uow: UnitOfWork, *, context: LimitsContext, currency: str, rate: Decimal, changed_by: str) -> FxRate:
    if currency == context.settings.reporting_currency and rate != 1:
        raise Unprocessable(f"{currency} is the reporting currency; its rate is 1 by definition.", field="rate")
    _RATE_TABLE.forget(uow.session)
    repository = FxRepository(uow.session)
    entity = await repository.get(currency)
    if entity is None:
        entity = FxRate(currency=currency, rate=rate, updated_by=changed_by, updated_at=context.clock.now())
        await repository.add(entity)
    else:
        entity.rate, entity.updated_by, entity.updated_at = rate, changed_by, context.clock.now()
    return entity


async def list_rates(uow: UnitOfWork) -> list[FxRate]:
    return await FxRepository(uow.session).list()
