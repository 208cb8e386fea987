"""Collection cases: one per overdue invoice, escalated level by level along its strategy, paused
by a promise to pay or a dispute, closed by payment. The stop-supplies level asks the limits
service to put the account on hold; closing the last such case lifts the hold."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from creditguard_alerts.buyers.repository import BuyerRepository
from creditguard_alerts.collection_cases import rules
from creditguard_alerts.collection_cases.repository import CLOSED, OPEN, PENDING, CollectionRepository
from creditguard_alerts.collection_cases.rules import Level
from creditguard_alerts.collection_cases.schemas import ActionIn, CaseOut, StrategyIn
from creditguard_alerts.context import AlertsContext
from creditguard_alerts.early_warning import rules as alert_rules
from creditguard_alerts.early_warning import service as alerting
from creditguard_alerts.early_warning.rules import RuleType
from creditguard_alerts.early_warning.service import InvoiceFacts
from creditguard_alerts.models.collection_cases import CollectionAction, CollectionCase, CollectionStrategy
from creditguard_alerts.models.receivables import Receivable
from creditguard_alerts.receivables import service as receivables
from creditguard_alerts.webhooks import service as webhooks
from creditguard_shared.errors import Conflict, NotFound, Unprocessable
from creditguard_shared.events.contracts import AccountHoldRequestedV1, PromiseBrokenV1
from creditguard_shared.unit_of_work import UnitOfWork

DONE, SUPERSEDED, CANCELLED, RECORDED = "done", "superseded", "cancelled", "recorded"
SYSTEM = "system"


async def ensure_default_strategies(uow: UnitOfWork, *, context: AlertsContext) -> int:
    repository = CollectionRepository(uow.session)
    if await repository.strategy_count() > 0:
        return 0
    for definition in rules.DEFAULT_STRATEGIES:
        amounts = {k: None if definition[k] is None else Decimal(definition[k]) for k in ("min_amount", "max_amount")}
        await repository.add(CollectionStrategy(**{**definition, **amounts}, enabled=True, created_at=context.now, updated_at=context.now))
    return len(rules.DEFAULT_STRATEGIES)


async def list_strategies(uow: UnitOfWork) -> list[CollectionStrategy]:
    return await CollectionRepository(uow.session).strategies()


async def put_strategy(uow: UnitOfWork, *, context: AlertsContext, strategy: StrategyIn) -> tuple[CollectionStrategy, bool]:
    """Create or replace a strategy; open cases keep their strategy and follow its new levels."""
    repository = CollectionRepository(uow.session)
    fields = strategy.model_dump(mode="python")
    fields["levels"] = [{"level": level.level.value, "days_past_due": level.days_past_due} for level in strategy.levels]
    fields["risk_classes"] = None if strategy.risk_classes is None else [risk_class.value for risk_class in strategy.risk_classes]
    existing = await repository.strategy(strategy.id)
    if existing is None:
        entity = CollectionStrategy(**fields, created_at=context.now, updated_at=context.now)
        await repository.add(entity)
        return entity, True
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.updated_at = context.now
    return existing, False


async def _choose_strategy(uow: UnitOfWork, *, buyer_id: str, amount: Decimal) -> CollectionStrategy:
    buyer = await BuyerRepository(uow.session).get(buyer_id)
    segment = rules.Segment(risk_class=buyer.risk_class if buyer else None, industry=buyer.industry if buyer else None, amount=amount)
    for strategy in await CollectionRepository(uow.session).enabled_strategies():
        if rules.in_segment(
            segment=segment, risk_classes=strategy.risk_classes, industries=strategy.industries, min_amount=strategy.min_amount, max_amount=strategy.max_amount
        ):
            return strategy
    raise Unprocessable("No enabled collection strategy matches; keep a catch-all strategy enabled.")


def _links(*, context: AlertsContext, case: CollectionCase) -> dict[str, str]:
    base = context.settings.links_base_url
    return {
        "case": f"{base}/v1/collections/cases/{case.id}",
        "work_queue": f"{base}/v1/collections/actions",
        "buyer_alerts": f"{base}/v1/alerts?buyer_id={case.buyer_id}",
        "receivables": f"{base}/v1/buyers/{case.buyer_id}/receivables",
    }


async def _announce(uow: UnitOfWork, *, context: AlertsContext, event_type: str, case: CollectionCase, extra: dict[str, Any] | None = None) -> None:
    data = {"case": CaseOut.model_validate(case).model_dump(mode="json"), **(extra or {})}
    await webhooks.publish(
        uow, context=context, event_type=event_type, buyer_id=case.buyer_id, severity=None, data=data, links=_links(context=context, case=case)
    )


async def _note(
    uow: UnitOfWork,
    *,
    context: AlertsContext,
    case: CollectionCase,
    kind: str,
    actor: str,
    comment: str | None = None,
    details: dict[str, Any] | None = None,
    status: str = RECORDED,
    level: str | None = None,
) -> CollectionAction:
    action = CollectionAction(
        case_id=case.id,
        buyer_id=case.buyer_id,
        kind=kind,
        level=level,
        status=status,
        due_on=context.today if status == PENDING else None,
        created_at=context.now,
        completed_at=None if status == PENDING else context.now,
        actor=actor,
        comment=comment,
        details=details or {},
    )
    await CollectionRepository(uow.session).add(action)
    return action


async def track_invoice(uow: UnitOfWork, *, context: AlertsContext, invoice: InvoiceFacts) -> CollectionCase | None:
    """Open, update, escalate or close the invoice's case from its latest open amount and days past due."""
    repository = CollectionRepository(uow.session)
    case = await repository.case_for_invoice(invoice.invoice_id)
    if case is None:
        if invoice.open_amount <= 0 or invoice.days_past_due < 1:
            return None
        strategy = await _choose_strategy(uow, buyer_id=invoice.buyer_id, amount=invoice.open_amount)
        case = CollectionCase(
            id=f"case_{uuid.uuid4().hex}",
            invoice_id=invoice.invoice_id,
            buyer_id=invoice.buyer_id,
            strategy_id=strategy.id,
            currency=invoice.currency,
            due_on=invoice.due_on,
            open_amount=invoice.open_amount,
            days_past_due=invoice.days_past_due,
            status=OPEN,
            level=rules.NO_LEVEL,
            level_index=-1,
            disputed=False,
            hold_requested=False,
            opened_at=context.now,
            updated_at=context.now,
        )
        await repository.add(case)
        await _announce(uow, context=context, event_type="collection.case_opened", case=case, extra={"strategy_id": strategy.id})
    if case.status == CLOSED:
        return case
    if invoice.open_amount <= 0:
        await _close(uow, context=context, case=case, reason=alert_rules.settled_reason(due_on=invoice.due_on, settled_on=invoice.settled_on))
        return case
    if invoice.open_amount < case.open_amount:
        await _note(
            uow,
            context=context,
            case=case,
            kind="partial_payment",
            actor=SYSTEM,
            details={"previous_open_amount": str(case.open_amount), "open_amount": str(invoice.open_amount)},
        )
    if invoice.open_amount != case.open_amount:
        case.open_amount, case.updated_at = invoice.open_amount, context.now
    # The day count follows the clock; it alone does not make the case updated.
    case.days_past_due = max(case.days_past_due, invoice.days_past_due)
    await _escalate(uow, context=context, case=case)
    return case


