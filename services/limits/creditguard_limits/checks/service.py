"""The credit check, in one short transaction: lock the buyer's account (then its group), read
the exposure with two aggregates, decide, reserve, publish."""

from __future__ import annotations

import dataclasses
import functools
import json
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal

from creditguard_limits.accounts.service import recommendation_for
from creditguard_limits.checks.repository import CheckRecord, ChecksRepository, ReservationRecord
from creditguard_limits.checks.rules import AccountFacts, CheckRequest, Outcome, Rates, evaluate
from creditguard_limits.checks.schemas import CreditCheckIn
from creditguard_limits.context import LimitsContext
from creditguard_limits.economics.rules import expected_days_late, insured_capacity
from creditguard_limits.fx.rules import RateTable, to_cents
from creditguard_limits.models.checks import CreditCheck, OrderReservation
from creditguard_limits.position.repository import AccountSnapshot
from creditguard_limits.position.rules import ZERO, Position, breakdown
from creditguard_limits.position.service import lock_or_create_account, locked_snapshot_position, publish_snapshot_position, refresh_exposure
from creditguard_shared.errors import Conflict, NotFound
from creditguard_shared.events.contracts import CreditCheckDecidedV1
from creditguard_shared.unit_of_work import UnitOfWork

APPROVALS = ("approved", "approved_with_conditions")


async def run_credit_check(uow: UnitOfWork, *, context: LimitsContext, request: CreditCheckIn, requested_by: str) -> tuple[CreditCheck | CheckRecord, bool]:
    """Returns the decision and whether it is new (a new one as the record written: see
    ``CheckRecord``). The same order sent again gets the stored decision; a changed order is
    checked again for the difference."""
    started = time.perf_counter()
    account, position, rates = await locked_snapshot_position(uow, context=context, buyer_id=request.buyer_id, lock_group=True)
    checks = ChecksRepository(uow.session)
    previous = await checks.latest_for_order(request.order_id)
    reservation = None
    if previous is not None:
        if previous.buyer_id != request.buyer_id:
            raise Conflict(f"Order {request.order_id} was checked for buyer {previous.buyer_id}.", field="order_id")
        if (previous.amount, previous.currency, previous.payment_terms_days) == (request.amount, request.currency, request.payment_terms_days):
            return previous, False
        if previous.state == "pending":
            previous.state = "superseded"
            uow.on_commit(context.metrics.referred_pending.dec)
        # Only a checked order can hold a reservation.
        reservation = await checks.reservation(request.order_id)
    reserved = _open_amount(reservation, rates=rates, currency=position.currency, today=context.clock.today())
    amount = rates.convert(request.amount, from_currency=request.currency, to_currency=position.currency)
    policy = context.policy.current
    to_position = Rates(to_position=lambda value: rates.convert(value, from_currency=policy.matrix_currency, to_currency=position.currency))
    facts = _facts(account, context=context, rates=rates, to_position=to_position, position=position)
    outcome = evaluate(
        policy,
        request=CheckRequest(
            amount=amount,
            additional=amount - reserved,
            payment_terms_days=request.payment_terms_days,
            today=context.clock.today(),
            product_line=request.product_line,
        ),
        account=facts,
        position=position,
        rates=to_position,
    )
    check = _record(
        context=context,
        request=request,
        position=position,
        outcome=outcome,
        amount=amount,
        reserved=reserved,
        requested_by=requested_by,
        capacity=facts.economic_capacity,
    )
    checks.insert_check_at_commit(uow, check)
    if outcome.decision in APPROVALS:
        # A prepaid part is paid with the order: only the rest is credit to reserve.
        on_credit = request.amount if outcome.prepaid <= 0 or amount <= 0 else to_cents(request.amount * (amount - outcome.prepaid) / amount)
        await _reserve(uow, context=context, check=check, reservation=reservation, on_credit=on_credit, at_commit=True)
        # The position was read under the lock a moment ago: adjust it rather than query again.
        added = amount - reserved - outcome.prepaid
        exposure = dataclasses.replace(position.exposure, open_orders=position.exposure.open_orders + added)
        group = position.group and dataclasses.replace(position.group, exposure=position.group.exposure + added)
        await publish_snapshot_position(uow, account=account, position=dataclasses.replace(position, exposure=exposure, group=group))
    elif outcome.decision == "referred":
        uow.on_commit(context.metrics.referred_pending.inc)
    _publish_decision(uow, check=check)
    uow.on_commit(functools.partial(_count, context, check=check, seconds=time.perf_counter() - started))
    return check, True


