"""Receivables ledger: invoices, payments and credit notes posted by ERPs (REST or Kafka)."""
