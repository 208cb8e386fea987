"""The receivables the alerts service watches: open invoices and how late they are."""
