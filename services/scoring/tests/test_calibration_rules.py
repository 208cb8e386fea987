"""Pure calibration rules: the binomial test and interval, Brier and AUC, the back-test by grade,
the recalibration fits, what a default is, and payment behaviour's hold on the grade."""

from __future__ import annotations

import itertools
import math
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from creditguard_scoring.assessment import rules as assessment_rules
from creditguard_scoring.assessment.service import load_risk_tables
from creditguard_scoring.calibration import rules
from creditguard_scoring.models.payment_behaviour import PaymentExperience
from creditguard_scoring.payment_behaviour.rules import past_due_threshold, summarise

AS_OF = date(2026, 11, 1)
CALIBRATION = rules.Calibration(version=0, intercept=1.312, slope=0.744, pivot=math.log(0.07 / 0.93))


def test_exact_binomial_test_matches_published_values():
    # R: binom.test(3, 100, p = 0.01) -> p-value 0.07937, 95 % CI 0.006229972-0.085176053
    assert rules.binomial_two_sided_p(3, 100, 0.01) == pytest.approx(0.07937, abs=5e-5)
    low, high = rules.clopper_pearson(3, 100)
    assert low == pytest.approx(0.006229972, abs=1e-7) and high == pytest.approx(0.085176053, abs=1e-8)
    # Symmetric case: binom.test(2, 10, 0.5) -> 2 * P(X <= 2) = 0.109375
    assert rules.binomial_two_sided_p(2, 10, 0.5) == pytest.approx(0.109375, abs=1e-9)
    assert rules.clopper_pearson(0, 10) == (0.0, pytest.approx(1 - 0.025**0.1, abs=1e-9))
    assert rules.clopper_pearson(10, 10) == (pytest.approx(0.025**0.1, abs=1e-9), 1.0)
    assert rules.binomial_two_sided_p(1, 100, 0.01) == pytest.approx(1.0)
    # Large books stay finite in log space.
    assert 0 < rules.binomial_two_sided_p(150, 2000, 0.05) < 1e-3


def test_brier_and_auc():
    assert rules.brier_score([0.1, 0.9], [False, True]) == pytest.approx(0.01)
    assert rules.auc([0.1, 0.2, 0.8, 0.9], [False, False, True, True]) == 1.0
    assert rules.auc([0.5, 0.5, 0.5], [False, True, False]) == 0.5
    assert rules.auc([0.9, 0.1], [False, True]) == 0.0
    assert rules.auc([0.1, 0.2], [False, False]) is None and rules.brier_score([], []) is None


def test_backtest_by_grade():
    rows = [rules.Observation(f"B{i}", grade=2, pd=0.01, logit=0.0, score_logit=0.0, overlay=0.0, defaulted=i < 3) for i in range(100)]
    rows += [rules.Observation(f"C{i}", grade=8, pd=0.10, logit=0.0, score_logit=0.0, overlay=0.0, defaulted=i < 30) for i in range(100)]
    result = rules.backtest(rows)
    assert (result.buyers, result.defaults, result.default_rate) == (200, 33, 0.165)
    two, eight = result.grades[1], result.grades[7]
    assert (two.buyers, two.defaults, two.mean_pd, two.default_rate) == (100, 3, pytest.approx(0.01), 0.03)
    assert two.p_value == pytest.approx(0.07937, abs=5e-5) and two.calibrated  # 1 % lies inside 0.6-8.5 %
    assert eight.default_rate == 0.3 and not eight.calibrated  # 10 % predicted, 30 % observed: outside both tests
    assert result.grades[0].buyers == 0 and result.grades[0].calibrated is None
    # Defaulters at 10 % outrank the survivors at 1 %; pairs at the same PD count half.
    assert result.auc == pytest.approx((30 * 97 + 0.5 * (30 * 70 + 3 * 97)) / (33 * 167))
    assert result.brier_score == pytest.approx((3 * 0.99**2 + 97 * 0.01**2 + 30 * 0.9**2 + 70 * 0.1**2) / 200)
    assert rules.within_factor(0.03, 0.02, factor=2) and not rules.within_factor(0.05, 0.02, factor=2)


