from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import String, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from creditguard_limits.models.accounts import CreditAccount, CreditGroup, LimitAudit, TemporaryIncrease
from creditguard_limits.models.ledger import Invoice
from creditguard_shared.prepared import PreparedStatement

_PAYMENT_RECORD = ("invoices_settled", "invoices_paid_on_time", "days_late_total")
_SAVE_PAYMENT_RECORD = PreparedStatement(
    update(CreditAccount)
    .where(CreditAccount.buyer_id == bindparam("record_buyer_id", type_=String))
    .values({name: bindparam(name, type_=CreditAccount.__table__.c[name].type) for name in _PAYMENT_RECORD})
)


class AccountsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, buyer_id: str) -> CreditAccount | None:
        """The account as it stands, unlocked: position.service locks an account for a change."""
        return await self.session.get(CreditAccount, buyer_id)

    async def create_missing(self, relationship_since: dict[str, date], *, now: datetime) -> set[str]:
        """Create the accounts of these buyers that do not exist yet (active, no limit) in two
        statements; answers the ids created. The caller locks them afterwards."""
        existing = set((await self.session.execute(select(CreditAccount.buyer_id).where(CreditAccount.buyer_id.in_(relationship_since)))).scalars())
        missing = sorted(relationship_since.keys() - existing)
        if missing:
            dialect_insert = sqlite.insert if self.session.get_bind().dialect.name == "sqlite" else postgresql.insert
            await self.session.execute(
                dialect_insert(CreditAccount).on_conflict_do_nothing(index_elements=["buyer_id"]),
                [
                    {"buyer_id": buyer_id, "status": "active", "flags": "[]", "relationship_since": relationship_since[buyer_id], "updated_at": now}
                    for buyer_id in missing
                ],
            )
        return set(missing)

    async def purchases_by_buyer(self) -> dict[str, Decimal]:
        rows = await self.session.execute(select(CreditAccount.buyer_id, CreditAccount.purchases_12m))
        return {buyer_id: Decimal(value) for buyer_id, value in rows}

    async def set_purchases(self, purchases: dict[str, Decimal]) -> None:
        """One statement for all: the daily refresh touches every account whose figure moved."""
        if not purchases:
            return
        await self.session.execute(update(CreditAccount), [{"buyer_id": buyer_id, "purchases_12m": value} for buyer_id, value in purchases.items()])

    async def save_payment_records(self, accounts: list[CreditAccount]) -> None:
        """Write the accounts' payment records (invoices settled, paid on time, days late) in one
        statement: for a batch that set them as committed values rather than ORM changes."""
        await _SAVE_PAYMENT_RECORD.run_many(
            self.session, [{"record_buyer_id": a.buyer_id, **{name: getattr(a, name) for name in _PAYMENT_RECORD}} for a in accounts]
        )

    async def get_group(self, group_id: str) -> CreditGroup | None:
        return await self.session.get(CreditGroup, group_id)

    async def group_members(self, group_id: str) -> list[str]:
        statement = select(CreditAccount.buyer_id).where(CreditAccount.group_id == group_id).order_by(CreditAccount.buyer_id)
        return list((await self.session.execute(statement)).scalars())

    async def add(self, entity: CreditAccount | CreditGroup | TemporaryIncrease | LimitAudit) -> None:
        self.session.add(entity)
        await self.session.flush()

    def add_audit(self, entry: LimitAudit) -> None:
        """Written with the transaction's next flush: an import audits thousands of accounts, a
        round trip each would cost more than the import's documents."""
        self.session.add(entry)

    async def get_increase(self, increase_id: str) -> TemporaryIncrease | None:
        return await self.session.get(TemporaryIncrease, increase_id)

    async def increases_for(self, buyer_id: str) -> list[TemporaryIncrease]:
        statement = select(TemporaryIncrease).where(TemporaryIncrease.buyer_id == buyer_id).order_by(TemporaryIncrease.valid_from)
        return list((await self.session.execute(statement)).scalars())

    async def increases_ended_unannounced(self, *, before: object) -> list[TemporaryIncrease]:
        statement = select(TemporaryIncrease).where(
            TemporaryIncrease.valid_until < before, TemporaryIncrease.expiry_announced.is_(False), TemporaryIncrease.cancelled_at.is_(None)
        )
        return list((await self.session.execute(statement)).scalars())

    async def audit_trail(self, *, subject_type: str, subject_id: str) -> list[LimitAudit]:
        statement = select(LimitAudit).where(LimitAudit.subject_type == subject_type, LimitAudit.subject_id == subject_id).order_by(LimitAudit.audit_id)
        return list((await self.session.execute(statement)).scalars())

    async def purchases_since(self, since: date, *, buyer_ids: set[str] | None = None) -> list[tuple[str, str, Decimal]]:
        """(buyer, currency, total invoiced) of the invoices issued after ``since``."""
        statement = (
            select(Invoice.buyer_id, Invoice.currency, func.sum(Invoice.amount)).where(Invoice.issued_on > since).group_by(Invoice.buyer_id, Invoice.currency)
        )
        if buyer_ids is not None:
            statement = statement.where(Invoice.buyer_id.in_(buyer_ids))
        return [(buyer_id, currency, Decimal(total)) for buyer_id, currency, total in await self.session.execute(statement)]