async def _escalate(uow: UnitOfWork, *, context: AlertsContext, case: CollectionCase) -> None:
    if case.promised_until is not None and rules.promise_broken(promised_until=case.promised_until, today=context.today):
        await _note(
            uow,
            context=context,
            case=case,
            kind="promise_broken",
            actor=SYSTEM,
            details={"promised_until": case.promised_until.isoformat(), "promised_amount": None if case.promised_amount is None else str(case.promised_amount)},
        )
        # Scoring counts broken promises in the buyer's payment behaviour.
        uow.emit(
            PromiseBrokenV1(
                buyer_id=case.buyer_id,
                case_id=case.id,
                invoice_id=case.invoice_id,
                promised_until=case.promised_until,
                promised_amount=case.promised_amount,
                broken_on=context.today,
            ),
            subject=case.buyer_id,
        )
        case.promised_until, case.promised_amount, case.updated_at = None, None, context.now
    if rules.escalation_paused(promised_until=case.promised_until, disputed=case.disputed, today=context.today):
        return
    strategy = await CollectionRepository(uow.session).strategy(case.strategy_id)
    if strategy is None:
        return
    target = rules.target_level_index(strategy.levels, case.days_past_due)
    while case.level_index < target:
        await _enter_level(uow, context=context, case=case, index=case.level_index + 1, levels=strategy.levels)