def test_default_is_insolvency_or_ninety_days_past_due_dated_that_day():
    due = date(2026, 3, 1)
    assert rules.default_date(invoices=[rules.InvoiceFact(due, None)], events=[]) == due + timedelta(days=90)
    assert rules.default_date(invoices=[rules.InvoiceFact(due, due + timedelta(days=90))], events=[]) is None
    assert rules.default_date(invoices=[rules.InvoiceFact(due, due + timedelta(days=91))], events=[]) == due + timedelta(days=90)
    events = [rules.EventFact("court_judgment", date(2026, 2, 1)), rules.EventFact("insolvency_filing", date(2026, 4, 1))]
    assert rules.default_date(invoices=[rules.InvoiceFact(due, None)], events=events) == date(2026, 4, 1)
    assert rules.default_date(invoices=[], events=events[:1]) is None


def test_intercept_shift_matches_the_mean_and_logistic_fit_recovers_a_known_calibration():
    generator = random.Random(5)
    scores = [generator.gauss(-3.0, 1.5) for _ in range(4000)]
    # Truth: PDs twice as steep as the scores say, shifted up.
    outcomes = [generator.random() < rules.sigmoid(0.5 + 1.6 * s) for s in scores]
    shift = rules.fit_intercept_shift(scores, outcomes)
    assert sum(rules.sigmoid(s + shift) for s in scores) / len(scores) == pytest.approx(sum(outcomes) / len(outcomes), abs=1e-9)
    a, b = rules.fit_logistic(scores, [0.0] * len(scores), outcomes)
    assert a == pytest.approx(0.5, abs=0.35) and b == pytest.approx(1.6, abs=0.15)
    with pytest.raises(rules.CannotFit):
        rules.fit_intercept_shift(scores[:10], [False] * 10)
    with pytest.raises(rules.CannotFit):
        rules.fit_logistic([1.0, 1.0], [0.0, 0.0], [True, False])


def test_calibration_turns_about_the_pivot():
    assert CALIBRATION.apply(CALIBRATION.pivot) == pytest.approx(CALIBRATION.pivot + 1.312)
    assert CALIBRATION.apply(CALIBRATION.pivot - 1) - CALIBRATION.apply(CALIBRATION.pivot) == pytest.approx(-0.744)


# -- payment behaviour moves the grade --------------------------------------------------------

TABLES = load_risk_tables(None)


def _open_invoice(days_past_due: int, *, amount: str = "10000") -> PaymentExperience:
    due = AS_OF - timedelta(days=days_past_due)
    return PaymentExperience(
        invoice_id=f"I{days_past_due}",
        buyer_id="B",
        amount=Decimal(amount),
        currency="EUR",
        issued_on=due - timedelta(days=30),
        due_on=due,
        open_amount=Decimal(amount),
        settled_on=None,
        max_days_past_due=0,
    )


def _grade_with(experiences: list[PaymentExperience], broken_promises: tuple[date, ...] = ()) -> assessment_rules.Outcome:
    payment = summarise(experiences, as_of=AS_OF, broken_promises=broken_promises)
    inputs = assessment_rules.AssessmentInputs(
        as_of=AS_OF, country="DE", industry="C", legal_form="GmbH", founded_on=date(2001, 1, 1), financial=None, statement_period_end=None, payment=payment
    )
    # A book whose average buyer has a PD of 0.5 %: room for the grade to move either way.
    base_rate = 0.005
    calibration = rules.Calibration(version=0, intercept=0.0, slope=0.744, pivot=math.log(base_rate / (1 - base_rate)))
    return assessment_rules.assess(
        inputs, tables=TABLES, anchor=calibration.pivot, portfolio_base_rate=base_rate, stale_after_days=548, calibration=calibration
    )


