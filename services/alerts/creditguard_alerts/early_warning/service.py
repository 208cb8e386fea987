"""Raise, escalate and resolve alerts. A condition is asserted (``raise_condition``) or cleared
(``clear_condition``) by whatever event or sweep observes it; these two functions own
deduplication, escalation, cooldown, the webhooks and the metric."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from creditguard_alerts.buyers.repository import BuyerRepository
from creditguard_alerts.context import AlertsContext
from creditguard_alerts.early_warning import rules
from creditguard_alerts.early_warning.repository import AlertRepository
from creditguard_alerts.early_warning.rules import RuleType
from creditguard_alerts.early_warning.schemas import AlertOut, RuleIn, RulePatch, validated_params
from creditguard_alerts.models.buyers import BuyerProfile, InsuranceCover
from creditguard_alerts.models.early_warning import Alert, AlertRule
from creditguard_alerts.models.severity import Severity, severity_rank
from creditguard_alerts.webhooks import service as webhooks
from creditguard_shared.errors import Conflict, NotFound
from creditguard_shared.events.contracts import AccountStatusChangedV1, LimitBreachedV1, ScoreChangedV1
from creditguard_shared.unit_of_work import UnitOfWork

OPEN, ACKNOWLEDGED, RESOLVED = "open", "acknowledged", "resolved"
SYSTEM = "system"


@dataclass(frozen=True)
class InvoiceFacts:
    invoice_id: str
    buyer_id: str
    due_on: date
    open_amount: Decimal
    currency: str
    days_past_due: int
    insurer_notified: bool = False
    claim_filed: bool = False
    # When it was paid in full, by the documents' own dates.
    settled_on: date | None = None
    # Back-posted and still within the wait for its payments (see rules.awaiting_settlements).
    awaiting_settlements: bool = False


def _dedup_key(buyer_id: str | None, invoice_id: str | None, subject: str | None) -> str:
    return f"{buyer_id or '*'}/{invoice_id or '*'}/{subject or '*'}"


def _links(*, context: AlertsContext, alert: Alert) -> dict[str, str]:
    base = context.settings.links_base_url
    links = {"alert": f"{base}/v1/alerts/{alert.id}"}
    if alert.buyer_id:
        links["buyer_alerts"] = f"{base}/v1/alerts?buyer_id={alert.buyer_id}"
        links["receivables"] = f"{base}/v1/buyers/{alert.buyer_id}/receivables"
        links["collection_cases"] = f"{base}/v1/collections/cases?buyer_id={alert.buyer_id}"
    return links


async def _announce(uow: UnitOfWork, *, context: AlertsContext, event_type: str, alert: Alert) -> None:
    await webhooks.publish(
        uow,
        context=context,
        event_type=event_type,
        buyer_id=alert.buyer_id,
        severity=alert.severity,
        data={"alert": AlertOut.model_validate(alert).model_dump(mode="json")},
        links=_links(context=context, alert=alert),
    )


async def ensure_default_rules(uow: UnitOfWork, *, context: AlertsContext) -> int:
    repository = AlertRepository(uow.session)
    if await repository.rule_count() > 0:
        return 0
    for definition in rules.DEFAULT_RULES:
        await repository.add(AlertRule(**definition, enabled=True, created_at=context.now, updated_at=context.now))
    return len(rules.DEFAULT_RULES)


async def list_rules(uow: UnitOfWork) -> list[AlertRule]:
    return await AlertRepository(uow.session).rules()


async def create_rule(uow: UnitOfWork, *, context: AlertsContext, rule: RuleIn) -> AlertRule:
    repository = AlertRepository(uow.session)
    rule_id = rule.id or f"{rule.rule_type.value.replace('_', '-')}-{uuid.uuid4().hex[:8]}"
    if await repository.rule(rule_id) is not None:
        raise Conflict(f"Rule {rule_id} already exists.")
    entity = AlertRule(
        id=rule_id,
        name=rule.name,
        rule_type=rule.rule_type.value,
        severity=rule.severity.value,
        cooldown_seconds=rule.cooldown_seconds,
        params=validated_params(rule.rule_type, rule.params),
        enabled=rule.enabled,
        created_at=context.now,
        updated_at=context.now,
    )
    await repository.add(entity)
    return entity


async def update_rule(uow: UnitOfWork, *, context: AlertsContext, rule_id: str, patch: RulePatch) -> AlertRule:
    rule = await AlertRepository(uow.session).rule(rule_id)
    if rule is None:
        raise NotFound(f"Rule {rule_id} not found.")
    changes = patch.model_dump(exclude_unset=True, mode="json")
    if "params" in changes:
        changes["params"] = validated_params(RuleType(rule.rule_type), changes["params"])
    for field, value in changes.items():
        if value is not None:
            setattr(rule, field, value)
    rule.updated_at = context.now
    AlertRepository(uow.session).forget_enabled_rules()
    return rule


async def raise_condition(
    uow: UnitOfWork,
    *,
    context: AlertsContext,
    rule: AlertRule,
    severity: str,
    title: str,
    details: dict[str, Any],
    buyer_id: str | None,
    invoice_id: str | None = None,
    subject: str | None = None,
) -> Alert | None:
    """Open the alert, or raise the open one in severity; repeats of the same condition change only its details."""
    repository = AlertRepository(uow.session)
    dedup_key = _dedup_key(buyer_id, invoice_id, subject)
    alert = await repository.open_alert(rule.id, dedup_key, buyer_id=buyer_id)
    if alert is not None:
        # Title, details and severity say how things stand now, not when the alert was raised.
        if (alert.details, alert.title) != (details, title):
            alert.details, alert.title, alert.updated_at = details, title, context.now
        if severity_rank(severity) > severity_rank(alert.severity):
            alert.severity, alert.escalated_at, alert.updated_at = severity, context.now, context.now
            # New information: an acknowledged alert needs looking at again.
            alert.status = OPEN
            await _announce(uow, context=context, event_type="alert.escalated", alert=alert)
        elif severity != alert.severity:
            # Better, though not yet cleared: the severity follows quietly (no webhook), and an
            # acknowledged alert stays acknowledged.
            alert.severity, alert.updated_at = severity, context.now
        return alert
    # Without a cool-down there is nothing to look up (a sweep raises many alerts of such rules).
    previous = await repository.last_resolved(rule.id, dedup_key) if rule.cooldown_seconds > 0 else None
    if (
        previous is not None
        and previous.resolved_at is not None
        and context.now < previous.resolved_at + timedelta(seconds=rule.cooldown_seconds)
        and severity_rank(severity) <= severity_rank(previous.severity)
    ):
        return None
    alert = Alert(
        id=f"alt_{uuid.uuid4().hex}",
        rule_id=rule.id,
        rule_type=rule.rule_type,
        dedup_key=dedup_key,
        buyer_id=buyer_id,
        invoice_id=invoice_id,
        subject=subject,
        severity=severity,
        raised_severity=severity,
        status=OPEN,
        title=title,
        details=details,
        raised_at=context.now,
        updated_at=context.now,
    )
    await repository.add(alert)
    uow.on_commit(context.metrics.alerts_raised.labels(context.metrics.service, rule.rule_type, severity).inc)
    await _announce(uow, context=context, event_type="alert.raised", alert=alert)
    return alert


async def _resolve(uow: UnitOfWork, *, context: AlertsContext, alert: Alert, by: str, comment: str | None) -> None:
    alert.status, alert.resolved_at, alert.resolved_by, alert.resolution_comment, alert.updated_at = RESOLVED, context.now, by, comment, context.now
    await _announce(uow, context=context, event_type="alert.resolved", alert=alert)


async def clear_condition(
    uow: UnitOfWork,
    *,
    context: AlertsContext,
    rule_types: tuple[str, ...],
    reason: str,
    buyer_id: str | None = None,
    invoice_id: str | None = None,
    subject: str | None = None,
) -> int:
    """Resolve the open alerts of these rule types for the buyer / invoice / subject: the condition cleared."""
    alerts = await AlertRepository(uow.session).open_alerts(rule_types=rule_types, buyer_id=buyer_id, invoice_id=invoice_id)
    cleared = [a for a in alerts if subject is None or a.subject == subject]
    for alert in cleared:
        await _resolve(uow, context=context, alert=alert, by=SYSTEM, comment=reason)
    return len(cleared)


async def _enabled(uow: UnitOfWork, *rule_types: RuleType) -> list[AlertRule]:
    return await AlertRepository(uow.session).enabled_rules(tuple(t.value for t in rule_types))


async def read_ahead_for_buyers(uow: UnitOfWork, *, buyer_ids: set[str]) -> None:
    """Read these buyers' profiles, covers and open alerts at once, for a batch of events about them."""
    await BuyerRepository(uow.session).load_covers_and_profiles(buyer_ids)
    await AlertRepository(uow.session).load_open_alerts_of_buyers(buyer_ids)