def _facts(account: AccountSnapshot, *, context: LimitsContext, rates: RateTable, to_position: Rates, position: Position) -> AccountFacts:
    capacity = None
    if account.grade is not None:
        # The recommendation before the ramp-up, in the position's currency, plus the insurer's
        # cover when exposure inside it earns.
        recommendation = recommendation_for(context=context, account=account, rates=rates)
        capacity = to_position.to_position(recommendation.economic_limit)
        if position.cover is not None:
            capacity += insured_capacity(
                context.policy.current.economics,
                cover=position.cover.granted,
                indemnity_share=position.cover.indemnity_percentage / 100,
                limit=recommendation.economics,
            )
    return AccountFacts(
        status=account.status,
        grade=account.grade,
        risk_class=account.risk_class,
        review_on=account.review_on,
        payment_terms_days=account.payment_terms_days,
        unknown=account.limit_amount is None and account.grade is None,
        pd=account.pd,
        industry=account.industry,
        limit_source=account.limit_source,
        economic_capacity=capacity,
        expected_days_late=expected_days_late(days_late_total=account.days_late_total, invoices_settled=account.invoices_settled),
    )


def _open_amount(reservation: OrderReservation | None, *, rates: RateTable, currency: str, today: date) -> Decimal:
    if reservation is None or reservation.status != "open" or reservation.expires_on < today:
        return ZERO
    return rates.convert(reservation.amount, from_currency=reservation.currency, to_currency=currency)


def _record(
    *,
    context: LimitsContext,
    request: CreditCheckIn,
    position: Position,
    outcome: Outcome,
    amount: Decimal,
    reserved: Decimal,
    requested_by: str,
    capacity: Decimal | None,
) -> CheckRecord:
    before = position.exposure.total
    approved = outcome.decision in APPROVALS
    after = before + amount - reserved - (outcome.prepaid if approved else ZERO)
    available = position.available
    if outcome.limit_basis == "economic_capacity" and outcome.decision_limit is not None:
        # Headroom against the limit the decision was made against.
        own = max(outcome.decision_limit - before, ZERO)
        available = own if position.group is None else min(own, position.group.available)
    if approved and available is not None:
        available = max(available - (amount - reserved - outcome.prepaid), ZERO)
    economics = None
    if outcome.economics is not None:
        economics = json.dumps(outcome.economics.as_json() | {"economic_capacity": None if capacity is None else str(to_cents(capacity))})
    now = context.clock.now()
    return CheckRecord(
        check_id=str(uuid.uuid4()),
        buyer_id=request.buyer_id,
        order_id=request.order_id,
        amount=request.amount,
        currency=request.currency,
        payment_terms_days=request.payment_terms_days,
        decision=outcome.decision,
        state="pending" if outcome.decision == "referred" else "decided",
        reasons=json.dumps(outcome.reasons),
        conditions=json.dumps(outcome.conditions),
        limit_currency=position.currency,
        limit_amount=outcome.decision_limit,
        limit_basis=None if outcome.decision_limit is None else outcome.limit_basis,
        economics=economics,
        exposure_before=before,
        exposure_after=after,
        available_credit=available,
        breakdown=json.dumps(
            {
                "position": breakdown(position),
                "order_amount_in_limit_currency": str(amount),
                "already_reserved": str(reserved),
                "inputs": request.model_dump(mode="json"),
            }
        ),
        rules_version=context.policy.rules_version,
        requested_by=requested_by,
        decided_by=None,
        decision_comment=None,
        created_at=now,
        decided_at=None if outcome.decision == "referred" else now,
    )


async def _reserve(
    uow: UnitOfWork,
    *,
    context: LimitsContext,
    check: CreditCheck | CheckRecord,
    reservation: OrderReservation | None,
    on_credit: Decimal | None = None,
    at_commit: bool = False,
) -> None:
    """Reserve the order's credit (the caller publishes the position). ``on_credit``: the part of
    the order (its currency) sold on credit; all of it by default. ``at_commit``: a new
    reservation is written with the transaction's events, for a caller that does not read the
    exposure again before it commits."""
    expires_on = context.clock.today() + timedelta(days=context.policy.current.reservation_valid_days)
    amount = check.amount if on_credit is None else on_credit
    if reservation is None:
        new = ReservationRecord(
            order_id=check.order_id,
            buyer_id=check.buyer_id,
            check_id=check.check_id,
            amount=amount,
            currency=check.currency,
            expires_on=expires_on,
            created_at=context.clock.now(),
        )
        if at_commit:
            ChecksRepository.insert_reservation_at_commit(uow, new)
        else:
            await ChecksRepository(uow.session).insert_reservation(new)
    else:
        reservation.check_id, reservation.amount, reservation.currency = check.check_id, amount, check.currency
        reservation.status, reservation.expires_on, reservation.released_at = "open", expires_on, None


