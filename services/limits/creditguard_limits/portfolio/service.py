from __future__ import annotations

import logging
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from creditguard_limits.checks.service import count_pending
from creditguard_limits.context import LimitsContext
from creditguard_limits.fx.rules import RateTable, to_cents
from creditguard_limits.fx.service import rate_table
from creditguard_limits.models.accounts import CreditAccount
from creditguard_limits.portfolio import rules
from creditguard_limits.portfolio.repository import PortfolioRepository
from creditguard_limits.portfolio.schemas import CashInForecastOut, ForecastWeekOut, PortfolioOut, ShareOut
from creditguard_limits.position.rules import OVERDUE_BUCKET_STARTS, ZERO, Cover, Position, compute_exposure, uninsured_share
from creditguard_shared.errors import Unprocessable
from creditguard_shared.unit_of_work import UnitOfWork

TOP = 10

logger = logging.getLogger(__name__)


async def _positions(uow: UnitOfWork, *, context: LimitsContext, rates: RateTable) -> tuple[list[tuple[CreditAccount, Position]], list[str]]:
    """Every buyer's position in the reporting currency, from four grouped queries, and the
    buyers left out because an amount of theirs is in a currency without a rate: one such row
    must not take the whole book's figures down with it."""
    repository = PortfolioRepository(uow.session)
    today, currency = context.clock.today(), context.settings.reporting_currency
    invoices = await repository.invoice_totals_by_buyer(today=today)
    orders = await repository.order_totals_by_buyer(today=today)
    cash = await repository.cash_totals_by_buyer()
    increases = await repository.temporary_increases_by_buyer(today=today)
    covers = await repository.covers_by_buyer(today=today)
    positions, unconverted = [], []
    for account in await repository.accounts():
        try:
            positions.append(
                (
                    account,
                    _position(
                        account, invoices=invoices, orders=orders, cash=cash, increases=increases, covers=covers, rates=rates, currency=currency, today=today
                    ),
                )
            )
        except Unprocessable:
            unconverted.append(account.buyer_id)
    if unconverted:
        logger.warning("book-wide figures leave out %d buyers with amounts in currencies without a rate: %s", len(unconverted), unconverted[:20])
    return positions, unconverted


def _position(
    account: CreditAccount,
    *,
    invoices: dict[str, Any],
    orders: dict[str, Any],
    cash: dict[str, Any],
    increases: dict[str, Any],
    covers: dict[str, Any],
    rates: RateTable,
    currency: str,
    today: date,
) -> Position:
    cover = covers.get(account.buyer_id)
    return Position(
        buyer_id=account.buyer_id,
        currency=currency,
        base_limit=None
        if account.limit_amount is None
        else rates.convert(account.limit_amount, from_currency=account.currency or currency, to_currency=currency),
        temporary_increase=ZERO
        if account.limit_amount is None
        else rates.convert(increases.get(account.buyer_id, ZERO), from_currency=account.currency or currency, to_currency=currency),
        exposure=compute_exposure(
            invoices=invoices.get(account.buyer_id, []),
            orders=orders.get(account.buyer_id, {}),
            rates=rates,
            currency=currency,
            today=today,
            cash=cash.get(account.buyer_id),
        ),
        group=None,
        cover=None
        if cover is None
        else Cover(
            policy_id=cover[1].policy_id,
            insurer=cover[1].insurer,
            granted=rates.convert(cover[0].granted_amount, from_currency=cover[0].currency, to_currency=currency),
            indemnity_percentage=cover[1].indemnity_percentage,
            max_credit_period_days=cover[1].max_credit_period_days,
            uninsured_action=cover[1].uninsured_action,
        ),
    )


