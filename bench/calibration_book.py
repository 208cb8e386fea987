"""Calibration of the scoring service's PDs on a book drawn the way the simulation draws it.

Each company of train_1y.csv (rows with bankrupt=1 default within the year) becomes a buyer with
the simulation's profile (country, industry, legal form, age) and the statement the simulation
derives from its ratios; it is assessed in process by the scoring service's own rules (financial
model, profile tables, calibration of the service's default settings), with no payment history,
at the start of the year; with --history, with the payment history the simulation's existing book
brings (its invoices and payments before the first day), as the simulation imports it. Prints, per grade: buyers, mean predicted PD, observed default rate,
the binomial test of the two and whether the grade is calibrated within a factor of two; then the
Brier score and AUC. Tuning on train_1y is allowed; never point this at a holdout file to tune.

Usage (from the repo root)::

    .venv/bin/python bench/calibration_book.py [--data PATH] [--buyers N --seed S] [--history]

Without --buyers every company of the file is a buyer (the population the simulation samples).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services" / "scoring"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "simulation"))

from creditguard_scoring.assessment import rules
from creditguard_scoring.assessment.service import MISSING_RATIO_POLICY, AssessmentContext, load_risk_tables
from creditguard_scoring.calibration import rules as calibration_rules
from creditguard_scoring.financial_model import load_scorecard
from creditguard_scoring.metrics import ScoringMetrics
from creditguard_scoring.models.payment_behaviour import PaymentExperience
from creditguard_scoring.payment_behaviour.rules import summarise
from creditguard_scoring.settings import Settings
from creditguard_scoring.statements.rules import compute_ratios, statement_problems
from creditguard_shared.metrics import ServiceMetrics
from creditguard_simulation.behaviour import payment_schedule
from creditguard_simulation.book import BookConfig, generate_book
from creditguard_simulation.calendar import SimulatedCalendar
from creditguard_simulation.companies import load_companies
from creditguard_simulation.orders import history_orders

REPO_ROOT = Path(__file__).resolve().parents[1]

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "polish-bankruptcy" / "train_1y.csv"


def history_experiences(buyer, *, config: BookConfig) -> list[PaymentExperience]:
    """The buyer's invoices before the first day as scoring knows them on the first day (the
    simulation engine's ``_book_history``, seen from scoring's side)."""
    calendar = SimulatedCalendar(start=config.start, days=config.days)
    experiences = []
    for order in history_orders(buyer, calendar=calendar, seed=config.seed, history_days=config.history_days):
        invoice_id = f"INV-{order.order_id[3:]}"
        due_day = order.day + order.terms_days
        paid = [
            (day, amount)
            for day, amount in payment_schedule(buyer, invoice_id=invoice_id, amount=order.amount, due_day=due_day, days=config.days, seed=config.seed)
            if day < 0
        ]
        open_amount = order.amount - sum(amount for _, amount in paid)
        settled_on = calendar.date_of(max(day for day, _ in paid)) if paid and open_amount <= 0 else None
        due_on = calendar.date_of(due_day)
        experiences.append(
            PaymentExperience(
                invoice_id=invoice_id,
                buyer_id=buyer.buyer_id,
                amount=order.amount,
                currency="EUR",
                issued_on=calendar.date_of(order.day),
                due_on=due_on,
                open_amount=max(open_amount, 0),
                settled_on=settled_on,
                max_days_past_due=max((settled_on - due_on).days, 0) if settled_on else 0,
            )
        )
    return experiences


def assess_book(
    book, *, context: AssessmentContext, calibration: calibration_rules.Calibration, config: BookConfig, history: bool = False
) -> list[tuple[float, int, bool, float]]:
    """(pd, grade, defaulted within the year, score logit) of every buyer at the start of the year."""
    as_of = config.start
    no_payments = summarise([], as_of=as_of)
    results = []
    for buyer in book:
        # As the service stores it: the lines the simulation posts, in Decimal.
        lines = dict(buyer.statement)
        financial = None
        if not statement_problems(lines):
            financial = context.scorecard.predict(compute_ratios(lines, []), missing=MISSING_RATIO_POLICY)
        inputs = rules.AssessmentInputs(
            as_of=as_of,
            country=buyer.country,
            industry=buyer.industry,
            legal_form=buyer.legal_form,
            founded_on=buyer.founded_on,
            financial=financial,
            statement_period_end=None,
            payment=summarise(history_experiences(buyer, config=config), as_of=as_of) if history else no_payments,
        )
        outcome = rules.assess(
            inputs,
            tables=context.tables,
            anchor=context.anchor,
            portfolio_base_rate=context.portfolio_base_rate,
            stale_after_days=context.stale_after_days,
            calibration=calibration,
        )
        results.append((outcome.pd, outcome.grade, buyer.company.bankrupt, outcome.score_logit))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--buyers", type=int, default=None, help="draw a book of this size as the simulation does (default: every company)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--history", action="store_true", help="the existing book's payment history too (new buyers of the year left out)")
    args = parser.parse_args()
    companies = load_companies(args.data)
    config = BookConfig(buyers=args.buyers or len(companies), seed=args.seed)
    book = generate_book(companies, config)
    if args.history:
        book = [b for b in book if not b.is_new]
    settings = Settings()
    context = AssessmentContext(
        scorecard=load_scorecard(),
        tables=load_risk_tables(None),
        portfolio_base_rate=settings.portfolio_base_rate,
        stale_after_days=settings.statement_stale_after_days,
        max_reasons=settings.max_reasons,
        # What only the service's reassessment uses, as the service sets it: this script assesses directly.
        debounce=timedelta(seconds=settings.rescore_debounce_seconds),
        max_delay=timedelta(seconds=settings.rescore_max_delay_seconds),
        metrics=ScoringMetrics(ServiceMetrics("scoring")),
    )
    calibration = calibration_rules.Calibration.from_settings(settings)
    results = assess_book(book, context=context, calibration=calibration, config=config, history=args.history)
    statements = [not statement_problems(dict(b.statement)) for b in book]
    print(f"{len(book) - sum(statements)} buyers without a statement the service accepts")
    by_grade: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for pd, grade, defaulted, _ in results:
        by_grade[grade].append((pd, defaulted))
    print(f"{len(results)} buyers from {args.data.name}, calibration intercept {calibration.intercept:+.3f} slope {calibration.slope:.3f}")
    print("grade  buyers  mean PD  default rate  95% interval     p-value  within x2")
    for grade in sorted(by_grade):
        rows = by_grade[grade]
        n, k = len(rows), sum(1 for _, d in rows if d)
        mean_pd = sum(p for p, _ in rows) / n
        low, high = calibration_rules.clopper_pearson(k, n)
        p_value = calibration_rules.binomial_two_sided_p(k, n, mean_pd)
        ok = calibration_rules.within_factor(k / n, mean_pd, factor=2.0) or low <= mean_pd <= high
        print(
            f"{grade:5d}  {n:6d}  {100 * mean_pd:6.2f}%  {100 * k / n:11.2f}%  {100 * low:6.2f}-{100 * high:6.2f}%  "
            f"{p_value:7.4f}  {'yes' if ok else 'NO'}{'' if n >= 30 else ' (<30)'}"
        )
    pds = [p for p, _, _, _ in results]
    outcomes = [d for _, _, d, _ in results]
    print(
        f"mean PD {100 * sum(pds) / len(pds):.2f}%  default rate {100 * sum(outcomes) / len(outcomes):.2f}%  "
        f"Brier {calibration_rules.brier_score(pds, outcomes):.4f}  AUC {calibration_rules.auc(pds, outcomes):.4f}"
    )
    # What a logistic recalibration on this book would set (relative to the settings' pivot).
    # Buyers without a usable statement sit at the base rate whatever the calibration: left out.
    scored = [(s, d) for (_, _, d, s), has in zip(results, statements, strict=True) if has]
    intercept, slope = calibration_rules.fit_logistic([s - calibration.pivot for s, _ in scored], [calibration.pivot] * len(scored), [d for _, d in scored])
    print(f"logistic fit on this book: intercept {intercept:+.3f} slope {slope:.3f}")


if __name__ == "__main__":
    main()