async def _enter_level(uow: UnitOfWork, *, context: AlertsContext, case: CollectionCase, index: int, levels: list[dict[str, Any]]) -> None:
    previous = case.level
    if case.level_index >= 0:
        # Only a level's task is ever pending: a case entering its first level has none to close.
        await CollectionRepository(uow.session).close_pending(case_id=case.id, status=SUPERSEDED, at=context.now)
    case.level_index, case.level, case.updated_at = index, levels[index]["level"], context.now
    await _note(
        uow,
        context=context,
        case=case,
        kind="level_action",
        level=case.level,
        actor=SYSTEM,
        status=PENDING,
        details={"days_past_due": case.days_past_due, "trigger_days_past_due": levels[index]["days_past_due"]},
    )
    if case.level == Level.STOP_SUPPLIES and not case.hold_requested:
        case.hold_requested = True
        uow.emit(
            AccountHoldRequestedV1(
                buyer_id=case.buyer_id, hold=True, case_id=case.id, reason=f"Collections: invoice {case.invoice_id} is {case.days_past_due} days past due"
            ),
            subject=case.buyer_id,
        )
    await _announce(uow, context=context, event_type="collection.level_changed", case=case, extra={"previous_level": previous, "level": case.level})


async def _close(uow: UnitOfWork, *, context: AlertsContext, case: CollectionCase, reason: str) -> None:
    repository = CollectionRepository(uow.session)
    await repository.close_pending(case_id=case.id, status=CANCELLED, at=context.now)
    case.status, case.closed_at, case.close_reason, case.open_amount, case.updated_at = CLOSED, context.now, reason, Decimal("0.00"), context.now
    await _note(uow, context=context, case=case, kind="closed", actor=SYSTEM, comment=reason)
    if case.hold_requested and not await repository.buyer_holds_other_than(buyer_id=case.buyer_id, case_id=case.id):
        uow.emit(
            AccountHoldRequestedV1(
                buyer_id=case.buyer_id, hold=False, case_id=case.id, reason=f"Collections: invoice {case.invoice_id} {reason}; no other case holds the account"
            ),
            subject=case.buyer_id,
        )
    case.hold_requested = False
    await _announce(uow, context=context, event_type="collection.case_closed", case=case)


async def get_case(uow: UnitOfWork, *, case_id: str) -> tuple[CollectionCase, list[CollectionAction]]:
    repository = CollectionRepository(uow.session)
    case = await repository.case(case_id)
    if case is None:
        raise NotFound(f"Collection case {case_id} not found.")
    return case, await repository.actions(case_id)


async def record_action(uow: UnitOfWork, *, context: AlertsContext, case_id: str, action: ActionIn, actor: str) -> CollectionAction:
    """What a collector did or learnt; anything but a note completes the level's pending task."""
    case = await CollectionRepository(uow.session).case(case_id)
    if case is None:
        raise NotFound(f"Collection case {case_id} not found.")
    if case.status == CLOSED:
        raise Conflict(f"Collection case {case_id} is closed.")
    if action.kind == "promise_to_pay":
        assert action.promised_on is not None  # the schema requires it for a promise
        if action.promised_on < context.today:
            raise Unprocessable("promised_on must not be in the past.", field="promised_on")
        case.promised_until, case.promised_amount = action.promised_on, action.promised_amount
    elif action.kind == "dispute":
        case.disputed = True
    elif action.kind == "dispute_resolved":
        case.disputed = False
    elif action.kind in ("insurer_notified", "claim_filed"):
        await receivables.mark_insurer_step(uow, invoice_id=case.invoice_id, step=action.kind, on=context.today)
        rule_type = RuleType.INSURANCE_REPORT_DEADLINE if action.kind == "insurer_notified" else RuleType.INSURANCE_CLAIM_DEADLINE
        await alerting.clear_condition(
            uow,
            context=context,
            rule_types=(rule_type.value,),
            buyer_id=case.buyer_id,
            invoice_id=case.invoice_id,
            reason=f"{action.kind.replace('_', ' ')} by {actor}",
        )
    if action.kind != "note":
        await CollectionRepository(uow.session).close_pending(case_id=case.id, status=DONE, at=context.now)
    details = {k: str(v) for k, v in (("promised_on", action.promised_on), ("promised_amount", action.promised_amount)) if v is not None}
    recorded = await _note(uow, context=context, case=case, kind=action.kind, actor=actor, comment=action.comment, details=details, level=case.level)
    case.updated_at = context.now
    if action.kind == "dispute_resolved":
        await _escalate(uow, context=context, case=case)
    return recorded