async def load_invoice_alerts(uow: UnitOfWork) -> None:
    """Read the open alerts of the invoice rules at once, for a pass over many invoices."""
    invoice_rules = await _enabled(uow, *rules.INVOICE_RULES)
    await AlertRepository(uow.session).load_open_alerts(tuple(rule.id for rule in invoice_rules))


async def evaluate_invoice(uow: UnitOfWork, *, context: AlertsContext, invoice: InvoiceFacts, cover: InsuranceCover | None) -> None:
    """Payment delay and insurer deadlines for one invoice; all of them clear once it is paid."""
    if invoice.open_amount <= 0:
        await clear_condition(
            uow,
            context=context,
            rule_types=tuple(t.value for t in rules.INVOICE_RULES),
            buyer_id=invoice.buyer_id,
            invoice_id=invoice.invoice_id,
            reason=rules.settled_reason(due_on=invoice.due_on, settled_on=invoice.settled_on),
        )
        return
    # The facts that define the condition; the day count is left out because it grows every day
    # and would rewrite every open invoice alert on every sweep (due_on gives it).
    facts = {"invoice_id": invoice.invoice_id, "due_on": invoice.due_on.isoformat(), "open_amount": str(invoice.open_amount), "currency": invoice.currency}
    for rule in await _enabled(uow, RuleType.PAYMENT_DELAY):
        reached = rules.payment_delay_severity(rule.params["severity_by_days_past_due"], invoice.days_past_due)
        if reached is not None:
            threshold, severity = reached
            await raise_condition(
                uow,
                context=context,
                rule=rule,
                severity=severity,
                buyer_id=invoice.buyer_id,
                invoice_id=invoice.invoice_id,
                title=f"Invoice {invoice.invoice_id} is {threshold}+ days past due",
                details={**facts, "threshold": threshold},
            )
    if cover is None or invoice.days_past_due < 1 or not _cover_valid(cover, invoice.due_on):
        return
    await _evaluate_deadline(
        uow,
        context=context,
        invoice=invoice,
        cover=cover,
        facts=facts,
        rule_type=RuleType.INSURANCE_REPORT_DEADLINE,
        within_days=cover.report_overdue_within_days,
        done=invoice.insurer_notified,
        what="report the overdue invoice to",
    )
    await _evaluate_deadline(
        uow,
        context=context,
        invoice=invoice,
        cover=cover,
        facts=facts,
        rule_type=RuleType.INSURANCE_CLAIM_DEADLINE,
        within_days=cover.file_claim_within_days,
        done=invoice.claim_filed,
        what="file the claim with",
    )


