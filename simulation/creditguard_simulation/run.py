"""A simulation: the same book and seed under every order approved and under static limits
(in-process), then through the live system; the invariants checked against what the services
hold; optionally the same in a downturn and across a sweep of risk appetites; the report written."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from tqdm import tqdm

from creditguard_simulation.book import BookConfig, Buyer, Scenario, generate_book
from creditguard_simulation.companies import Company, load_companies
from creditguard_simulation.economics import CompanyEconomics, PolicyResult, credit_policy, policy_result
from creditguard_simulation.engine import RunResult, Simulation
from creditguard_simulation.figures import Figures, compute_figures
from creditguard_simulation.live import LiveSystem
from creditguard_simulation.report import write_report
from creditguard_simulation.settling import SETTLE_TIMEOUT_SECONDS
from creditguard_simulation.stack import Endpoints
from creditguard_simulation.system import ApproveEverything, StaticLimits
from creditguard_simulation.webhook_receiver import WebhookReceiver

# A case opens from the aging sweep's payment-late event, which reaches alerts over Kafka.
CASE_PROPAGATION_DAYS = 2
POLICIES = ("approve_all", "static_limits", "creditguard")

# Starts a live system with the given credit policy (None: the system's own) in the given folder.
StackFactory = Callable[[dict | None, str], AbstractContextManager[Endpoints]]


@dataclass
class Outcome:
    """One book and seed under the three policies."""

    config: BookConfig
    book: list[Buyer]
    approve_all: RunResult
    static_limits: RunResult
    creditguard: RunResult
    results: dict[str, PolicyResult]
    figures: Figures
    violations: list[str]
    api_problems: list[str]
    live_checks: int = 0
    notes: list[str] = field(default_factory=list)
    timings: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    risk_appetite: Decimal | None = None

    @property
    def counterfactual(self) -> RunResult:
        return self.approve_all

    @property
    def advantage(self) -> Decimal:
        """creditguard's net contribution above the better of the two comparisons."""
        best_other = max(self.results["approve_all"].net_contribution, self.results["static_limits"].net_contribution)
        return self.results["creditguard"].net_contribution - best_other


@dataclass
class Demo:
    base: Outcome
    downturn: Outcome | None
    sweep: list[Outcome]
    report: Path | None


async def _reconcile_alerts(run: RunResult, live: LiveSystem) -> None:
    """Webhooks are the live feed; the alert list afterwards catches any the run did not see in time."""
    for alert in await live.all_alerts():
        if not alert.get("buyer_id"):
            continue
        day = live.calendar.day_of(datetime.fromisoformat(alert["raised_at"]).date())
        if day < run.first_warning.get(alert["buyer_id"], day + 1):
            run.first_warning[alert["buyer_id"]] = day
    for record in run.defaults.values():
        warned = run.first_warning.get(record.buyer_id)
        # An alert on the default day itself is the insolvency being recorded, not a warning.
        if warned is not None and warned < record.day:
            record.first_warning_day = warned
    run.case_buyers |= await live.case_buyers()


async def invariant_violations(run: RunResult, live: LiveSystem) -> list[str]:
    violations = []
    expected: dict[str, Decimal] = {}
    for invoice in run.all_invoices():
        expected[invoice.document.buyer_id] = expected.get(invoice.document.buyer_id, Decimal(0)) + invoice.open_amount
    ledger = await live.ledger_open_amounts(expected)
    for buyer_id, amount in sorted(expected.items()):
        if ledger.get(buyer_id) != amount:
            violations.append(f"ledger of {buyer_id}: limits holds {ledger.get(buyer_id)} open, invoices minus payments are {amount}")
    last_day = run.config.days - 1
    for record in run.defaults.values():
        overdue = [
            i
            for i in run.all_invoices()
            if i.document.buyer_id == record.buyer_id and i.open_amount > 0 and i.document.due_day < last_day - CASE_PROPAGATION_DAYS
        ]
        if overdue and record.buyer_id not in run.case_buyers:
            violations.append(f"{record.buyer_id} defaulted with {len(overdue)} invoices overdue but no collection case")
    violations.extend(
        f"order {check.order_id} approved with exposure {check.exposure_after} above the limit {check.limit_amount}"
        for check in live.checks
        if check.decision in ("approved", "approved_with_conditions")
        and check.limit_amount is not None
        and check.exposure_after is not None
        and check.exposure_after > check.limit_amount
    )
    return violations


async def _settled_violations(run: RunResult, live: LiveSystem, *, patience_seconds: float = 30.0) -> list[str]:
    """Cases open from events still crossing the broker at the end; give them a moment before calling it a violation."""
    deadline = time.monotonic() + patience_seconds
    while True:
        violations = await invariant_violations(run, live)
        if not violations or time.monotonic() > deadline:
            return violations
        await asyncio.sleep(2.0)
        run.case_buyers |= await live.case_buyers()