def test_ninety_days_past_due_is_default_and_later_is_never_better():
    clean = _grade_with([])
    outcomes = {days: _grade_with([_open_invoice(days)]) for days in (0, 1, 15, 29, 30, 45, 60, 89, 90, 153)}
    assert outcomes[90].grade == outcomes[153].grade == 10 and outcomes[153].pd == 1.0 and outcomes[153].defaulted
    assert outcomes[153].reasons[0].code == "PAYMENT_PAST_DUE" and "in default" in outcomes[153].reasons[0].message
    grades = [outcomes[d].grade for d in sorted(outcomes)]
    pds = [outcomes[d].pd for d in sorted(outcomes)]
    assert grades == sorted(grades) and pds == sorted(pds)
    assert outcomes[30].grade >= clean.grade + 2 and outcomes[60].grade > outcomes[30].grade and outcomes[89].grade < 10
    # An invoice partly paid but still open 90 days after its due date is a default too.
    partly = _open_invoice(95)
    partly.open_amount = Decimal("50")
    assert _grade_with([partly]).grade == 10


def test_a_worsening_payment_trend_raises_the_pd_the_more_it_worsens():
    def history(recent_delay: int) -> list[PaymentExperience]:
        rows = []
        for n in range(6):
            due = AS_OF - timedelta(days=20 + 30 * n)
            delay = recent_delay if due > AS_OF - timedelta(days=90) else 0
            rows.append(
                PaymentExperience(
                    invoice_id=f"T{n}",
                    buyer_id="B",
                    amount=Decimal("1000"),
                    currency="EUR",
                    issued_on=due - timedelta(days=30),
                    due_on=due,
                    open_amount=Decimal(0),
                    settled_on=due + timedelta(days=delay),
                    max_days_past_due=delay,
                )
            )
        return rows

    pds = [_grade_with(history(delay)).pd for delay in (0, 10, 20, 40)]
    assert pds == sorted(pds) and pds[-1] > pds[0] * 2
    trend = [r for r in _grade_with(history(40)).reasons if r.code == "PAYMENT_TREND"]
    assert trend and trend[0].contribution > assessment_rules.TREND_WORSENING_ADJUSTMENT


def test_broken_promises_raise_the_pd_never_lower_it_and_only_for_twelve_months():
    clean = _grade_with([])
    recent = [AS_OF - timedelta(days=10 * n) for n in range(6)]
    outcomes = [_grade_with([], tuple(recent[:count])) for count in range(6)]
    pds = [o.pd for o in outcomes]
    assert pds[0] == clean.pd and all(a < b for a, b in itertools.pairwise(pds[:4])) and pds == sorted(pds)
    assert [o.grade for o in outcomes] == sorted(o.grade for o in outcomes) and outcomes[-1].grade > clean.grade
    reasons = [r for r in outcomes[2].reasons if r.code == "PAYMENT_PROMISE_BROKEN"]
    assert [(r.message, r.contribution) for r in reasons] == [("2 promises to pay broken in the last 12 months", pytest.approx(0.8))]
    capped = next(r for r in outcomes[5].reasons if r.code == "PAYMENT_PROMISE_BROKEN")
    assert capped.contribution == assessment_rules.BROKEN_PROMISE_MAX_ADJUSTMENT
    # A promise broken more than a year ago no longer counts.
    old = _grade_with([], (AS_OF - timedelta(days=400),))
    assert old.pd == clean.pd and not [r for r in old.reasons if r.code == "PAYMENT_PROMISE_BROKEN"]
    assert summarise([], as_of=AS_OF, broken_promises=(AS_OF - timedelta(days=400), AS_OF)).broken_promises_12m == 1


def test_past_due_thresholds_for_the_due_pass():
    assert [past_due_threshold(_open_invoice(d), as_of=AS_OF) for d in (0, 1, 14, 15, 30, 59, 60, 90, 200)] == [0, 1, 1, 15, 30, 30, 60, 90, 90]
    settled = _open_invoice(120)
    settled.open_amount = Decimal(0)
    assert past_due_threshold(settled, as_of=AS_OF) == 0