def _cover_valid(cover: InsuranceCover, on: date) -> bool:
    return (cover.valid_from is None or cover.valid_from <= on) and (cover.valid_until is None or on <= cover.valid_until)


async def _evaluate_deadline(
    uow: UnitOfWork,
    *,
    context: AlertsContext,
    invoice: InvoiceFacts,
    cover: InsuranceCover,
    facts: dict[str, Any],
    rule_type: RuleType,
    within_days: int,
    done: bool,
    what: str,
) -> None:
    if done:
        await clear_condition(uow, context=context, rule_types=(rule_type.value,), buyer_id=invoice.buyer_id, invoice_id=invoice.invoice_id, reason="done")
        return
    for rule in await _enabled(uow, rule_type):
        state = rules.insurer_deadline(due_on=invoice.due_on, within_days=within_days, days_before=rule.params["days_before"], today=context.today)
        if state is None:
            continue
        severity = Severity.CRITICAL.value if state.missed else rule.severity
        verb = "Missed the deadline to" if state.missed else f"{(state.deadline - context.today).days} days left to"
        await raise_condition(
            uow,
            context=context,
            rule=rule,
            severity=severity,
            buyer_id=invoice.buyer_id,
            invoice_id=invoice.invoice_id,
            title=f"{verb} {what} {cover.insurer} (invoice {invoice.invoice_id}, deadline {state.deadline.isoformat()})",
            details={**facts, "deadline": state.deadline.isoformat(), "missed": state.missed, "insurer": cover.insurer, "policy_id": cover.policy_id},
        )


