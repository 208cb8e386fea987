"""How payments settle an invoice, and the read-ahead both receivables copies (alerts, scoring)
use for a batch of receivables events, on both databases."""

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from creditguard_shared.database import create_engine, create_session_factory, new_metadata
from creditguard_shared.events.contracts import CreditNoteIssuedV1, InvoicePostedV1, PaymentReceivedV1
from creditguard_shared.receivables import ReceivablesReadAhead, settle, settlement_ids_of


def test_settlement_in_any_order():
    state = settle(Decimal("100.00"), [(date(2026, 3, 1), Decimal("60.00")), (date(2026, 2, 1), Decimal("40.00"))])
    assert state.open_amount == Decimal("0.00")
    assert state.settled_on == date(2026, 3, 1)


def test_partial_and_over_settlement():
    assert settle(Decimal("100.00"), [(date(2026, 2, 1), Decimal("30.00"))]).open_amount == Decimal("70.00")
    over = settle(Decimal("100.00"), [(date(2026, 2, 1), Decimal("130.00"))])
    assert over.open_amount == Decimal("0.00") and over.settled_on == date(2026, 2, 1)
    assert settle(Decimal("100.00"), []).settled_on is None


class _Base(DeclarativeBase):
    metadata = new_metadata()


class _Invoice(_Base):
    __tablename__ = "copied_invoices"
    invoice_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class _Settlement(_Base):
    __tablename__ = "copied_settlements"
    settlement_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    settled_on: Mapped[date] = mapped_column(Date)


def test_settlement_ids_name_the_kind_of_document():
    paid = PaymentReceivedV1(payment_id="P1", buyer_id="B", invoice_id="I1", amount=Decimal(5), currency="EUR", paid_on=date(2026, 1, 2))
    credited = CreditNoteIssuedV1(credit_note_id="C1", buyer_id="B", invoice_id="I1", amount=Decimal(5), currency="EUR", issued_on=date(2026, 1, 2))
    posted = InvoicePostedV1(invoice_id="I1", buyer_id="B", amount=Decimal(9), currency="EUR", issued_on=date(2026, 1, 1), due_on=date(2026, 2, 1))
    assert settlement_ids_of([paid, credited, posted]) == {"payment:P1", "credit_note:C1"}


async def test_read_ahead_answers_as_the_database_would_and_takes_in_what_the_batch_adds(databases):
    engine = create_engine(await databases.create("receivables"))
    async with engine.begin() as connection:
        await connection.run_sync(_Base.metadata.create_all)
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        session.add_all([_Invoice(invoice_id="I1"), _Invoice(invoice_id="I9")])
        session.add_all(
            [
                _Settlement(settlement_id="payment:P2", invoice_id="I1", amount=Decimal(30), settled_on=date(2026, 3, 2)),
                _Settlement(settlement_id="payment:P1", invoice_id="I1", amount=Decimal(20), settled_on=date(2026, 3, 1)),
                # Recorded before its invoice arrived (another topic): known by id, its invoice not read.
                _Settlement(settlement_id="payment:P7", invoice_id="I7", amount=Decimal(5), settled_on=date(2026, 3, 1)),
            ]
        )
    async with sessions() as session, session.begin():
        read = ReceivablesReadAhead(documents=_Invoice, settlements=_Settlement)
        await read.read(session, invoice_ids={"I1", "I2"}, settlement_ids={"payment:P7", "payment:P8"})
        assert read.document("I1")[0] and read.document("I1")[1].invoice_id == "I1"
        assert read.document("I2") == (True, None)  # read: it does not exist
        assert read.document("I9") == (False, None)  # not read: ask the database
        assert [s.settlement_id for s in read.settlements_for("I1")] == ["payment:P1", "payment:P2"]  # by date
        assert read.settlements_for("I2") == [] and read.settlements_for("I7") is None
        assert read.settlement("payment:P7")[1].invoice_id == "I7"
        assert read.settlement("payment:P8") == (True, None)
        assert read.settlement("payment:P9") == (False, None)

        invoice = _Invoice(invoice_id="I2")
        early = _Settlement(settlement_id="payment:P8", invoice_id="I1", amount=Decimal(1), settled_on=date(2026, 2, 1))
        session.add_all([invoice, early])
        read.added(invoice)
        read.added(early)
        assert read.document("I2") == (True, invoice)
        assert read.settlement("payment:P8") == (True, early)
        assert [s.settlement_id for s in read.settlements_for("I1")] == ["payment:P8", "payment:P1", "payment:P2"]
    await engine.dispose()