async def portfolio(uow: UnitOfWork, *, context: LimitsContext) -> PortfolioOut:
    rates = await rate_table(uow, context=context)
    positions, unconverted = await _positions(uow, context=context, rates=rates)
    exposures = {account.buyer_id: position.exposure.total for account, position in positions}
    overdue = {name: sum((p.exposure.overdue_by_bucket[name] for _, p in positions), ZERO) for name, _ in OVERDUE_BUCKET_STARTS}
    return PortfolioOut(
        currency=context.settings.reporting_currency,
        as_of=context.clock.today(),
        buyers=len(positions),
        total_exposure=sum(exposures.values(), ZERO),
        open_invoices=sum((p.exposure.open_invoices for _, p in positions), ZERO),
        open_orders=sum((p.exposure.open_orders for _, p in positions), ZERO),
        unapplied_cash=sum((p.exposure.unapplied_cash for _, p in positions), ZERO),
        overdue_by_bucket=overdue,
        insured=sum((p.insured for _, p in positions), ZERO),
        uninsured=sum((p.uninsured for _, p in positions), ZERO),
        total_limits=sum((p.limit for _, p in positions if p.limit is not None), ZERO),
        utilisation_distribution=_utilisation_distribution(positions),
        top_buyers=[ShareOut(**s) for s in rules.shares(exposures, top=TOP)],
        countries=[ShareOut(**s) for s in rules.shares(rules.group_by([(a.country, p.exposure.total) for a, p in positions]), top=TOP)],
        industries=[ShareOut(**s) for s in rules.shares(rules.group_by([(a.industry, p.exposure.total) for a, p in positions]), top=TOP)],
        herfindahl_index=rules.herfindahl(list(exposures.values())),
        unconverted_buyers=unconverted,
    )


def _utilisation_distribution(positions: list[tuple[CreditAccount, Position]]) -> dict[str, int]:
    counts = Counter(rules.utilisation_bucket(p.utilisation) for _, p in positions if p.utilisation is not None)
    return {name: counts.get(name, 0) for name in ("0-50", "50-80", "80-100", rules.OVER_LIMIT_BUCKET)}


async def cash_in_forecast(uow: UnitOfWork, *, context: LimitsContext, weeks: int) -> CashInForecastOut:
    """Expected collections per week: each open invoice at its due date shifted by the buyer's
    average days late, less its expected loss (open amount x PD x LGD x uninsured share)."""
    rates = await rate_table(uow, context=context)
    policy = context.policy.current
    today, currency = context.clock.today(), context.settings.reporting_currency
    listed, unconverted = await _positions(uow, context=context, rates=rates)
    positions = {account.buyer_id: (account, position) for account, position in listed}
    collections = [ZERO] * weeks
    losses = [ZERO] * weeks
    beyond = total_open = total_loss = ZERO
    for buyer_id, invoice_currency, open_amount, due_on in await PortfolioRepository(uow.session).open_invoices():
        if buyer_id not in positions:
            continue
        account, position = positions[buyer_id]
        amount = rates.convert(open_amount, from_currency=invoice_currency, to_currency=currency)
        pd = account.pd if account.pd is not None else policy.unassessed_pd
        loss = amount * Decimal(pd) * policy.economics.loss_given_default * uninsured_share(position)
        average_late = Decimal(account.days_late_total) / account.invoices_settled if account.invoices_settled else Decimal(0)
        week = rules.week_index(on=rules.expected_payment_date(due_on=due_on, average_days_late=average_late, today=today), today=today)
        total_open += amount
        total_loss += loss
        if week < weeks:
            collections[week] += amount - loss
            losses[week] += loss
        else:
            beyond += amount - loss
    return CashInForecastOut(
        currency=currency,
        as_of=today,
        weeks=[
            ForecastWeekOut(
                week=i + 1, week_start=today + timedelta(days=7 * i), expected_collections=to_cents(collections[i]), expected_loss=to_cents(losses[i])
            )
            for i in range(weeks)
        ],
        beyond_horizon=to_cents(beyond),
        total_open=to_cents(total_open),
        expected_loss=to_cents(total_loss),
        unconverted_buyers=unconverted,
    )


async def refresh_portfolio_metrics(uow: UnitOfWork, *, context: LimitsContext) -> PortfolioOut:
    summary = await portfolio(uow, context=context)
    metrics = context.metrics
    metrics.portfolio_exposure.set(float(summary.total_exposure))
    metrics.portfolio_uninsured.set(float(summary.uninsured))
    for bucket, amount in summary.overdue_by_bucket.items():
        metrics.portfolio_overdue.labels(bucket).set(float(amount))
    for bucket, count in summary.utilisation_distribution.items():
        metrics.buyers_by_utilisation.labels(bucket).set(count)
    metrics.referred_pending.set(await count_pending(uow))
    return summary
