"""Collection cases for overdue invoices, escalated through the levels of a strategy chosen by segment."""
