"""Exchange rates: every amount is converted into the limit's (or the reporting) currency."""
