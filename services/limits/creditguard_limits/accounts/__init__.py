"""Credit accounts: limits, terms, status, temporary increases, group limits, the audit trail and
this service's copy of each buyer's assessment."""
