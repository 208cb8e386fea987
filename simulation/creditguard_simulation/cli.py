"""``creditguard-simulate``: run a book of business under every order approved, static limits and
creditguard (live), in the base year and a downturn and across risk appetites, and write the report."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import signal
import sys
from contextlib import AbstractContextManager
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from creditguard_simulation.book import BookConfig, Scenario
from creditguard_simulation.companies import DEFAULT_DATA_PATH, resolve_data_path
from creditguard_simulation.economics import CompanyEconomics
from creditguard_simulation.report import summary_lines
from creditguard_simulation.run import simulate
from creditguard_simulation.stack import Endpoints, own_stack, running_stack

DEFAULT_SWEEP = "0.02,0.05,0.1,0.25,1"
# The sweep runs a smaller book than the main run by default: six live years of the full book would take hours.
DEFAULT_SWEEP_BUYERS = 400


def _repo_root() -> Path:
    # simulation/creditguard_simulation/cli.py -> the repository root
    return Path(__file__).resolve().parents[2]


def _share(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from exc
    if not Decimal(0) <= value < Decimal(1):
        raise argparse.ArgumentTypeError(f"{text} must be at least 0 and below 1")
    return value


def _appetites(text: str) -> tuple[Decimal, ...]:
    if text.strip().lower() in ("", "none", "off"):
        return ()
    try:
        values = tuple(Decimal(part) for part in text.split(","))
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers") from exc
    if any(not Decimal(0) < v <= Decimal(1) for v in values):
        raise argparse.ArgumentTypeError("each risk appetite must be above 0 and at most 1")
    return values


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="creditguard-simulate", description=__doc__)
    p.add_argument("--buyers", type=int, default=2000)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--margin", type=_share, default=Decimal("0.15"), help="gross margin of every sale (default 0.15)")
    p.add_argument("--cost-of-capital", type=_share, default=CompanyEconomics.cost_of_capital, help="annual, financing the receivables")
    p.add_argument("--premium-rate", type=_share, default=CompanyEconomics.premium_rate, help="credit-insurance premium, share of insured credit sales")
    p.add_argument("--start", type=date.fromisoformat, default=BookConfig.start, help="first simulated day (ISO date)")
    p.add_argument(
        "--scenario",
        choices=[s.value for s in Scenario],
        default=Scenario.BASE.value,
        help="base, or downturn (defaults doubled in the second half of the year)",
    )
    p.add_argument(
        "--downturn", action=argparse.BooleanOptionalAction, default=True, help="also run the same book in the downturn scenario and compare (default: on)"
    )
    p.add_argument(
        "--risk-appetite", type=_appetites, default=(), help="the main run's economics.risk_appetite.max_expected_loss_share (default: the policy's)"
    )
    p.add_argument(
        "--sweep", type=_appetites, default=_appetites(DEFAULT_SWEEP), help=f"risk appetites to sweep, comma-separated, or 'none' (default {DEFAULT_SWEEP})"
    )
    p.add_argument("--sweep-buyers", type=int, default=None, help=f"buyers in each sweep run (default: the smaller of --buyers and {DEFAULT_SWEEP_BUYERS})")
    p.add_argument("--history-days", type=int, default=BookConfig.history_days, help="days of history the existing book brings")
    p.add_argument("--new-buyer-share", type=float, default=BookConfig.new_buyer_share, help="share of the buyers won during the year")
    p.add_argument(
        "--bankrupt-share", type=float, default=None, help="share of the book drawn from companies that went bankrupt (default: the data's own, about 7%%)"
    )
    p.add_argument("--insured-share", type=float, default=0.6)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA_PATH, help="company data, CSV or CSV.gz (relative paths from the repository root)")
    p.add_argument("--out", type=Path, default=Path("var/simulation/report"), help="report folder (default var/simulation/report)")
    p.add_argument("--concurrency", type=int, default=16, help="HTTP requests in flight at once")
    p.add_argument(
        "--against",
        choices=("own", "running"),
        default="own",
        help="own: start a broker and the services for each run (default); running: one run against a system started by "
        "`make run` with <SERVICE>_CLOCK_CONTROL_ENABLED=true and ALERTS_WEBHOOK_ALLOWED_NETWORKS=127.0.0.1/32 "
        "(no downturn, no sweep: its databases cannot be reset between runs)",
    )
    p.add_argument("--var-dir", type=Path, default=Path("var/simulation"), help="databases and logs of the systems it starts")
    p.add_argument("--keys-file", type=Path, default=Path("var/dev-api-keys.json"), help="with --against running")
    # Unset: where make run put them (var/stack.json beside the keys file), else the default ports.
    p.add_argument("--scoring-url", help="with --against running (default: from var/stack.json, else http://127.0.0.1:8001)")
    p.add_argument("--limits-url", help="with --against running (default: from var/stack.json, else http://127.0.0.1:8002)")
    p.add_argument("--alerts-url", help="with --against running (default: from var/stack.json, else http://127.0.0.1:8003)")
    p.add_argument(
        "--bootstrap-servers",
        help="with --against running: the services' Kafka broker, on which the simulator waits for each day's events (default: from var/stack.json)",
    )
    p.add_argument("--no-progress", action="store_true")
    return p


class _Given(AbstractContextManager):
    """A system somebody else started: nothing to start or stop."""

    def __init__(self, endpoints: Endpoints) -> None:
        self.endpoints = endpoints

    def __enter__(self) -> Endpoints:
        return self.endpoints

    def __exit__(self, *exc: object) -> None:
        return None


def _running_urls(var_dir: Path, **given: str | None) -> dict[str, str]:
    """The URLs given, else those make run wrote to its ports file (it may have taken free ports),
    else the default ports."""
    from creditguard_local.stack import SERVICES, read_stack_file

    try:
        running = {name: entry["url"] for name, entry in read_stack_file(var_dir)["processes"].items() if entry.get("url")}
    except (OSError, ValueError, KeyError):
        running = {}
    defaults = {name: f"http://127.0.0.1:{port}" for name, port in SERVICES}
    return {name: value or running.get(name) or defaults[name] for name, value in given.items()}


def _running_broker(var_dir: Path, given: str | None) -> str | None:
    """The broker given, else the one make run wrote to its ports file; None if neither is known."""
    from creditguard_local.stack import read_stack_file

    if given:
        return given
    try:
        return read_stack_file(var_dir).get("bootstrap_servers") or None
    except (OSError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    root = _repo_root()
    config = BookConfig(
        buyers=args.buyers,
        days=args.days,
        start=args.start,
        seed=args.seed,
        bankrupt_share=args.bankrupt_share,
        insured_share=args.insured_share,
        margin=args.margin,
        history_days=args.history_days,
        new_buyer_share=args.new_buyer_share,
        scenario=Scenario(args.scenario),
    )
    economics = CompanyEconomics(margin=args.margin, cost_of_capital=args.cost_of_capital, premium_rate=args.premium_rate)
    if len(args.risk_appetite) > 1:
        print("--risk-appetite takes one value", file=sys.stderr)
        return 2
    if args.against == "own":
        var_dir = args.var_dir.resolve()

        def stack(policy: dict | None, label: str) -> AbstractContextManager[Endpoints]:
            return own_stack(var_dir / label, policy)

        downturn, sweep = args.downturn, args.sweep
    else:
        urls = _running_urls(args.keys_file.parent, scoring=args.scoring_url, limits=args.limits_url, alerts=args.alerts_url)
        endpoints = running_stack(args.keys_file, **urls, bootstrap_servers=_running_broker(args.keys_file.parent, args.bootstrap_servers))

        def stack(policy: dict | None, label: str) -> AbstractContextManager[Endpoints]:
            return _Given(endpoints)

        downturn, sweep = False, ()
    command = "creditguard-simulate " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    # Stopped (kill, a CI timeout) as by Ctrl-C: the run unwinds and stops the services and the
    # broker it started, where the default would leave them running.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        demo = asyncio.run(
            simulate(
                config=config,
                data_path=resolve_data_path(args.data, repo_root=root),
                stack=stack,
                out_dir=args.out.resolve(),
                command=command,
                economics=economics,
                risk_appetite=args.risk_appetite[0] if args.risk_appetite else None,
                downturn=downturn,
                sweep=sweep,
                sweep_buyers=args.sweep_buyers or min(args.buyers, DEFAULT_SWEEP_BUYERS),
                concurrency=args.concurrency,
                progress=not args.no_progress,
            )
        )
    except KeyboardInterrupt:
        print("stopped: no report written", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    for outcome in (demo.base, demo.downturn, *demo.sweep):
        if outcome is None:
            continue
        appetite = f", risk appetite {outcome.risk_appetite}" if outcome.risk_appetite is not None else ""
        print(f"== {outcome.config.scenario}, {outcome.config.buyers} buyers{appetite}")
        print("\n".join(summary_lines(outcome)))
        print("\n".join(outcome.notes))
    print("time by step of the simulated days (main run):\n  " + "\n  ".join(demo.base.phases))
    print("time by API route (main run):\n  " + "\n  ".join(demo.base.timings))
    print(f"report: {demo.report}")
    violated = any(o is not None and o.violations for o in (demo.base, demo.downturn, *demo.sweep))
    return 1 if violated else 0


if __name__ == "__main__":
    raise SystemExit(main())