async def run_book(
    *,
    config: BookConfig,
    companies: list[Company],
    stack: StackFactory,
    economics: CompanyEconomics,
    risk_appetite: Decimal | None = None,
    label: str = "base",
    concurrency: int = 16,
    progress: bool = True,
    policy: dict | None = None,
) -> Outcome:
    """One book under the three policies. ``policy``: the live system's credit policy (default:
    the packaged one with the company's economics and ``risk_appetite``)."""
    book = generate_book(companies, config)
    approve_all = await Simulation(book=book, config=config, system=ApproveEverything()).run()
    static_limits = await Simulation(book=book, config=config, system=StaticLimits()).run()
    if policy is None:
        policy = credit_policy(economics, risk_appetite=risk_appetite)
    # Starting a stack runs its own event loop (topic creation), so it is entered off this loop.
    context = stack(policy, label)
    endpoints = await asyncio.to_thread(context.__enter__)
    try:
        receiver = WebhookReceiver()
        await receiver.start()
        live = LiveSystem(endpoints=endpoints, config=config, receiver=receiver, concurrency=concurrency)
        try:
            started = time.perf_counter()
            with tqdm(total=config.days, unit="day", desc=f"simulating ({label})", disable=not progress) as bar:
                creditguard = await Simulation(book=book, config=config, system=live).run(on_day=lambda _: bar.update())
            creditguard.wall_seconds = time.perf_counter() - started
            creditguard.pds = dict(live.pds)
            await live.run_daily_jobs(config.days - 1)
            await asyncio.sleep(1.0)
            creditguard.webhooks = await live.webhooks_received()
            await _reconcile_alerts(creditguard, live)
            creditguard.backtest = await live.backtest()
            violations = await _settled_violations(creditguard, live)
        finally:
            await live.close()
            await receiver.stop()
    finally:
        await asyncio.to_thread(context.__exit__, None, None, None)
    results = {
        name: policy_result(run, economics) for name, run in (("approve_all", approve_all), ("static_limits", static_limits), ("creditguard", creditguard))
    }
    api_problems = live.problems.lines()
    timings = [
        f"{route}: {live.calls_by_route[route]} calls, {seconds / live.calls_by_route[route] * 1000:.1f} ms mean"
        for route, seconds in _largest_first(live.seconds_by_route)
    ]
    phases = [f"{phase}: {seconds:.1f} s" for phase, seconds in _largest_first(creditguard.seconds_by_phase)]
    notes = [
        (
            f"the live run took {creditguard.wall_seconds:.0f} s of wall time: {creditguard.setup_seconds:.0f} s setting up and importing the book, "
            f"then {sum(creditguard.seconds_by_day):.0f} s for {config.days} simulated days ({_day_times(creditguard.seconds_by_day)})"
        )
    ]
    notes += [f"invariant violated: {v}" for v in violations] or [
        "invariants held: ledger = invoices - payments for every buyer; every default with a loss had a collection case; no approved exposure above its limit"
    ]
    notes += [f"API call not answered as expected: {p}" for p in api_problems]
    if live.settle_waits:
        notes.append(
            f"the simulator waited {live.settle_waits} times for every event published so far to reach every service "
            f"(the outboxes of the three services and the lag of {live.watched_groups} consumer groups); "
            f"{live.unsettled_waits} of the waits ran out of time ({SETTLE_TIMEOUT_SECONDS:.0f} s) and the day went on"
        )
    else:
        notes.append("the simulator did not wait for the services' events between the steps of a day (no broker address known)")
    return Outcome(
        config=config,
        book=book,
        approve_all=approve_all,
        static_limits=static_limits,
        creditguard=creditguard,
        results=results,
        figures=compute_figures(creditguard, approve_all),
        violations=violations,
        api_problems=api_problems,
        live_checks=len(live.checks),
        notes=notes,
        timings=timings,
        phases=phases,
        risk_appetite=risk_appetite,
    )


async def simulate(
    *,
    config: BookConfig,
    data_path: Path,
    stack: StackFactory,
    out_dir: Path | None,
    command: str,
    economics: CompanyEconomics | None = None,
    risk_appetite: Decimal | None = None,
    downturn: bool = False,
    sweep: tuple[Decimal, ...] = (),
    sweep_buyers: int | None = None,
    concurrency: int = 16,
    progress: bool = True,
) -> Demo:
    """The book as configured; with ``downturn`` the same book in the downturn scenario too; with
    ``sweep`` a book of ``sweep_buyers`` under each risk appetite. Writes the report to ``out_dir``."""
    companies = load_companies(data_path)
    economics = economics or CompanyEconomics(margin=config.margin)

    async def book(config: BookConfig, risk_appetite: Decimal | None, label: str) -> Outcome:
        return await run_book(
            config=config,
            companies=companies,
            stack=stack,
            economics=economics,
            risk_appetite=risk_appetite,
            label=label,
            concurrency=concurrency,
            progress=progress,
        )

    base = await book(config, risk_appetite, str(config.scenario))
    worse = None
    if downturn and config.scenario is not Scenario.DOWNTURN:
        worse = await book(replace(config, scenario=Scenario.DOWNTURN), risk_appetite, "downturn")
    sweep_config = replace(config, buyers=sweep_buyers or config.buyers)
    points = [await book(sweep_config, appetite, f"appetite-{appetite}") for appetite in sweep]
    report = write_report(base=base, downturn=worse, sweep=points, economics=economics, out_dir=out_dir, command=command) if out_dir else None
    return Demo(base=base, downturn=worse, sweep=points, report=report)


def _largest_first(seconds: Mapping[str, float]) -> list[tuple[str, float]]:
    return sorted(seconds.items(), key=lambda item: item[1], reverse=True)


def _day_times(seconds_by_day: list[float]) -> str:
    """Mean seconds per day over the first and the last tenth of the run: whether days slow down as the book fills."""
    if not seconds_by_day:
        return "no days"
    tenth = max(len(seconds_by_day) // 10, 1)
    first, last = seconds_by_day[:tenth], seconds_by_day[-tenth:]
    return (
        f"{sum(seconds_by_day) / len(seconds_by_day):.2f} s per day on average, {sum(first) / len(first):.2f} s over the first "
        f"{len(first)} days, {sum(last) / len(last):.2f} s over the last {len(last)}"
    )
