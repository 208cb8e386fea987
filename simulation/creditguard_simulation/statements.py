"""Turn a company's ratios back into the statement lines that imply them.

The data set gives ratios only. X29 is log10 of total assets in thousands of PLN (checked:
X55 / X3 = 10**X29 for the data set's rows), so a company keeps its real size, converted to
EUR. Every other line is a ratio times total assets (or times another line already derived),
reconciled so the statement passes the plausibility checks of the scoring service: liabilities
+ equity = total assets, current + fixed assets = total assets, cash + receivables +
inventory <= current assets, short-term + long-term liabilities = total liabilities, and no
negative line where none can be. Where the data set disagrees with itself (e.g. X2 + X10 != 1
for about a quarter of rows), X2 (liabilities) wins and equity is the balance.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

PLN_PER_EUR = 4.3
# Used when a company has no X29 (two rows): the data set's median size.
MEDIAN_TOTAL_ASSETS_EUR = 3_500_000.0

Ratios = Mapping[str, float | None]
CENT = Decimal("0.01")


def total_assets_eur(ratios: Ratios) -> float:
    log_size = ratios.get("X29")
    if log_size is None:
        return MEDIAN_TOTAL_ASSETS_EUR
    return 10**log_size * 1000 / PLN_PER_EUR


def _money(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _times(ratio: float | None, base: float | None) -> float | None:
    return None if ratio is None or base is None else ratio * base


def _clip(value: float | None, low: float, high: float) -> float | None:
    return None if value is None else min(max(value, low), high)


def _balance_sheet(r: Ratios, ta: float) -> dict[str, float | None]:
    liabilities = _clip(_times(r.get("X2"), ta), 0.0, 10 * ta)
    equity_share = r.get("X10")
    if liabilities is None and equity_share is not None:
        liabilities = max(ta - equity_share * ta, 0.0)
    equity = None if liabilities is None else ta - liabilities
    short_term = _clip(_times(r.get("X51"), ta), 0.0, liabilities if liabilities is not None else 10 * ta)
    long_term = None if short_term is None or liabilities is None else liabilities - short_term
    current = None
    working_capital_share, current_ratio = r.get("X3"), r.get("X4")
    if short_term is not None and working_capital_share is not None:
        current = short_term + working_capital_share * ta
    elif short_term is not None and current_ratio is not None:
        current = current_ratio * short_term
    current = _clip(current, 0.0, ta)
    fixed = None if current is None else ta - current
    return {
        "total_assets": ta,
        "total_liabilities": liabilities,
        "equity": equity,
        "short_term_liabilities": short_term,
        "long_term_liabilities": long_term,
        "current_assets": current,
        "fixed_assets": fixed,
    }


def _current_asset_parts(r: Ratios, sales: float | None, current: float | None, short_term: float | None) -> dict[str, float | None]:
    daily_sales = None if sales is None else sales / 365
    inventory = _clip(_times(r.get("X20"), daily_sales), 0.0, float("inf"))
    receivables = _clip(_times(r.get("X44"), daily_sales), 0.0, float("inf"))
    cash = _clip(_times(r.get("X40"), short_term), 0.0, float("inf"))
    parts = [p for p in (inventory, receivables, cash) if p is not None]
    if current is not None and parts and sum(parts) > current:
        # Ratios from different dates of the year can add up to more than the year-end
        # current assets; scale the parts down together so their proportions survive.
        scale = current / sum(parts)
        inventory, receivables, cash = (None if p is None else p * scale for p in (inventory, receivables, cash))
    return {"inventory": inventory, "receivables": receivables, "cash": cash}


def _income_statement(r: Ratios, ta: float, sales: float | None) -> dict[str, float | None]:
    ebit = _times(r.get("X7"), ta)
    profit_before_tax = _times(r.get("X18"), ta)
    interest = None if ebit is None or profit_before_tax is None else max(ebit - profit_before_tax, 0.0)
    operating = _times(r.get("X22"), ta)
    ebitda_like = _times(r.get("X48"), ta)
    depreciation = None if operating is None or ebitda_like is None else max(operating - ebitda_like, 0.0)
    gross_margin = r.get("X56")
    cogs = None if sales is None or gross_margin is None else max(sales * (1 - gross_margin), 0.0)
    growth = r.get("X21")
    return {
        "net_profit": _times(r.get("X1"), ta),
        "ebit": ebit,
        "interest_expenses": interest,
        "operating_profit": operating,
        "depreciation": depreciation,
        "cost_of_products_sold": cogs,
        "gross_profit": None if sales is None or cogs is None else sales - cogs,
        "retained_earnings": _times(r.get("X6"), ta),
        "prior_year_sales": None if sales is None or not growth or growth <= 0 else sales / growth,
    }


def statement_lines(ratios: Ratios, *, total_assets: float) -> dict[str, Decimal | None]:
    """The lines of one statement in the scoring service's field names (amounts in EUR)."""
    lines = _balance_sheet(ratios, total_assets)
    sales = _clip(_times(ratios.get("X9"), total_assets), 0.0, float("inf"))
    lines["sales"] = sales
    lines.update(_current_asset_parts(ratios, sales, lines["current_assets"], lines["short_term_liabilities"]))
    lines.update(_income_statement(ratios, total_assets, sales))
    equity = lines["equity"]
    reserves_share = ratios.get("X25")
    share_capital = None if equity is None or reserves_share is None else max(equity - reserves_share * total_assets, 0.0)
    lines["share_capital"] = share_capital
    return {name: _money(value) for name, value in lines.items()}
