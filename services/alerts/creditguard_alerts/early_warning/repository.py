from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_alerts.buyers.repository import IN_LIST_SIZE
from creditguard_alerts.models.buyers import BuyerProfile
from creditguard_alerts.models.early_warning import Alert, AlertRule
from creditguard_shared.held import Held


@dataclass
class _OpenAlertsRead:
    """Every open alert of ``rule_ids`` (a sweep) and of ``buyer_ids`` (a batch of events), by rule
    and condition; alerts raised later in the unit of work join them. Held here also because the
    session's identity map holds objects only weakly."""

    rule_ids: set[str] = field(default_factory=set)
    buyer_ids: set[str] = field(default_factory=set)
    alerts: dict[tuple[str, str], Alert] = field(default_factory=dict)

    def covers(self, *, rule_id: str | None = None, buyer_id: str | None = None) -> bool:
        return rule_id in self.rule_ids or buyer_id in self.buyer_ids

    def open_alerts(self, *, rule_types: tuple[str, ...], buyer_id: str, invoice_id: str | None) -> list[Alert]:
        return [
            a
            for a in self.alerts.values()
            if a.resolved_at is None and a.buyer_id == buyer_id and a.rule_type in rule_types and (invoice_id is None or a.invoice_id == invoice_id)
        ]


# What a unit of work holds: its copy of the enabled rules, and the open alerts a pass or a batch
# of events read at once.
_ENABLED_RULES: Held[list[AlertRule]] = Held("alerts.enabled_rules")
_OPEN_ALERTS: Held[_OpenAlertsRead] = Held("alerts.open_alerts_read_at_once", _OpenAlertsRead)


class AlertRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entity: Alert | AlertRule) -> None:
        """Written at the next flush (the next query or the commit): a sweep's many new rows go
        out together, not one statement each. Every column is set here; nothing is read back."""
        self.session.add(entity)
        if isinstance(entity, AlertRule):
            self.forget_enabled_rules()
        read = self._open_alerts_read()
        if isinstance(entity, Alert) and read.covers(rule_id=entity.rule_id, buyer_id=entity.buyer_id):
            read.alerts[(entity.rule_id, entity.dedup_key)] = entity

    async def enabled_rules(self, rule_types: tuple[str, ...]) -> list[AlertRule]:
        """Enabled rules of these types. Read once per unit of work: one event or sweep asks many
        times, and rules change only through the API, which calls ``forget_enabled_rules``."""
        enabled = _ENABLED_RULES.peek(self.session)
        if enabled is None:
            enabled = _ENABLED_RULES.put(self.session, await self.rules(enabled_only=True))
        return [rule for rule in enabled if rule.rule_type in rule_types]

    def forget_enabled_rules(self) -> None:
        _ENABLED_RULES.forget(self.session)

    async def rule(self, rule_id: str) -> AlertRule | None:
        return await self.session.get(AlertRule, rule_id)

    async def rules(self, *, rule_types: tuple[str, ...] | None = None, enabled_only: bool = False) -> list[AlertRule]:
        statement = select(AlertRule).order_by(AlertRule.rule_type, AlertRule.id)
        if rule_types is not None:
            statement = statement.where(AlertRule.rule_type.in_(rule_types))
        if enabled_only:
            statement = statement.where(AlertRule.enabled.is_(True))
        return list((await self.session.execute(statement)).scalars())

    async def rule_count(self) -> int:
        return (await self.session.execute(select(func.count()).select_from(AlertRule))).scalar_one()

    async def get(self, alert_id: str) -> Alert | None:
        return await self.session.get(Alert, alert_id)

    def _open_alerts_read(self) -> _OpenAlertsRead:
        return _OPEN_ALERTS.get(self.session)

    async def load_open_alerts(self, rule_ids: tuple[str, ...]) -> None:
        """Read the open alerts of these rules at once, for a pass that asks ``open_alert`` about
        many of their conditions (the sweep)."""
        statement = select(Alert).where(Alert.rule_id.in_(rule_ids), Alert.resolved_at.is_(None))
        read = self._open_alerts_read()
        read.alerts.update(((a.rule_id, a.dedup_key), a) for a in (await self.session.execute(statement)).scalars())
        read.rule_ids.update(rule_ids)

    async def load_open_alerts_of_buyers(self, buyer_ids: set[str]) -> None:
        """Read the open alerts of these buyers at once, for a batch of events about them."""
        read = self._open_alerts_read()
        ids = sorted(buyer_ids - read.buyer_ids)
        for start in range(0, len(ids), IN_LIST_SIZE):
            statement = select(Alert).where(Alert.buyer_id.in_(ids[start : start + IN_LIST_SIZE]), Alert.resolved_at.is_(None))
            read.alerts.update(((a.rule_id, a.dedup_key), a) for a in (await self.session.execute(statement)).scalars())
        read.buyer_ids.update(ids)

    async def open_alert(self, rule_id: str, dedup_key: str, *, buyer_id: str | None = None) -> Alert | None:
        """The open alert of the rule for the condition (``buyer_id``: the condition's buyer, if any)."""
        read = self._open_alerts_read()
        if read.covers(rule_id=rule_id, buyer_id=buyer_id):
            alert = read.alerts.get((rule_id, dedup_key))
            return alert if alert is not None and alert.resolved_at is None else None
        statement = select(Alert).where(Alert.rule_id == rule_id, Alert.dedup_key == dedup_key, Alert.resolved_at.is_(None))
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def last_resolved(self, rule_id: str, dedup_key: str) -> Alert | None:
        statement = (
            select(Alert)
            .where(Alert.rule_id == rule_id, Alert.dedup_key == dedup_key, Alert.resolved_at.is_not(None))
            .order_by(Alert.resolved_at.desc())
            .limit(1)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def open_alerts(self, *, rule_types: tuple[str, ...], buyer_id: str | None = None, invoice_id: str | None = None) -> list[Alert]:
        read = self._open_alerts_read()
        if buyer_id is not None and read.covers(buyer_id=buyer_id):
            return read.open_alerts(rule_types=rule_types, buyer_id=buyer_id, invoice_id=invoice_id)
        statement = select(Alert).where(Alert.rule_type.in_(rule_types), Alert.resolved_at.is_(None))
        if buyer_id is not None:
            statement = statement.where(Alert.buyer_id == buyer_id)
        if invoice_id is not None:
            statement = statement.where(Alert.invoice_id == invoice_id)
        return list((await self.session.execute(statement)).scalars())

    async def open_alerts_of_rules(self, rule_ids: list[str]) -> dict[str, list[Alert]]:
        """``open_alerts_of_rule`` for several rules in one statement."""
        by_rule: dict[str, list[Alert]] = {rule_id: [] for rule_id in rule_ids}
        statement = select(Alert).where(Alert.rule_id.in_(rule_ids), Alert.resolved_at.is_(None))
        for alert in (await self.session.execute(statement)).scalars():
            by_rule[alert.rule_id].append(alert)
        return by_rule

    async def open_alerts_of_rule(self, rule_id: str) -> list[Alert]:
        """Open alerts of one rule (the partial unique index on rule and condition serves this)."""
        statement = select(Alert).where(Alert.rule_id == rule_id, Alert.resolved_at.is_(None))
        return list((await self.session.execute(statement)).scalars())

    async def page(
        self,
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
        conditions = []
        if buyer_id is not None:
            conditions.append(Alert.buyer_id == buyer_id)
        if account_owner is not None:
            conditions.append(Alert.buyer_id.in_(select(BuyerProfile.buyer_id).where(BuyerProfile.account_owner == account_owner)))
        if unresolved:
            conditions.append(Alert.resolved_at.is_(None))
        if severity is not None:
            conditions.append(Alert.severity == severity)
        if status is not None:
            conditions.append(Alert.status == status)
        if rule_type is not None:
            conditions.append(Alert.rule_type == rule_type)
        total = (await self.session.execute(select(func.count()).select_from(Alert).where(*conditions))).scalar_one()
        statement = select(Alert).where(*conditions).order_by(Alert.raised_at.desc(), Alert.id).limit(limit).offset(offset)
        return list((await self.session.execute(statement)).scalars()), total

    async def open_counts_by_severity(self) -> dict[str, int]:
        rows = await self.session.execute(select(Alert.severity, func.count()).where(Alert.resolved_at.is_(None)).group_by(Alert.severity))
        return dict(rows.all())
