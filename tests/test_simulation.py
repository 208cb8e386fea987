"""The simulation: its pure parts (book, statements, behaviour, policies, counterfactual, report)
and, at a small size, a run through the real broker and services asserting the invariants."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from aiokafka.structs import TopicPartition

from creditguard_scoring.buyers.rules import is_country
from creditguard_scoring.statements.rules import compute_ratios, statement_problems
from creditguard_shared.nace import nace_section
from creditguard_simulation import policies
from creditguard_simulation.behaviour import payment_schedule
from creditguard_simulation.book import ONBOARDING_DAYS, Behaviour, BookConfig, Scenario, generate_book
from creditguard_simulation.calendar import SimulatedCalendar
from creditguard_simulation.companies import DEFAULT_DATA_PATH, load_companies, resolve_data_path
from creditguard_simulation.economics import CompanyEconomics, credit_policy, policy_result
from creditguard_simulation.engine import Simulation
from creditguard_simulation.figures import compute_figures
from creditguard_simulation.orders import buyer_orders, history_orders
from creditguard_simulation.report import CHARTS, FRONTIER_CHART, summary_lines, write_report
from creditguard_simulation.run import Outcome
from creditguard_simulation.settling import Backlog, consumer_lag, wait_until_settled
from creditguard_simulation.statements import statement_lines, total_assets_eur
from creditguard_simulation.system import ApproveEverything, CheckOutcome, StaticLimits

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA = resolve_data_path(DEFAULT_DATA_PATH, repo_root=REPO_ROOT)


@pytest.fixture(scope="module")
def companies():
    return load_companies(DATA)


def test_every_company_becomes_a_statement_scoring_accepts_and_its_ratios_come_back(companies):
    matches = dict.fromkeys(("X1", "X2", "X7", "X9", "X18", "X22", "X51"), 0)
    comparable = dict.fromkeys(matches, 0)
    for company in companies:
        lines = statement_lines(company.ratios, total_assets=total_assets_eur(company.ratios))
        assert statement_problems(lines) == [], (company.company_id, statement_problems(lines))
        ratios = compute_ratios(lines)
        for code in matches:
            original = company.ratios[code]
            if original is None or ratios[code] is None:
                continue
            comparable[code] += 1
            matches[code] += abs(ratios[code] - original) <= 0.01 * max(1.0, abs(original))
    for code in matches:
        assert matches[code] >= 0.98 * comparable[code], (code, matches[code], comparable[code])


def test_total_assets_come_from_the_companys_own_size():
    # X29 is log10 of total assets in thousands of PLN.
    assert total_assets_eur({"X29": 4.0}) == pytest.approx(10_000_000 / 4.3)


def test_the_book_is_reproducible_and_uses_codes_scoring_accepts(companies):
    config = BookConfig(buyers=300, days=365, seed=3)
    book = generate_book(companies, config)
    assert [(b.buyer_id, b.company.company_id, b.behaviour, b.default_day) for b in book] == [
        (b.buyer_id, b.company.company_id, b.behaviour, b.default_day) for b in generate_book(companies, config)
    ]
    assert [b.company.company_id for b in generate_book(companies, replace(config, seed=4))] != [b.company.company_id for b in book]
    assert all(is_country(b.country) and nace_section(b.industry) for b in book)
    assert len({b.buyer_id for b in book}) == 300 and len({b.account_owner for b in book}) > 1
    assert 0.4 < sum(b.insured for b in book) / len(book) < 0.8
    for buyer in book:
        assert (buyer.behaviour is Behaviour.DEFAULTING) == buyer.company.bankrupt
        if buyer.default_day is not None:
            assert 0 < buyer.stops_paying_day <= buyer.default_day < config.days
    assert {Behaviour.ON_TIME, Behaviour.HABITUALLY_LATE, Behaviour.DETERIORATING} <= {b.behaviour for b in book}


def test_the_book_can_be_biased_towards_companies_that_went_bankrupt(companies):
    book = generate_book(companies, BookConfig(buyers=40, days=60, bankrupt_share=0.25))
    assert sum(b.company.bankrupt for b in book) == 10
    assert all(b.default_day is not None and 15 <= b.default_day < 60 for b in book if b.company.bankrupt)


def _buyer(companies, behaviour: Behaviour):
    book = generate_book(companies, BookConfig(buyers=400, days=365, seed=11))
    return next(b for b in book if b.behaviour is behaviour)


def test_defaulters_slow_down_before_they_stop_paying(companies):
    buyer = replace(_buyer(companies, Behaviour.DEFAULTING), default_day=300, slowdown_days=100, silent_days=20)
    delays = {}
    for due_day in range(100, 300, 5):
        schedule = payment_schedule(buyer, invoice_id=f"I-{due_day}", amount=Decimal("1000.00"), due_day=due_day, days=365, seed=1)
        assert all(day < 280 for day, _ in schedule)
        if schedule:
            delays[due_day] = max(day for day, _ in schedule) - due_day
    early = [d for due, d in delays.items() if due < 200]
    late = [d for due, d in delays.items() if due >= 230]
    assert max(early) <= 12 and min(late) > max(early)
    assert not payment_schedule(buyer, invoice_id="I-last", amount=Decimal("10.00"), due_day=285, days=365, seed=1)


def test_payments_are_reproducible_and_add_up(companies):
    buyer = _buyer(companies, Behaviour.HABITUALLY_LATE)
    for n in range(50):
        schedule = payment_schedule(buyer, invoice_id=f"I-{n}", amount=Decimal("999.99"), due_day=30, days=365, seed=5)
        assert schedule == payment_schedule(buyer, invoice_id=f"I-{n}", amount=Decimal("999.99"), due_day=30, days=365, seed=5)
        assert sum(a for _, a in schedule) == Decimal("999.99")
        assert all(day > 30 for day, _ in schedule[-1:])
    on_time = _buyer(companies, Behaviour.ON_TIME)
    delays = [payment_schedule(on_time, invoice_id=f"I-{n}", amount=Decimal(1), due_day=30, days=365, seed=5)[0][0] - 30 for n in range(200)]
    assert sum(abs(d) <= 3 for d in delays) > 150


def test_orders_fall_on_business_days_and_stop_at_the_default(companies):
    buyer = replace(_buyer(companies, Behaviour.DEFAULTING), default_day=200)
    calendar = SimulatedCalendar(start=BookConfig().start, days=365)
    orders = buyer_orders(buyer, calendar=calendar, seed=1)
    assert orders and all(calendar.is_business_day(o.day) and o.day < 200 and o.amount > 0 for o in orders)
    assert orders == buyer_orders(buyer, calendar=calendar, seed=1)


def test_credit_manager_rules():
    assert not policies.rule_on_referral(amount=Decimal(10), insolvent=True, max_days_past_due=0, usual_days_late=0, available=None).approve
    assert not policies.rule_on_referral(amount=Decimal(10), insolvent=False, max_days_past_due=16, usual_days_late=0, available=None).approve
    assert not policies.rule_on_referral(amount=Decimal(10), insolvent=False, max_days_past_due=0, usual_days_late=0, available=Decimal(9)).approve
    assert policies.rule_on_referral(amount=Decimal(10), insolvent=False, max_days_past_due=15, usual_days_late=0, available=Decimal(10)).approve
    # A buyer that usually pays 30 days late may be 60 days past due (1.5 x 30 + 15), not 61.
    assert policies.rule_on_referral(amount=Decimal(10), insolvent=False, max_days_past_due=60, usual_days_late=30, available=None).approve
    assert not policies.rule_on_referral(amount=Decimal(10), insolvent=False, max_days_past_due=61, usual_days_late=30, available=None).approve
    assert policies.invoiced_amount(Decimal("100.00"), ({"code": "prepayment", "percentage": "40"},)) == Decimal("60.00")
    assert policies.invoiced_amount(Decimal("100.00"), ({"code": "bank_guarantee"},)) is None
    assert policies.invoiced_amount(Decimal("100.00"), ()) == Decimal("100.00")
    # A buyer that has stopped paying has no cash to prepay with.
    assert policies.invoiced_amount(Decimal("100.00"), ({"code": "prepayment", "percentage": "40"},), can_prepay=False) is None


class _RejectEveryOrderOf(ApproveEverything):
    """A stand-in credit system for the engine's accounting: refuses the named buyers."""

    name = "refuses some buyers"

    def __init__(self, refused: set[str]) -> None:
        self.refused = refused

    async def check_orders(self, orders):
        return [CheckOutcome(order_id=o.order_id, decision="rejected" if o.buyer_id in self.refused else "approved") for o in orders]


