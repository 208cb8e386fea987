"""The order an imported book's documents are applied in."""

from __future__ import annotations

from datetime import date

from creditguard_limits.ledger.schemas import InvoiceIn, PaymentIn


def ledger_order(invoices: list[InvoiceIn], payments: list[PaymentIn]) -> list[tuple[int, InvoiceIn | PaymentIn]]:
    """Invoices by issue date and payments by payment date, merged (an invoice before a payment of
    the same day), each with its index in its own list: the ledger then passes through the states
    it had, and the events go out as they happened. A payment dated before its invoice of the same
    import (a prepayment) comes right after that invoice, which it needs."""
    issued_on = {invoice.invoice_id: invoice.issued_on for invoice in invoices}

    def key(item: tuple[int, InvoiceIn | PaymentIn]) -> tuple[date, int, str]:
        _, document = item
        if isinstance(document, InvoiceIn):
            return document.issued_on, 0, document.invoice_id
        on = max(document.paid_on, issued_on.get(document.invoice_id, document.paid_on))
        return on, 1, document.payment_id

    return sorted([*enumerate(invoices), *enumerate(payments)], key=key)
