"""Onboarding an existing book: accounts, invoices and payments the company recorded before it
adopted creditguard, in one transaction, through the ledger's own rules. The documents are
published as ``historical``: consumers record them, but nothing alerts on history."""

from __future__ import annotations

from creditguard_limits.accounts.repository import AccountsRepository
from creditguard_limits.accounts.service import follow_policy_limit, import_account, refresh_payment_experience
from creditguard_limits.checks.repository import ChecksRepository
from creditguard_limits.context import LimitsContext
from creditguard_limits.fx.service import rate_table
from creditguard_limits.imports.rules import ledger_order
from creditguard_limits.imports.schemas import AccountImportCounts, ImportCounts, ImportIn, ImportOut
from creditguard_limits.ledger.repository import LedgerRepository
from creditguard_limits.ledger.schemas import InvoiceIn
from creditguard_limits.ledger.service import document_of_batch, post_invoice, post_payment
from creditguard_limits.models.ledger import Payment
from creditguard_limits.position.service import lock_accounts_ahead, lock_many_with_terms, refresh_exposure
from creditguard_shared.unit_of_work import UnitOfWork


async def import_book(uow: UnitOfWork, *, context: LimitsContext, book: ImportIn, changed_by: str) -> ImportOut:
    """All of the book or none of it: a document the ledger refuses (an unknown invoice, a
    different document under a known id) rejects the import, naming it. Re-importing the same
    book changes and publishes nothing."""
    today = context.clock.today()
    since = {account.buyer_id: account.relationship_since for account in book.accounts}
    buyer_ids = since.keys() | {i.buyer_id for i in book.invoices} | {p.buyer_id for p in book.payments}
    created_accounts = await AccountsRepository(uow.session).create_missing({b: since.get(b, today) for b in buyer_ids}, now=context.clock.now())
    locks = await lock_many_with_terms(uow, context=context, buyer_ids=buyer_ids)
    await LedgerRepository(uow.session).read_ahead(
        invoice_ids={i.invoice_id for i in book.invoices} | {p.invoice_id for p in book.payments},
        settlement_model=Payment,
        settlement_ids={p.payment_id for p in book.payments},
    )
    await ChecksRepository(uow.session).load_reservations({i.order_id for i in book.invoices if i.order_id is not None})

    counts = ImportOut(accounts=AccountImportCounts(), invoices=ImportCounts(), payments=ImportCounts())
    changed_accounts: set[str] = set()
    for index, account in enumerate(book.accounts):
        changed = await document_of_batch(
            index,
            "Account",
            account.buyer_id,
            import_account(
                uow,
                context=context,
                account=locks[account.buyer_id][0],
                relationship_since=account.relationship_since,
                limit=account.limit,
                changed_by=changed_by,
            ),
        )
        if account.buyer_id in created_accounts:
            counts.accounts.created += 1
        elif changed:
            counts.accounts.updated += 1
        else:
            counts.accounts.unchanged += 1
        if changed or account.buyer_id in created_accounts:
            changed_accounts.add(account.buyer_id)

    changed_ledgers: set[str] = set()
    for index, document in ledger_order(book.invoices, book.payments):
        if isinstance(document, InvoiceIn):
            _, created = await document_of_batch(
                index, "Invoice", document.invoice_id, post_invoice(uow, context=context, invoice=document, locked=locks[document.buyer_id], historical=True)
            )
            tally = counts.invoices
        else:
            _, created = await document_of_batch(
                index, "Payment", document.payment_id, post_payment(uow, context=context, payment=document, locked=locks[document.buyer_id], historical=True)
            )
            tally = counts.payments
        if created:
            tally.created += 1
            changed_ledgers.add(document.buyer_id)
        else:
            tally.unchanged += 1

    # The payment record and relationship are complete now: each buyer's policy limit follows
    # them once, not once per invoice paid on time.
    rates = await rate_table(uow, context=context)
    await refresh_payment_experience(uow, context=context, accounts=[locks[b][0] for b in sorted(changed_ledgers)])
    for buyer_id in sorted(changed_accounts | changed_ledgers):
        await follow_policy_limit(uow, context=context, account=locks[buyer_id][0], reason="imported book", rates=rates)
    # Documents publish their buyer's position at commit; buyers with none in the import publish
    # theirs here, their exposure totals read in one statement for all.
    without_documents = changed_accounts - changed_ledgers
    await lock_accounts_ahead(uow, context=context, buyer_ids=without_documents)
    for buyer_id in sorted(without_documents):
        await refresh_exposure(uow, context=context, buyer_id=buyer_id, locked=locks[buyer_id], announce_breach=False)
    return counts