async def evaluate_exposure(uow: UnitOfWork, *, context: AlertsContext, buyer: BuyerProfile, shares_moved: bool = True) -> None:
    """Utilisation threshold, breach clearing and, when the buyer's exposure or currency changed
    (``shares_moved``), the portfolio's concentration."""
    utilisation = buyer.utilisation
    zero_limit_used = buyer.limit_amount is not None and buyer.limit_amount <= 0 and buyer.exposure > 0
    facts = {
        "utilisation": utilisation,
        "exposure": str(buyer.exposure),
        "limit": None if buyer.limit_amount is None else str(buyer.limit_amount),
        "currency": buyer.currency,
    }
    for rule in await _enabled(uow, RuleType.LIMIT_UTILISATION):
        threshold = rule.params["threshold"]
        if zero_limit_used:
            # No share of a zero limit can be given (limits sends none), but any exposure is beyond it.
            await raise_condition(
                uow,
                context=context,
                rule=rule,
                severity=rules.utilisation_severity(utilisation=float("inf"), base=rule.severity),
                buyer_id=buyer.buyer_id,
                details={**facts, "threshold": threshold},
                title=f"Buyer {buyer.buyer_id} has {buyer.exposure} {buyer.currency} exposure against a zero limit",
            )
        elif utilisation is not None and utilisation >= threshold:
            await raise_condition(
                uow,
                context=context,
                rule=rule,
                severity=rules.utilisation_severity(utilisation=utilisation, base=rule.severity),
                buyer_id=buyer.buyer_id,
                details={**facts, "threshold": threshold},
                title=f"Buyer {buyer.buyer_id} uses {utilisation:.0%} of its limit (threshold {threshold:.0%})",
            )
        else:
            await _clear_rule(uow, context=context, rule=rule, buyer_id=buyer.buyer_id, reason="utilisation below the threshold")
    if not rules.over_limit(exposure=buyer.exposure, limit=buyer.limit_amount):
        await clear_condition(uow, context=context, rule_types=(RuleType.LIMIT_BREACH.value,), buyer_id=buyer.buyer_id, reason="exposure back within the limit")
    if shares_moved and buyer.currency is not None:
        recheck_concentration_before_commit(uow, context=context, currency=buyer.currency)


async def _clear_rule(uow: UnitOfWork, *, context: AlertsContext, rule: AlertRule, buyer_id: str | None, reason: str, subject: str | None = None) -> None:
    alert = await AlertRepository(uow.session).open_alert(rule.id, _dedup_key(buyer_id, None, subject), buyer_id=buyer_id)
    if alert is not None:
        await _resolve(uow, context=context, alert=alert, by=SYSTEM, comment=reason)


