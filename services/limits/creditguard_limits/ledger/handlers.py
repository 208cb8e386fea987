"""Kafka adapters: documents an ERP published straight to the topics get the same effect as REST."""

from __future__ import annotations

from creditguard_limits.accounts.service import follow_policy_limit
from creditguard_limits.context import LimitsContext
from creditguard_limits.ledger import service
from creditguard_limits.ledger.schemas import CashApplicationIn, CreditNoteIn, InvoiceIn, PaymentIn
from creditguard_limits.position.service import lock_with_terms
from creditguard_shared.consumer import Subscription
from creditguard_shared.events.contracts import CreditNoteIssuedV1, InvoicePostedV1, PaymentReceivedV1
from creditguard_shared.events.envelope import EventEnvelope
from creditguard_shared.unit_of_work import UnitOfWork


def subscriptions(context: LimitsContext) -> list[Subscription]:
    """The handlers need the service's clock and policy, so they are bound to its context."""

    def follow_history(uow: UnitOfWork, buyer_id: str) -> None:
        """Historical documents leave the policy limit alone one by one (see ledger.service); it
        follows the buyer's payment record once, before the exposure publication of the transaction,
        so registered ahead of the documents' own before-commit work."""

        async def follow() -> None:
            account, _ = await lock_with_terms(uow, context=context, buyer_id=buyer_id)
            await follow_policy_limit(uow, context=context, account=account, reason="historical documents")

        uow.before_commit(("policy limit", buyer_id), follow)

    async def on_invoice_posted(uow: UnitOfWork, event: InvoicePostedV1, _: EventEnvelope) -> None:
        if event.historical:
            follow_history(uow, event.buyer_id)
        await service.record_invoice(
            uow, context=context, invoice=InvoiceIn.model_validate(event.model_dump(exclude={"historical"})), historical=event.historical
        )

    async def on_payment_received(uow: UnitOfWork, event: PaymentReceivedV1, _: EventEnvelope) -> None:
        if event.from_unapplied_cash:
            # An ERP that applied the buyer's credit balance itself: no new money.
            await service.apply_unapplied_cash(
                uow,
                context=context,
                buyer_id=event.buyer_id,
                application=CashApplicationIn(
                    application_id=event.payment_id, invoice_id=event.invoice_id, amount=event.amount, currency=event.currency, applied_on=event.paid_on
                ),
                publish=False,
            )
            return
        if event.historical:
            follow_history(uow, event.buyer_id)
        await service.record_payment(
            uow,
            context=context,
            payment=PaymentIn.model_validate(event.model_dump(exclude={"historical", "unapplied_amount", "from_unapplied_cash"})),
            invoice_must_exist=False,
            historical=event.historical,
        )

    async def on_credit_note_issued(uow: UnitOfWork, event: CreditNoteIssuedV1, _: EventEnvelope) -> None:
        await service.record_credit_note(uow, context=context, credit_note=CreditNoteIn.model_validate(event.model_dump()), invoice_must_exist=False)

    # Documents posted through REST are published on the same topics; they already took effect.
    return [
        Subscription("invoice-posted", on_invoice_posted, ignore_own_events=True),
        Subscription("payment-received", on_payment_received, ignore_own_events=True),
        Subscription("credit-note-issued", on_credit_note_issued, ignore_own_events=True),
    ]