def _publish_decision(uow: UnitOfWork, *, check: CreditCheck | CheckRecord) -> None:
    uow.emit(
        CreditCheckDecidedV1(
            check_id=check.check_id,
            buyer_id=check.buyer_id,
            order_id=check.order_id,
            decision=check.decision,
            amount=check.amount,
            currency=check.currency,
            decided_by=check.decided_by,
        ),
        subject=check.buyer_id,
    )


def _count(context: LimitsContext, *, check: CreditCheck | CheckRecord, seconds: float) -> None:
    context.metrics.checks.labels(check.decision).inc()
    for reason in json.loads(check.reasons):
        context.metrics.reasons.labels(reason["code"]).inc()
    context.metrics.check_duration.observe(seconds)


async def decide_referral(uow: UnitOfWork, *, context: LimitsContext, check_id: str, decision: str, comment: str, decided_by: str) -> CreditCheck:
    """A credit manager's decision on a referred order; an approval reserves the credit even above
    the limit (that is what the referral asked them to judge)."""
    check = await get_check(uow, check_id=check_id)
    account = await lock_or_create_account(uow, context=context, buyer_id=check.buyer_id)
    await uow.session.refresh(check)  # read before the lock; another manager may have decided meanwhile
    if check.state != "pending":
        raise Conflict(f"Credit check {check_id} is {check.state}, not waiting for a decision.", decision=check.decision)
    check.decision, check.state, check.decided_by, check.decision_comment, check.decided_at = decision, "decided", decided_by, comment, context.clock.now()
    uow.on_commit(context.metrics.referred_pending.dec)
    if decision == "approved":
        reservation = await ChecksRepository(uow.session).reservation(check.order_id)
        await _reserve(uow, context=context, check=check, reservation=reservation)
        await refresh_exposure(uow, context=context, buyer_id=account.buyer_id)
    _publish_decision(uow, check=check)
    return check


async def get_check(uow: UnitOfWork, *, check_id: str) -> CreditCheck:
    check = await ChecksRepository(uow.session).get(check_id)
    if check is None:
        raise NotFound(f"Credit check {check_id} not found.")
    return check


async def pending_referrals(uow: UnitOfWork, *, limit: int) -> list[CreditCheck]:
    return await ChecksRepository(uow.session).pending(limit=limit)


async def search_checks(
    uow: UnitOfWork,
    *,
    state: str | None,
    buyer_ids: list[str] | None,
    reason: str | None,
    decision: str | None,
    sort: str,
    limit: int,
    offset: int,
) -> tuple[list[CreditCheck], int]:
    return await ChecksRepository(uow.session).search(
        state=state,
        buyer_ids=buyer_ids,
        reason=reason,
        decision=decision,
        sort=sort,
        limit=limit,
        offset=offset,
    )


async def count_pending(uow: UnitOfWork) -> int:
    return await ChecksRepository(uow.session).count_pending()


async def release_order(uow: UnitOfWork, *, context: LimitsContext, order_id: str, status: str) -> OrderReservation | None:
    """Free an order's reservation (cancelled) and publish the buyer's exposure. Idempotent;
    None if it had none."""
    reservation = await ChecksRepository(uow.session).reservation(order_id)
    if reservation is None:
        return None
    await lock_or_create_account(uow, context=context, buyer_id=reservation.buyer_id)
    if reservation.status == "open":
        reservation.status, reservation.released_at = status, context.clock.now()
        await refresh_exposure(uow, context=context, buyer_id=reservation.buyer_id)
    return reservation


async def release_order_quietly(uow: UnitOfWork, *, context: LimitsContext, order_id: str, status: str) -> OrderReservation | None:
    """Free an order's reservation without publishing: for a caller that holds the buyer's
    account lock and publishes the exposure once itself (an invoice replacing its order)."""
    reservation = await ChecksRepository(uow.session).reservation(order_id)
    if reservation is not None and reservation.status == "open":
        reservation.status, reservation.released_at = status, context.clock.now()
    return reservation


async def expire_reservations(uow: UnitOfWork, *, context: LimitsContext) -> int:
    buyers = await ChecksRepository(uow.session).expire_reservations(before=context.clock.today(), now=context.clock.now())
    for buyer_id in buyers:
        await refresh_exposure(uow, context=context, buyer_id=buyer_id)
    return len(buyers)
