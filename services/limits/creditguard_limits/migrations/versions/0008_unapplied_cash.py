"""ledger: the part of each payment applied to its invoice (the rest is unapplied cash), cash
applications, refunds

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 08:00:00.000000
"""

from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payments", sa.Column("applied_amount", sa.Numeric(18, 2), nullable=True))
    op.add_column("payments", sa.Column("from_unapplied_cash", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "refunds",
        sa.Column("refund_id", sa.String(length=64), nullable=False),
        sa.Column("buyer_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("refunded_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("refunded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("refund_id", name=op.f("pk_refunds")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_buyer_id"), ["buyer_id"], unique=False)
    _split_recorded_payments()


def _split_recorded_payments() -> None:
    """Payments recorded before the split: each invoice's credit notes first, then its payments by
    date, each applied up to what is still open. What an overpayment left over, which the ledger
    used to drop, becomes the buyer's unapplied cash. Payments of unknown invoices stay held.
    On SQLite the amounts are whole cents by now (0006): every figure here comes from and goes
    back to the same money columns, so the split is right in whichever unit they hold."""
    bind = op.get_bind()
    open_after_credit_notes = {
        invoice_id: _money(amount) - _money(credited)
        for invoice_id, amount, credited in bind.execute(
            sa.text("SELECT i.invoice_id, i.amount, COALESCE((SELECT SUM(c.amount) FROM credit_notes c WHERE c.invoice_id = i.invoice_id), 0) FROM invoices i")
        )
    }
    applied: dict[str, Decimal] = defaultdict(Decimal)
    update = sa.text("UPDATE payments SET applied_amount = :share WHERE payment_id = :id").bindparams(sa.bindparam("share", type_=sa.Numeric(18, 2)))
    payments = bind.execute(sa.text("SELECT payment_id, invoice_id, amount FROM payments ORDER BY invoice_id, paid_on, payment_id")).all()
    for payment_id, invoice_id, amount in payments:
        if invoice_id not in open_after_credit_notes:
            continue
        share = min(_money(amount), max(open_after_credit_notes[invoice_id] - applied[invoice_id], Decimal("0.00")))
        applied[invoice_id] += share
        bind.execute(update, {"share": share, "id": payment_id})


def _money(value) -> Decimal:
    # SQLite answers a raw query's numerics as floats: through str, never binary fractions.
    return Decimal(str(value)).quantize(Decimal("0.01"))


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_buyer_id"))
    op.drop_table("refunds")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("from_unapplied_cash")
        batch.drop_column("applied_amount")
