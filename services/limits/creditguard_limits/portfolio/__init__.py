"""Portfolio reads (exposure, utilisation, concentration), the cash-in forecast and the
portfolio metrics, all in the reporting currency."""