async def limit_breached(uow: UnitOfWork, *, context: AlertsContext, event: LimitBreachedV1) -> None:
    for rule in await _enabled(uow, RuleType.LIMIT_BREACH):
        await raise_condition(
            uow,
            context=context,
            rule=rule,
            severity=rule.severity,
            buyer_id=event.buyer_id,
            title=f"Buyer {event.buyer_id} is {event.excess} {event.currency} above its limit",
            details={"limit": str(event.limit), "exposure": str(event.exposure), "excess": str(event.excess), "currency": event.currency},
        )


async def evaluate_score(uow: UnitOfWork, *, context: AlertsContext, event: ScoreChangedV1) -> None:
    facts = {
        "old_grade": event.old_grade,
        "new_grade": event.new_grade,
        "old_risk_class": event.old_risk_class,
        "new_risk_class": event.new_risk_class,
        "pd": event.pd,
        "reasons": [r.model_dump() for r in event.reasons],
    }
    for rule in await _enabled(uow, RuleType.SCORE_DOWNGRADE):
        if rules.is_downgrade(old_grade=event.old_grade, new_grade=event.new_grade, grades=rule.params["grades"]):
            assert event.old_grade is not None
            # A further downgrade while the alert is open continues the same fall: 1 -> 4, then 4 -> 9
            # is a fall from grade 1 to 9.
            open_alert = await AlertRepository(uow.session).open_alert(rule.id, _dedup_key(event.buyer_id, None, None), buyer_id=event.buyer_id)
            fell_from = min(event.old_grade, open_alert.details.get("old_grade") or event.old_grade) if open_alert is not None else event.old_grade
            severity = rules.downgrade_severity(old_grade=fell_from, new_grade=event.new_grade, base=rule.severity)
            await raise_condition(
                uow,
                context=context,
                rule=rule,
                severity=severity,
                buyer_id=event.buyer_id,
                details={**facts, "old_grade": fell_from},
                title=f"Buyer {event.buyer_id} downgraded from grade {fell_from} to {event.new_grade}",
            )
        elif event.old_grade is not None and event.new_grade < event.old_grade:
            await _clear_rule(uow, context=context, rule=rule, buyer_id=event.buyer_id, reason="upgraded again")
    for rule in await _enabled(uow, RuleType.RISK_CLASS_WORSENED):
        move = rules.risk_class_move(rule.params["order"], event.old_risk_class, event.new_risk_class)
        if move > 0:
            await raise_condition(
                uow,
                context=context,
                rule=rule,
                severity=rule.severity,
                buyer_id=event.buyer_id,
                details=facts,
                title=f"Buyer {event.buyer_id} moved from risk class {event.old_risk_class} to {event.new_risk_class}",
            )
        elif move < 0:
            await _clear_rule(uow, context=context, rule=rule, buyer_id=event.buyer_id, reason="moved to a better risk class")


async def evaluate_status(uow: UnitOfWork, *, context: AlertsContext, event: AccountStatusChangedV1) -> None:
    raised = {"on_hold": RuleType.ACCOUNT_ON_HOLD, "blocked": RuleType.ACCOUNT_BLOCKED}.get(event.new_status)
    others = tuple(t.value for t in (RuleType.ACCOUNT_ON_HOLD, RuleType.ACCOUNT_BLOCKED) if t is not raised)
    await clear_condition(uow, context=context, rule_types=others, buyer_id=event.buyer_id, reason=f"account is {event.new_status}")
    if raised is not None:
        for rule in await _enabled(uow, raised):
            await raise_condition(
                uow,
                context=context,
                rule=rule,
                severity=rule.severity,
                buyer_id=event.buyer_id,
                title=f"Account {event.buyer_id} is {event.new_status.replace('_', ' ')}",
                details={"old_status": event.old_status, "new_status": event.new_status, "reason": event.reason},
            )
    base = context.settings.links_base_url
    await webhooks.publish(
        uow,
        context=context,
        event_type="account.status_changed",
        buyer_id=event.buyer_id,
        severity=None,
        data={"account": {"buyer_id": event.buyer_id, "old_status": event.old_status, "new_status": event.new_status, "reason": event.reason}},
        links={"buyer_alerts": f"{base}/v1/alerts?buyer_id={event.buyer_id}", "collection_cases": f"{base}/v1/collections/cases?buyer_id={event.buyer_id}"},
    )


