"""Statements of a sound and of a struggling company, shared by the scoring tests."""

STRONG = {
    "fiscal_year": 2025, "period_end": "2025-12-31", "currency": "EUR",
    "total_assets": "10000000", "current_assets": "6000000", "cash": "1500000", "receivables": "2500000", "inventory": "1500000",
    "fixed_assets": "4000000", "total_liabilities": "4000000", "short_term_liabilities": "2500000", "long_term_liabilities": "1500000",
    "equity": "6000000", "share_capital": "1000000", "retained_earnings": "4000000", "sales": "20000000",
    "cost_of_products_sold": "14000000", "gross_profit": "6000000", "operating_profit": "2000000", "ebit": "2000000",
    "depreciation": "500000", "interest_expenses": "100000", "net_profit": "1500000", "prior_year_sales": "18000000",
}
WEAK = {
    "fiscal_year": 2025, "period_end": "2025-12-31", "currency": "EUR",
    "total_assets": "10000000", "current_assets": "3000000", "cash": "100000", "receivables": "2000000", "inventory": "800000",
    "fixed_assets": "7000000", "total_liabilities": "9500000", "short_term_liabilities": "7000000", "long_term_liabilities": "2500000",
    "equity": "500000", "share_capital": "1000000", "retained_earnings": "-2000000", "sales": "8000000",
    "cost_of_products_sold": "7500000", "gross_profit": "500000", "operating_profit": "-900000", "ebit": "-900000",
    "depreciation": "400000", "interest_expenses": "600000", "net_profit": "-1600000", "prior_year_sales": "11000000",
}