async def test_counterfactual_and_a_refusing_system_run_the_same_world(companies, tmp_path):
    config = BookConfig(buyers=60, days=120, bankrupt_share=0.2, seed=9)
    book = generate_book(companies, config)
    counterfactual = await Simulation(book=book, config=config, system=ApproveEverything()).run()
    again = await Simulation(book=book, config=config, system=ApproveEverything()).run()
    defaulters = {b.buyer_id for b in book if b.default_day is not None}
    refusing = await Simulation(book=book, config=config, system=_RejectEveryOrderOf(defaulters)).run()

    assert [o.order.order_id for o in counterfactual.orders] == [o.order.order_id for o in refusing.orders]
    assert counterfactual.invoiced_total == again.invoiced_total and counterfactual.daily_receivables == again.daily_receivables
    assert counterfactual.invoiced_total == sum(o.order.amount for o in counterfactual.orders)
    history_open = sum(i.open_amount for i in Simulation(book=book, config=config, system=ApproveEverything())._history_invoices)
    for run in (counterfactual, refusing):
        assert run.open_total == sum(i.open_amount for i in run.all_invoices()) == history_open + run.invoiced_total - run.payments_posted
    assert set(counterfactual.defaults) == set(refusing.defaults) == {b.buyer_id for b in book if b.default_day is not None and b.default_day < config.days}
    figures = compute_figures(refusing, counterfactual)
    assert figures.counterfactual_losses.gross > 0
    assert figures.bad_stopped.count == sum(o.order.buyer_id in defaulters for o in refusing.orders)
    assert figures.good_turned_away.count == 0

    economics = CompanyEconomics(margin=Decimal("0.15"))
    static = await Simulation(book=book, config=config, system=StaticLimits()).run()
    results = {
        "approve_all": policy_result(counterfactual, economics),
        "static_limits": policy_result(static, economics),
        "creditguard": policy_result(refusing, economics),
    }
    for result in results.values():
        assert result.net_contribution == result.gross_margin - result.net_bad_debt - result.financing_cost - result.insurance_premium
        assert result.gross_margin == (result.sales * Decimal("0.15")).quantize(Decimal("0.01"))
    assert results["approve_all"].good_sales_turned_away == 0 and results["approve_all"].sales == counterfactual.invoiced_total
    assert results["creditguard"].good_sales_turned_away == 0 and results["creditguard"].bad_sales_stopped > 0
    # Refusing the defaulters outright saves their open invoices of the year, not those they brought from before.
    assert results["creditguard"].gross_bad_debt < results["approve_all"].gross_bad_debt

    outcome = Outcome(
        config=config,
        book=book,
        approve_all=counterfactual,
        static_limits=static,
        creditguard=refusing,
        results=results,
        figures=figures,
        violations=[],
        api_problems=[],
        notes=["a note"],
    )
    report = write_report(
        base=outcome,
        downturn=outcome,
        sweep=[replace(outcome, risk_appetite=Decimal("0.1")), replace(outcome, risk_appetite=Decimal("0.5"))],
        economics=economics,
        out_dir=tmp_path,
        command="test",
    )
    text = report.read_text()
    assert "net contribution" in text and "| grade | buyers | defaults | mean predicted PD |" in text and "a note" in text and "## Risk appetite" in text
    for chart in (*CHARTS, FRONTIER_CHART):
        assert (tmp_path / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    document = json.loads((tmp_path / "report.json").read_text())
    assert set(document["policies"]) == {"approve_all", "static_limits", "creditguard"}
    for policy in document["policies"].values():
        assert {
            "credit_sales",
            "gross_margin",
            "net_bad_debt",
            "financing_cost",
            "insurance_premium",
            "net_contribution",
            "good_sales",
            "good_sales_turned_away",
        } <= set(policy)
    assert document["policies"]["creditguard"]["net_contribution"] == float(results["creditguard"].net_contribution)
    assert {"scenario", "seed", "buyers", "days", "calibration", "downturn", "risk_appetite_sweep"} <= set(document)
    assert document["seed"] == 9 and document["buyers"] == 60 and len(document["risk_appetite_sweep"]) == 2
    assert any("net contribution" in line for line in summary_lines(outcome))


async def test_the_book_brings_its_history_and_wins_new_buyers_during_the_year(companies):
    config = BookConfig(buyers=300, days=365, seed=5)
    book = generate_book(companies, config)
    new = [b for b in book if b.is_new]
    assert 0.08 * len(book) < len(new) < 0.25 * len(book)
    calendar = SimulatedCalendar(start=config.start, days=config.days)
    for buyer in new:
        assert buyer.relationship_since == config.start + timedelta(days=buyer.joins_day)
        assert all(o.day >= buyer.joins_day + ONBOARDING_DAYS for o in buyer_orders(buyer, calendar=calendar, seed=config.seed))
        assert history_orders(buyer, calendar=calendar, seed=config.seed, history_days=365) == []
        assert buyer.default_day is None or buyer.default_day >= buyer.joins_day + 60
    existing = [b for b in book if not b.is_new]
    assert all((config.start - b.relationship_since).days >= 400 for b in existing)
    simulation = Simulation(book=book, config=config, system=ApproveEverything())
    history = simulation.history
    assert set(history.relationships) == {b.buyer_id for b in existing}
    assert history.invoices and all(-365 <= i.issued_day < 0 and i.due_day > i.issued_day for i in history.invoices)
    assert history.payments and all(p.day < 0 for p in history.payments)
    invoices = {i.invoice_id: i for i in history.invoices}
    assert all(invoices[p.invoice_id].buyer_id == p.buyer_id for p in history.payments)
    # Some of the history is still open on the first day: it is paid (or lost) during the year.
    assert any(i.open_amount > 0 for i in simulation._history_invoices)
    assert [i.invoice_id for i in Simulation(book=book, config=config, system=ApproveEverything()).history.invoices] == list(invoices)


def test_the_downturn_doubles_the_defaults_of_the_second_half(companies):
    config = BookConfig(buyers=1000, days=365, seed=7)
    base = generate_book(companies, config)
    worse = generate_book(companies, replace(config, scenario=Scenario.DOWNTURN))
    half = config.days // 2
    second_half = sum(1 for b in base if b.default_day is not None and b.default_day >= half)
    assert second_half > 10
    assert sum(1 for b in worse if b.default_day is not None and b.default_day >= half) == 2 * second_half
    assert [b.default_day for b in base if b.default_day is not None and b.default_day < half] == [
        b.default_day for b in worse if b.buyer_id in {x.buyer_id for x in base if x.default_day is not None and x.default_day < half}
    ]
    changed = [w for b, w in zip(base, worse, strict=True) if b != w]
    assert all(w.behaviour is Behaviour.DEFAULTING and w.default_day >= half and not w.company.bankrupt for w in changed)


async def test_static_limits_block_what_would_go_above_two_months_of_purchases(companies):
    config = BookConfig(buyers=120, days=90, seed=3)
    book = generate_book(companies, config)
    system = StaticLimits()
    run = await Simulation(book=book, config=config, system=system).run()
    history = Simulation(book=book, config=config, system=ApproveEverything()).history
    buyer = next(b for b in book if not b.is_new and any(i.buyer_id == b.buyer_id for i in history.invoices))
    purchases = sum(i.amount for i in history.invoices if i.buyer_id == buyer.buyer_id)
    expected = (purchases / (Decimal(365) / Decimal("30.4")) * 2 / 1000).to_integral_value(rounding="ROUND_CEILING") * 1000
    assert system.limits[buyer.buyer_id] == expected
    rejected = [r for r in run.orders if r.decision == "rejected"]
    approved = [r for r in run.orders if r.decision == "approved"]
    assert rejected and approved
    assert all(r.check.exposure_after > r.check.limit_amount for r in rejected)
    assert all(r.check.exposure_after <= r.check.limit_amount for r in approved)


def test_the_live_runs_credit_policy_carries_the_companys_economics():
    from creditguard_limits.policy.service import parse_policy

    policy = parse_policy(json.dumps(credit_policy(CompanyEconomics(margin=Decimal("0.22"), cost_of_capital=Decimal("0.08")), risk_appetite=Decimal("0.05"))))
    assert policy.economics.gross_margin.default == Decimal("0.22")
    assert policy.economics.cost_of_capital == Decimal("0.08")
    assert policy.economics.risk_appetite.max_expected_loss_share == Decimal("0.05")


def test_the_command_line_takes_the_books_size_seed_margin_and_folder():
    from creditguard_simulation.cli import parser

    args = parser().parse_args(["--buyers", "50", "--days", "30", "--seed", "4", "--margin", "0.2", "--out", "x", "--sweep", "0.1,0.5", "--no-downturn"])
    assert (args.buyers, args.days, args.seed, args.margin, args.out, args.sweep, args.downturn) == (
        50,
        30,
        4,
        Decimal("0.2"),
        Path("x"),
        (Decimal("0.1"), Decimal("0.5")),
        False,
    )
    assert parser().parse_args([]).out == Path("var/simulation/report")
    with pytest.raises(SystemExit):
        parser().parse_args(["--margin", "1.5"])


@pytest.mark.e2e
async def test_a_small_book_through_the_live_system_keeps_the_invariants(tmp_path):
    from creditguard_simulation.run import simulate
    from creditguard_simulation.stack import own_stack

    config = BookConfig(buyers=40, days=60, bankrupt_share=0.25, seed=7, history_days=120)
    demo = await simulate(
        config=config,
        data_path=DATA,
        stack=lambda policy, label: own_stack(tmp_path / label, policy),
        out_dir=tmp_path / "report",
        command="test",
        progress=False,
    )
    outcome = demo.base

    assert outcome.violations == []
    assert outcome.api_problems == []
    assert len(outcome.creditguard.defaults) >= 2 and outcome.figures.counterfactual_losses.gross > 0
    assert outcome.live_checks == len(outcome.creditguard.orders) > 0
    # Every order reached a decision, and the grades came back from scoring through limits.
    assert all(o.outcome != "pending" for o in outcome.creditguard.orders if o.order.day < config.days - 3)
    assert sum(g is not None for g in outcome.creditguard.grades.values()) == config.buyers
    assert outcome.figures.webhooks > 0 and outcome.creditguard.case_buyers
    # The history the book brought set the buyers' payment behaviour: established buyers trade on full limits.
    assert outcome.creditguard.history_invoices and any(r.decision == "approved" for r in outcome.creditguard.orders)
    document = json.loads((tmp_path / "report" / "report.json").read_text())
    assert document["policies"]["creditguard"]["credit_sales"] == float(outcome.creditguard.invoiced_total)
    # Twice a day (before the nightly passes and after them) the simulator waited for the events to
    # reach every service, on every consumer group of the three, and no wait ran out of time.
    waits = next(n for n in outcome.notes if n.startswith("the simulator waited"))
    assert re.search(rf"waited {2 * (config.days + 1)} times .* the lag of ([3-9]|\d\d) consumer groups\); 0 of the waits ran out", waits), waits


async def test_a_day_goes_on_once_two_readings_in_a_row_find_nothing_left_to_do():
    readings = iter(
        [
            Backlog(outbox_pending=3, consumer_lag={"creditguard-alerts-receivables": 0}),
            Backlog(outbox_pending=0, consumer_lag={"creditguard-alerts-receivables": 2}),
            Backlog(outbox_pending=0, consumer_lag={"creditguard-alerts-receivables": 0}),
            # A relay published between two readings: the next one sees it.
            Backlog(outbox_pending=0, consumer_lag={"creditguard-limits-accounts": 1}),
            Backlog(outbox_pending=0, consumer_lag={"creditguard-limits-accounts": 0}),
            Backlog(outbox_pending=0, consumer_lag={"creditguard-limits-accounts": 0}),
        ]
    )
    read = []

    async def backlog() -> Backlog:
        read.append(next(readings))
        return read[-1]

    assert await wait_until_settled(backlog) is True
    assert len(read) == 6

    async def never_settles() -> Backlog:
        return Backlog(outbox_pending=1, consumer_lag={})

    assert await wait_until_settled(never_settles, timeout=0.05) is False


def test_consumer_lag_counts_from_the_start_where_a_group_has_not_committed():
    first, second = TopicPartition("payment-received", 0), TopicPartition("payment-received", 1)
    assert consumer_lag(ends={first: 10, second: 4}, committed={first: 7}) == 3 + 4
    assert consumer_lag(ends={first: 10}, committed={first: 12}) == 0


@pytest.mark.e2e
def test_a_stopped_run_stops_the_services_and_broker_it_started(tmp_path):
    """kill (or a CI timeout) stops the simulator as Ctrl-C would: no service or broker of its
    stack is left running."""
    import contextlib
    import os
    import signal
    import subprocess
    import sys
    import time

    var_dir = tmp_path / "var"
    options = ["--buyers", "10", "--days", "300", "--no-downturn", "--sweep", "none", "--no-progress"]
    run = subprocess.Popen(
        [sys.executable, "-m", "creditguard_simulation.cli", *options, "--out", str(tmp_path / "report"), "--var-dir", str(var_dir)],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def stack_processes() -> list[int]:
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if str(var_dir) in (Path("/proc", pid, "environ").read_bytes() + Path("/proc", pid, "cmdline").read_bytes()).decode(errors="replace") or any(
                    str(var_dir) in os.readlink(fd) for fd in Path("/proc", pid, "fd").iterdir()
                ):
                    found.append(int(pid))
            except OSError:
                continue
        return [pid for pid in found if pid != run.pid]

    try:
        deadline = time.monotonic() + 120
        # Stopped once the live run is under way: the three services answer and the book is imported.
        while not (var_dir / "base" / "limits.db").exists() or len(stack_processes()) < 4:
            assert run.poll() is None and time.monotonic() < deadline, run.stderr.read() if run.stderr else ""
            time.sleep(0.5)
        run.send_signal(signal.SIGTERM)

        assert run.wait(timeout=120) == 130
        assert stack_processes() == []
    finally:
        # Whatever the outcome, nothing of this run outlives the test (a regression would
        # otherwise leave services and a broker holding ports for the rest of the suite).
        if run.poll() is None:
            run.kill()
            run.wait(timeout=30)
        for pid in stack_processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
