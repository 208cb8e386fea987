"""Payment behaviour built from the receivables event stream."""
