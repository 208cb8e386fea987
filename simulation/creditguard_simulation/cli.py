"""``creditguard-simulate``: run a book of business through creditguard and write the report."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from datetime import date
from functools import partial
from pathlib import Path

from creditguard_simulation.book import BookConfig
from creditguard_simulation.companies import DEFAULT_DATA_PATH, resolve_data_path
from creditguard_simulation.report import summary_lines
from creditguard_simulation.run import simulate
from creditguard_simulation.stack import own_stack, running_stack


def _repo_root() -> Path:
    # simulation/creditguard_simulation/cli.py -> the repository root
    return Path(__file__).resolve().parents[2]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="creditguard-simulate", description=__doc__)
    p.add_argument("--buyers", type=int, default=2000)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--start", type=date.fromisoformat, default=BookConfig.start, help="first simulated day (ISO date)")
    p.add_argument("--bankrupt-share", type=float, default=None,
                   help="share of the book drawn from companies that went bankrupt (default: the data's own, about 7%%)")
    p.add_argument("--insured-share", type=float, default=0.6)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA_PATH, help="company data (relative paths from the repository root)")
    p.add_argument("--out", type=Path, default=Path("var/simulation/report"), help="report folder")
    p.add_argument("--concurrency", type=int, default=16, help="HTTP requests in flight at once")
    p.add_argument("--against", choices=("own", "running"), default="own",
                   help="own: start a broker and the services (default); running: use a system started by `make run` "
                        "with <SERVICE>_CLOCK_CONTROL_ENABLED=true and ALERTS_WEBHOOK_ALLOWED_NETWORKS=127.0.0.1/32")
    p.add_argument("--var-dir", type=Path, default=Path("var/simulation"), help="databases and logs of the system it starts")
    p.add_argument("--keys-file", type=Path, default=Path("var/dev-api-keys.json"), help="with --against running")
    p.add_argument("--scoring-url", default="http://127.0.0.1:8001")
    p.add_argument("--limits-url", default="http://127.0.0.1:8002")
    p.add_argument("--alerts-url", default="http://127.0.0.1:8003")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    root = _repo_root()
    config = BookConfig(buyers=args.buyers, days=args.days, start=args.start, seed=args.seed,
                        bankrupt_share=args.bankrupt_share, insured_share=args.insured_share)
    if args.against == "own":
        stack = partial(own_stack, args.var_dir.resolve())
    else:
        endpoints = running_stack(args.keys_file, scoring=args.scoring_url, limits=args.limits_url, alerts=args.alerts_url)
        stack = partial(_given, endpoints)
    command = "creditguard-simulate " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    outcome = asyncio.run(simulate(
        config=config, data_path=resolve_data_path(args.data, repo_root=root), stack=stack, out_dir=args.out.resolve(),
        command=command, concurrency=args.concurrency, progress=not args.no_progress,
    ))
    print("\n".join(summary_lines(outcome.figures)))
    print("\n".join(outcome.notes))
    print("time by step of the simulated days:\n  " + "\n  ".join(outcome.phases))
    print("time by API route:\n  " + "\n  ".join(outcome.timings))
    print(f"report: {outcome.report}")
    return 1 if outcome.violations else 0


class _given:
    """A system somebody else started: nothing to start or stop."""

    def __init__(self, endpoints) -> None:
        self.endpoints = endpoints

    def __enter__(self):
        return self.endpoints

    def __exit__(self, *exc) -> None:
        return None


if __name__ == "__main__":
    raise SystemExit(main())