async def evaluate_review(uow: UnitOfWork, *, context: AlertsContext, buyer: BuyerProfile) -> None:
    for rule in await _enabled(uow, RuleType.REVIEW_OVERDUE):
        if rules.review_overdue(review_due_on=buyer.review_due_on, today=context.today, grace_days=rule.params["grace_days"]):
            await raise_condition(
                uow,
                context=context,
                rule=rule,
                severity=rule.severity,
                buyer_id=buyer.buyer_id,
                title=f"Credit review of {buyer.buyer_id} was due on {buyer.review_due_on}",
                details={"review_due_on": str(buyer.review_due_on)},
            )
        else:
            await _clear_rule(uow, context=context, rule=rule, buyer_id=buyer.buyer_id, reason="review no longer overdue")


async def evaluate_reviews(uow: UnitOfWork, *, context: AlertsContext) -> int:
    """What ``evaluate_review`` would do for every buyer with a review date, touching only the
    buyers it changes: those overdue now and those whose overdue alert is open. Answers how many
    buyers have a review date."""
    buyers = BuyerRepository(uow.session)
    for rule in await _enabled(uow, RuleType.REVIEW_OVERDUE):
        overdue = await buyers.with_review_due_before(context.today - timedelta(days=rule.params["grace_days"]))
        for buyer in overdue:
            await raise_condition(
                uow,
                context=context,
                rule=rule,
                severity=rule.severity,
                buyer_id=buyer.buyer_id,
                title=f"Credit review of {buyer.buyer_id} was due on {buyer.review_due_on}",
                details={"review_due_on": str(buyer.review_due_on)},
            )
        still_overdue = {_dedup_key(buyer.buyer_id, None, None) for buyer in overdue}
        for alert in await AlertRepository(uow.session).open_alerts_of_rule(rule.id):
            if alert.dedup_key not in still_overdue:
                await _resolve(uow, context=context, alert=alert, by=SYSTEM, comment="review no longer overdue")
    return await buyers.count_with_review_due()


CONCENTRATION_KEYS = {RuleType.CONCENTRATION_BUYER: "buyer_id", RuleType.CONCENTRATION_COUNTRY: "country", RuleType.CONCENTRATION_INDUSTRY: "industry"}


def recheck_concentration_before_commit(uow: UnitOfWork, *, context: AlertsContext, currency: str) -> None:
    """Concentration is a property of the whole book: a batch of exposure changes in one
    transaction needs one re-check after the last of them, not one after each."""
    uow.before_commit(("concentration", currency), partial(evaluate_concentration, uow, context=context, currency=currency))


async def evaluate_concentration(uow: UnitOfWork, *, context: AlertsContext, currency: str) -> None:
    """Shares of the whole portfolio in one currency; a change to one buyer moves every share, so all
    groups are re-checked. The database sums the groups; only those that can be above the maximum come back."""
    concentration_rules = await _enabled(uow, *CONCENTRATION_KEYS)
    if not concentration_rules:
        return
    buyers = BuyerRepository(uow.session)
    buyer_count, total = await buyers.exposure_total(currency)
    keyed = [(rule, CONCENTRATION_KEYS[RuleType(rule.rule_type)]) for rule in concentration_rules]
    checked = {rule.id for rule, _ in keyed if buyer_count >= rule.params["min_buyers"] and total > 0}
    sums: dict[str, dict[str, Decimal]] = {}
    if checked:
        # Buyers are many: only the large ones are worth fetching. Countries and industries are few.
        buyer_shares = [rule.params["max_share"] for rule, key in keyed if rule.id in checked and key == "buyer_id"]
        sums = await buyers.exposure_by(
            currency,
            keys=sorted({key for rule, key in keyed if rule.id in checked}),
            buyer_at_least=rules.smallest_amount_above(min(buyer_shares), total=total) if buyer_shares else Decimal(0),
        )
    open_by_rule = await AlertRepository(uow.session).open_alerts_of_rules([rule.id for rule in concentration_rules])
    for rule, key in keyed:
        max_share = rule.params["max_share"]
        current = rules.group_shares(_grouped(rule, key, sums[key]), total=total) if rule.id in checked else {}
        open_alerts = {a.subject: a for a in open_by_rule[rule.id] if a.details.get("currency") == currency}
        for group, share in current.items():
            subject = f"{key}:{group}"
            if share > max_share:
                await raise_condition(
                    uow,
                    context=context,
                    rule=rule,
                    severity=rule.severity,
                    buyer_id=group if key == "buyer_id" else None,
                    subject=subject,
                    title=f"{key.replace('_id', '').capitalize()} {group} holds {share:.0%} of {currency} exposure (limit {max_share:.0%})",
                    details={"group": group, "share": round(share, 4), "max_share": max_share, "currency": currency},
                )
                open_alerts.pop(subject, None)
        for alert in open_alerts.values():
            await _resolve(uow, context=context, alert=alert, by=SYSTEM, comment="share back under the maximum")


