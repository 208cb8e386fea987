"""Pure rules: statement plausibility, the ratio mapping, grades, risk tables and reasons."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from creditguard_scoring.assessment import rules
from creditguard_scoring.assessment.service import load_risk_tables
from creditguard_scoring.calibration.rules import Calibration
from creditguard_scoring.financial_model import load_scorecard
from creditguard_scoring.financial_model.scorecard import logit
from creditguard_scoring.payment_behaviour.rules import summarise
from creditguard_scoring.statements.rules import LINES, compute_ratios, statement_problems
from services.scoring.tests.statements_fixtures import STRONG

LINES_STRONG = {name: Decimal(STRONG[name]) for name in LINES}
TABLES = load_risk_tables(None)
CARD = load_scorecard()
ANCHOR = rules.anchor_logit(average_company_logit=CARD.baseline_logit, model_base_rate=CARD.base_rate, portfolio_base_rate=0.02)
# A calibration that shifts and flattens, so every test also checks the reasons stay additive under it.
CALIBRATION = Calibration(version=3, intercept=1.3, slope=0.75, pivot=logit(0.02))


def test_ratios_follow_the_definitions_and_missing_lines_give_missing_ratios_not_zero():
    ratios = compute_ratios(LINES_STRONG)
    assert ratios["X1"] == pytest.approx(0.15)  # net profit / total assets
    assert ratios["X4"] == pytest.approx(6_000_000 / 2_500_000)
    assert ratios["X21"] == pytest.approx(20 / 18)  # sales growth
    assert ratios["X27"] == pytest.approx(20.0)  # operating profit / financial expenses
    assert ratios["X18"] == pytest.approx(0.19)  # "gross profit" = profit before tax = EBIT - interest
    assert ratios["X29"] is None and ratios["X55"] is None and ratios["X24"] is None
    sparse = compute_ratios({**LINES_STRONG, "net_profit": None, "interest_expenses": Decimal(0), "prior_year_sales": None})
    assert sparse["X1"] is None and sparse["X23"] is None  # missing line
    assert sparse["X27"] is None  # zero denominator
    assert sparse["X21"] is None
    assert not [code for code, value in compute_ratios({}).items() if value is not None]


def test_earlier_years_give_growth_and_three_year_profit():
    previous = {**LINES_STRONG, "sales": Decimal(16_000_000)}
    ratios = compute_ratios({**LINES_STRONG, "prior_year_sales": None}, [previous, LINES_STRONG])
    assert ratios["X21"] == pytest.approx(20 / 16)
    assert ratios["X24"] == pytest.approx(3 * 1_900_000 / 10_000_000)


def test_implausible_statements_are_named():
    assert statement_problems(LINES_STRONG) == []
    assert statement_problems({**LINES_STRONG, "total_assets": Decimal(-1)})[0]["field"] == "total_assets"
    assert statement_problems({**LINES_STRONG, "total_assets": Decimal(0)})[0]["message"] == "total assets must be greater than zero"
    fields = {p["field"] for p in statement_problems({**LINES_STRONG, "cash": Decimal(9_000_000), "equity": Decimal(1)})}
    assert fields == {"current_assets", "equity"}


@pytest.mark.parametrize(
    ("pd", "grade", "risk_class"),
    [
        (0.0005, 1, "low"),
        (0.001, 2, "low"),
        (0.004, 3, "low"),
        (0.0099, 4, "medium"),
        (0.015, 5, "medium"),
        (0.03, 6, "medium"),
        (0.05, 7, "high"),
        (0.1, 8, "high"),
        (0.2, 9, "very_high"),
        (0.3, 10, "very_high"),
    ],
)
def test_grade_bands(pd, grade, risk_class):
    assert rules.grade_for(pd) == grade
    assert rules.risk_class_for(grade) == risk_class
    assert rules.grade_for(0.0001, defaulted=True) == 10


def test_risk_tables_need_provenance_and_fall_back_by_section_and_default():
    with pytest.raises(ValueError, match="source"):
        rules.parse_risk_table("country", "code,name,adjustment\nDE,Germany,0.1\n")
    assert rules.industry_reason("41.20", TABLES)[0].message.endswith("(NACE 41)")
    assert rules.industry_reason("42", TABLES)[0].message.endswith("(NACE F)")
    assert rules.country_reason("KE", TABLES)[0].contribution == TABLES.country.default.adjustment
    assert rules.profile_reasons(_inputs(legal_form="sp. z o.o.", founded_on=None), TABLES) == []
    assert rules.profile_reasons(_inputs(legal_form="e. K.", founded_on=None), TABLES)[0].code == "PROFILE_LEGAL_FORM"


def _inputs(**overrides) -> rules.AssessmentInputs:
    values = {
        "as_of": date(2026, 11, 1),
        "country": "DE",
        "industry": "C",
        "legal_form": "GmbH",
        "founded_on": date(2001, 1, 1),
        "financial": None,
        "statement_period_end": None,
        "payment": summarise([], as_of=date(2026, 11, 1)),
    }
    return rules.AssessmentInputs(**{**values, **overrides})


def _assess(inputs: rules.AssessmentInputs) -> rules.Outcome:
    return rules.assess(inputs, tables=TABLES, anchor=ANCHOR, portfolio_base_rate=0.02, stale_after_days=548, calibration=CALIBRATION)


def test_contributions_add_up_to_the_pd_and_missing_financials_sit_at_the_base_rate():
    outcome = _assess(_inputs(country="FR", industry="M", founded_on=None))  # adjustments 0 except industry -0.05
    missing = next(r for r in outcome.reasons if r.code == "FINANCIAL_DATA_MISSING")
    assert rules.sigmoid(CALIBRATION.apply(ANCHOR) + missing.contribution) == pytest.approx(0.02)
    assert outcome.logit == pytest.approx(CALIBRATION.apply(ANCHOR) + sum(r.contribution for r in outcome.reasons))
    assert outcome.calibration_version == 3 and outcome.anchor_pd == pytest.approx(rules.sigmoid(CALIBRATION.apply(ANCHOR)))
    financial = CARD.predict(compute_ratios(LINES_STRONG), missing="neutral")
    scored = _assess(_inputs(financial=financial, statement_period_end=date(2025, 12, 31)))
    fin_total = sum(r.contribution for r in scored.reasons if r.code.startswith("FIN_"))
    assert fin_total == pytest.approx(CALIBRATION.slope * (financial.logit - financial.baseline_logit))
    assert scored.logit == pytest.approx(CALIBRATION.apply(scored.score_logit) + scored.overlay)
    stale = _assess(_inputs(financial=financial, statement_period_end=date(2024, 6, 30)))
    assert any(r.code == "FINANCIAL_DATA_STALE" for r in stale.reasons) and stale.pd > scored.pd


def test_adverse_events_weigh_by_kind_age_and_resolution():
    fact = rules.AdverseEventFact
    reasons, defaulted = rules.adverse_event_reasons(
        [
            fact("court_judgment", date(2026, 1, 1), None),
            fact("court_judgment", date(2025, 1, 1), date(2025, 6, 1)),
            fact("payment_default", date(2020, 1, 1), None),  # too old to count
        ],
        date(2026, 11, 1),
    )
    assert not defaulted
    assert [(r.code, r.contribution) for r in reasons] == [("ADVERSE_COURT_JUDGMENT", pytest.approx(1.3))]
    _, defaulted = rules.adverse_event_reasons([fact("insolvency_filing", date(2026, 10, 1), None)], date(2026, 11, 1))
    assert defaulted
    _, defaulted = rules.adverse_event_reasons([fact("insolvency_filing", date(2026, 10, 1), date(2026, 10, 20))], date(2026, 11, 1))
    assert not defaulted


def test_percentile_rank_is_mid_rank():
    assert rules.percentile_rank(below=0, equal=1, count=1) == 50.0
    assert rules.percentile_rank(below=3, equal=1, count=4) == 87.5
    assert rules.percentile_rank(below=0, equal=0, count=0) is None


def test_financial_scores_are_kept_by_statement_content():
    from creditguard_scoring.assessment.service import MISSING_RATIO_POLICY, FinancialScores

    scores = FinancialScores(CARD, size=8)
    previous = {**LINES_STRONG, "sales": Decimal(16_000_000)}
    ratios, financial = scores.of(dict(LINES_STRONG), [previous])
    direct = compute_ratios(LINES_STRONG, [previous])
    assert ratios == direct and financial == CARD.predict(direct, missing=MISSING_RATIO_POLICY)
    again, kept = scores.of(dict(LINES_STRONG), [dict(previous)])
    assert kept is financial and again == ratios and again is not ratios  # a copy: callers may not share it
    changed, rescored = scores.of({**LINES_STRONG, "net_profit": Decimal(-900_000)}, [previous])
    assert changed["X1"] != ratios["X1"] and rescored.pd > financial.pd
    assert scores.of(dict(LINES_STRONG), [])[0] == compute_ratios(LINES_STRONG)  # other history, other ratios
