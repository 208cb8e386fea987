"""Financial statements per fiscal year, and their mapping to the financial model's ratios."""