def _grouped(rule: AlertRule, key: str, sums: dict[str, Decimal]) -> dict[str, Decimal]:
    """The database sums by the industry code as stored; the rule's level folds ``28`` and
    ``28.1`` (or every code of section C) into one industry."""
    if key != "industry":
        return sums
    level = rule.params.get("industry_level", rules.IndustryLevel.DIVISION)
    folded: dict[str, Decimal] = {}
    for industry, amount in sums.items():
        group = rules.industry_group(industry, level=level)
        folded[group] = folded.get(group, Decimal(0)) + amount
    return folded


async def raise_webhook_failing(uow: UnitOfWork, *, context: AlertsContext, subscription_id: str, url: str, reason: str) -> None:
    for rule in await _enabled(uow, RuleType.WEBHOOK_FAILING):
        await raise_condition(
            uow,
            context=context,
            rule=rule,
            severity=rule.severity,
            buyer_id=None,
            subject=f"subscription:{subscription_id}",
            title=f"Webhook subscription {subscription_id} disabled: {reason}",
            details={"subscription_id": subscription_id, "url": url, "reason": reason},
        )


async def get_alert(uow: UnitOfWork, *, alert_id: str) -> Alert:
    alert = await AlertRepository(uow.session).get(alert_id)
    if alert is None:
        raise NotFound(f"Alert {alert_id} not found.")
    return alert


async def acknowledge(uow: UnitOfWork, *, context: AlertsContext, alert_id: str, by: str, comment: str | None) -> Alert:
    alert = await get_alert(uow, alert_id=alert_id)
    if alert.status == RESOLVED:
        raise Conflict(f"Alert {alert_id} is already resolved.")
    alert.status, alert.acknowledged_at, alert.acknowledged_by, alert.acknowledge_comment, alert.updated_at = (
        ACKNOWLEDGED,
        context.now,
        by,
        comment,
        context.now,
    )
    return alert


async def resolve(uow: UnitOfWork, *, context: AlertsContext, alert_id: str, by: str, comment: str | None) -> Alert:
    alert = await get_alert(uow, alert_id=alert_id)
    if alert.status == RESOLVED:
        raise Conflict(f"Alert {alert_id} is already resolved.")
    await _resolve(uow, context=context, alert=alert, by=by, comment=comment)
    return alert


async def page_alerts(
    uow: UnitOfWork,
    *,
    buyer_id: str | None,
    severity: str | None,
    status: str | None,
    rule_type: str | None,
    limit: int,
    offset: int,
    account_owner: str | None = None,
    unresolved: bool = False,
) -> tuple[list[Alert], int]:
    return await AlertRepository(uow.session).page(
        buyer_id=buyer_id, severity=severity, status=status, rule_type=rule_type, limit=limit, offset=offset, account_owner=account_owner, unresolved=unresolved
    )


async def open_counts(uow: UnitOfWork) -> dict[str, int]:
    return await AlertRepository(uow.session).open_counts_by_severity()