async def escalate_open_cases(uow: UnitOfWork, *, context: AlertsContext) -> int:
    """Days past due grow with the clock; so do levels (the sweep)."""
    cases = await CollectionRepository(uow.session).open_cases()
    for case in cases:
        case.days_past_due = max(case.days_past_due, (context.today - case.due_on).days)
        await _escalate(uow, context=context, case=case)
    return len(cases)


async def page_cases(
    uow: UnitOfWork, *, buyer_id: str | None, status: str | None, level: str | None, limit: int, offset: int
) -> tuple[list[CollectionCase], int]:
    return await CollectionRepository(uow.session).page_cases(buyer_id=buyer_id, status=status, level=level, limit=limit, offset=offset)


async def work_queue(
    uow: UnitOfWork, *, context: AlertsContext, due_before: date | None, buyer_id: str | None, limit: int, offset: int
) -> tuple[list[tuple[CollectionAction, CollectionCase]], int]:
    return await CollectionRepository(uow.session).work_queue(due_before=due_before or context.today, buyer_id=buyer_id, limit=limit, offset=offset)


async def open_counts(uow: UnitOfWork) -> dict[str, int]:
    return await CollectionRepository(uow.session).open_counts_by_level()


def invoice_facts(receivable: Receivable, *, context: AlertsContext, days_past_due: int = 0) -> InvoiceFacts:
    return InvoiceFacts(
        invoice_id=receivable.invoice_id,
        buyer_id=receivable.buyer_id,
        due_on=receivable.due_on,
        open_amount=receivable.open_amount,
        currency=receivable.currency,
        days_past_due=max(days_past_due, max((context.today - receivable.due_on).days, 0)),
        insurer_notified=receivable.insurer_notified_on is not None,
        claim_filed=receivable.claim_filed_on is not None,
        settled_on=receivable.settled_on,
        awaiting_settlements=alert_rules.awaiting_settlements(
            due_on=receivable.due_on,
            recorded_at=receivable.recorded_at,
            now=context.now,
            backposted_after_days=context.settings.backposted_after_days,
            settle_hours=context.settings.backposted_settle_hours,
        ),
    )


async def load_for_watching(uow: UnitOfWork, *, receivables: list[Receivable]) -> None:
    """Read at once what ``watch_invoice`` asks about each of these invoices (insurance cover, open
    alerts, collection case), so a pass over many invoices does not query for each."""
    if not receivables:
        return
    await BuyerRepository(uow.session).load_covers_and_profiles({r.buyer_id for r in receivables})
    await alerting.load_invoice_alerts(uow)
    await CollectionRepository(uow.session).load_cases_for_invoices([r.invoice_id for r in receivables])


async def read_ahead_cases(uow: UnitOfWork, *, invoice_ids: list[str]) -> None:
    """Read these invoices' collection cases at once, for a batch of events about them."""
    await CollectionRepository(uow.session).load_cases_for_invoices(invoice_ids)


async def watch_invoice(uow: UnitOfWork, *, context: AlertsContext, invoice: InvoiceFacts) -> None:
    """Everything an invoice's state drives: its alerts and its collection case. A back-posted
    invoice still open while its payments may yet arrive is left alone; the sweep judges it."""
    if invoice.awaiting_settlements and invoice.open_amount > 0:
        return
    cover = await BuyerRepository(uow.session).cover(invoice.buyer_id)
    await alerting.evaluate_invoice(uow, context=context, invoice=invoice, cover=cover)
    await track_invoice(uow, context=context, invoice=invoice)
