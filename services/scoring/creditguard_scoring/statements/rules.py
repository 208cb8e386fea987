"""Pure statement rules: plausibility checks and the mapping of statement lines to the
financial model's ratios X1..X64 (definitions in financial_model/ratio_definitions.py).

A ratio is None (missing) whenever an input line is missing or a denominator is zero; it is
never replaced by zero. Terms of the Polish data set are mapped as follows (see docs/scoring.md):
- "gross profit" there is profit before tax (Polish "zysk brutto"): EBIT - interest expenses;
  our `gross_profit` line (sales - cost of products sold) is used only where the definition
  spells out "sales - cost of products sold".
- "profit on operating activities" and "profit on sales": `operating_profit`.
- "operating expenses" and "total costs": sales - operating profit, and sales - profit before tax.
- "short-term securities" are not a line of ours: X5 uses cash + receivables.
- "constant capital": equity + long-term liabilities.
- X29 (log of total assets) and X55 (working capital) are amounts in the data set's currency and
  scale; ours are in any currency, so they are left missing rather than misread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

# Active ISO 4217 currency codes.
ISO_CURRENCIES = frozenset(
    """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF
CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG
HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA
MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD
RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX
USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWG
""".split()
)

LINES = (
    "total_assets",
    "current_assets",
    "cash",
    "receivables",
    "inventory",
    "fixed_assets",
    "total_liabilities",
    "short_term_liabilities",
    "long_term_liabilities",
    "equity",
    "share_capital",
    "retained_earnings",
    "sales",
    "cost_of_products_sold",
    "gross_profit",
    "operating_profit",
    "ebit",
    "depreciation",
    "interest_expenses",
    "net_profit",
    "prior_year_sales",
)
# Lines that cannot be negative on any real statement (equity and profits can).
NON_NEGATIVE_LINES = (
    "total_assets",
    "current_assets",
    "cash",
    "receivables",
    "inventory",
    "fixed_assets",
    "total_liabilities",
    "short_term_liabilities",
    "long_term_liabilities",
    "share_capital",
    "sales",
    "cost_of_products_sold",
    "depreciation",
    "interest_expenses",
    "prior_year_sales",
)
# Rounding in published statements: parts may exceed their total by this share of it.
TOLERANCE = Decimal("0.01")

Lines = Mapping[str, Decimal | None]


def _exceeds(parts: Sequence[Decimal | None], total: Decimal | None) -> bool:
    present = [p for p in parts if p is not None]
    if total is None or len(present) < len(parts):
        return False
    return sum(present, Decimal(0)) > total + abs(total) * TOLERANCE


def statement_problems(lines: Lines) -> list[dict[str, str]]:
    """Everything implausible about one statement, as (field, message) pairs; empty when sound."""
    problems = [
        {"field": name, "message": f"{name.replace('_', ' ')} cannot be negative"}
        for name in NON_NEGATIVE_LINES
        if (value := lines.get(name)) is not None and value < 0
    ]
    total_assets = lines.get("total_assets")
    if total_assets is not None and total_assets == 0:
        problems.append({"field": "total_assets", "message": "total assets must be greater than zero"})
    if problems:
        return problems
    get = lines.get
    if _exceeds([get("cash"), get("receivables"), get("inventory")], get("current_assets")):
        problems.append({"field": "current_assets", "message": "cash + receivables + inventory exceed current assets"})
    if _exceeds([get("current_assets"), get("fixed_assets")], total_assets):
        problems.append({"field": "total_assets", "message": "current assets + fixed assets exceed total assets"})
    if _exceeds([get("short_term_liabilities"), get("long_term_liabilities")], get("total_liabilities")):
        problems.append({"field": "total_liabilities", "message": "short-term + long-term liabilities exceed total liabilities"})
    liabilities, equity = get("total_liabilities"), get("equity")
    if total_assets is not None and liabilities is not None and equity is not None and abs(liabilities + equity - total_assets) > total_assets * TOLERANCE:
        problems.append({"field": "equity", "message": "total liabilities + equity do not equal total assets"})
    return problems


def _div(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def _add(*terms: float | None) -> float | None:
    present = [t for t in terms if t is not None]
    return None if len(present) < len(terms) else sum(present)


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _times(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def _floats(lines: Lines) -> dict[str, float | None]:
    return {name: None if (value := lines.get(name)) is None else float(value) for name in LINES}


def profit_before_tax(lines: Lines) -> float | None:
    f = _floats(lines)
    return _sub(f["ebit"], f["interest_expenses"])


def compute_ratios(current: Lines, earlier: Sequence[Lines] = ()) -> dict[str, float | None]:
    """X1..X64 from one statement; ``earlier`` are the preceding fiscal years, newest first
    (used for sales growth when prior-year sales are not on the statement, and for X24)."""
    f = _floats(current)
    ta, ca, cash, rec, inv, fa = f["total_assets"], f["current_assets"], f["cash"], f["receivables"], f["inventory"], f["fixed_assets"]
    tl, stl, ltl, eq = f["total_liabilities"], f["short_term_liabilities"], f["long_term_liabilities"], f["equity"]
    sales, cogs, dep, interest, np_ = f["sales"], f["cost_of_products_sold"], f["depreciation"], f["interest_expenses"], f["net_profit"]
    op, ebit = f["operating_profit"], f["ebit"]
    pbt = profit_before_tax(current)
    working_capital = _sub(ca, stl)
    operating_expenses = _sub(sales, op)
    constant_capital = _add(eq, ltl)
    prior_sales = f["prior_year_sales"]
    if prior_sales is None and earlier:
        prior_sales = _floats(earlier[0])["sales"]
    pbt_three_years = _add(pbt, *(profit_before_tax(e) for e in earlier[:2])) if len(earlier) >= 2 else None
    pbt_dep = _add(pbt, dep)
    op_dep = _add(op, dep)
    op_minus_dep = _sub(op, dep)
    quick = _sub(ca, inv)
    ratios: dict[str, float | None] = {
        "X1": _div(np_, ta),
        "X2": _div(tl, ta),
        "X3": _div(working_capital, ta),
        "X4": _div(ca, stl),
        "X5": _times(_div(_sub(_add(cash, rec), stl), _sub(operating_expenses, dep)), 365),
        "X6": _div(f["retained_earnings"], ta),
        "X7": _div(ebit, ta),
        "X8": _div(eq, tl),
        "X9": _div(sales, ta),
        "X10": _div(eq, ta),
        "X11": _div(_add(pbt, interest), ta),
        "X12": _div(pbt, stl),
        "X13": _div(pbt_dep, sales),
        "X14": _div(_add(pbt, interest), ta),
        "X15": _div(_times(tl, 365), pbt_dep),
        "X16": _div(pbt_dep, tl),
        "X17": _div(ta, tl),
        "X18": _div(pbt, ta),
        "X19": _div(pbt, sales),
        "X20": _div(_times(inv, 365), sales),
        "X21": _div(sales, prior_sales),
        "X22": _div(op, ta),
        "X23": _div(np_, sales),
        "X24": _div(pbt_three_years, ta),
        "X25": _div(_sub(eq, f["share_capital"]), ta),
        "X26": _div(_add(np_, dep), tl),
        "X27": _div(op, interest),
        "X28": _div(working_capital, fa),
        "X29": None,
        "X30": _div(_sub(tl, cash), sales),
        "X31": _div(_add(pbt, interest), sales),
        "X32": _div(_times(stl, 365), cogs),
        "X33": _div(operating_expenses, stl),
        "X34": _div(operating_expenses, tl),
        "X35": _div(op, ta),
        "X36": _div(sales, ta),
        "X37": _div(quick, ltl),
        "X38": _div(constant_capital, ta),
        "X39": _div(op, sales),
        "X40": _div(_sub(quick, rec), stl),
        "X41": _div(tl, _times(op_dep, 12 / 365)),
        "X42": _div(op, sales),
        "X43": _add(_div(_times(rec, 365), sales), _div(_times(inv, 365), sales)),
        "X44": _div(_times(rec, 365), sales),
        "X45": _div(np_, inv),
        "X46": _div(quick, stl),
        "X47": _div(_times(inv, 365), cogs),
        "X48": _div(op_minus_dep, ta),
        "X49": _div(op_minus_dep, sales),
        "X50": _div(ca, tl),
        "X51": _div(stl, ta),
        "X52": _div(_times(stl, 365), cogs),
        "X53": _div(eq, fa),
        "X54": _div(constant_capital, fa),
        "X55": None,
        "X56": _div(_sub(sales, cogs), sales),
        "X57": _div(_sub(quick, stl), _sub(_sub(sales, pbt), dep)),
        "X58": _div(_sub(sales, pbt), sales),
        "X59": _div(ltl, eq),
        "X60": _div(sales, inv),
        "X61": _div(sales, rec),
        "X62": _div(_times(stl, 365), sales),
        "X63": _div(sales, stl),
        "X64": _div(sales, fa),
    }
    return ratios


# Ratios shown to people and compared between peers: (code, label, ratio code, higher is better).
KEY_RATIOS: tuple[tuple[str, str, str, bool], ...] = (
    ("equity_ratio", "equity / total assets", "X10", True),
    ("current_ratio", "current assets / short-term liabilities", "X4", True),
    ("return_on_assets", "net profit / total assets", "X1", True),
    ("net_margin", "net profit / sales", "X23", True),
    ("debt_ratio", "total liabilities / total assets", "X2", False),
)


def key_ratios(ratios: Mapping[str, float | None]) -> dict[str, float | None]:
    return {name: ratios.get(code) for name, _, code, _ in KEY_RATIOS}
