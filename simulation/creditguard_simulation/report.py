"""Writes the report: report.md with the figures and tables, PNG charts beside it, and a short
summary for the terminal."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from creditguard_simulation.engine import RunResult  # noqa: E402
from creditguard_simulation.figures import Figures  # noqa: E402

CHARTS = ("losses.png", "early-warning.png", "calibration.png", "receivables.png")


def eur(amount: Decimal) -> str:
    return f"EUR {amount:,.0f}"


def _share(part: Decimal | int, whole: Decimal | int) -> str:
    return f"{100 * float(part) / float(whole):.1f}%" if whole else "n/a"


def summary_lines(f: Figures) -> list[str]:
    leads = f.warning_leads
    median_lead = f"{leads[len(leads) // 2]} days" if leads else "n/a"
    return [
        f"book: {f.buyers} buyers over {f.days} days, {f.defaulters} defaults, {f.orders} orders",
        f"bad-debt losses (net of insurance): creditguard {eur(f.creditguard_losses.net)} vs every order approved {eur(f.counterfactual_losses.net)}",
        f"losses avoided: {eur(f.losses_avoided)} ({_share(f.losses_avoided, f.counterfactual_losses.net)} of the counterfactual's)",
        f"good orders turned away: {f.good_turned_away.count} ({eur(f.good_turned_away.value)}); delayed by referral: {f.good_delayed.count} (mean {f.good_delay_days_mean:.1f} days)",
        f"DSO: creditguard {f.creditguard_dso:.1f} days vs {f.counterfactual_dso:.1f} days",
        f"early warning before default: {len(leads)} of {f.defaulters} defaults, median lead {median_lead}",
        f"webhooks received: {f.webhooks}; insurance reports in time {f.claims_in_time}, missed {f.claims_missed} (without creditguard: {f.counterfactual_claims_in_time} / {f.counterfactual_claims_missed})",
    ]


def _losses_chart(f: Figures, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    labels = ["every order approved", "with creditguard"]
    gross = [float(f.counterfactual_losses.gross), float(f.creditguard_losses.gross)]
    net = [float(f.counterfactual_losses.net), float(f.creditguard_losses.net)]
    positions = range(len(labels))
    ax.bar([p - 0.2 for p in positions], gross, width=0.4, label="gross bad debt", color="#c0504d")
    ax.bar([p + 0.2 for p in positions], net, width=0.4, label="net of insurance", color="#4f81bd")
    ax.set_xticks(list(positions), labels)
    ax.set_ylabel("EUR")
    ax.set_title("Bad-debt losses")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _warning_chart(f: Figures, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    if f.warning_leads:
        ax.hist(f.warning_leads, bins=range(1, max(f.warning_leads) + 8, 7), color="#9bbb59", edgecolor="white")
    ax.set_xlabel("days from the first early warning to the default")
    ax.set_ylabel("defaults")
    ax.set_title(f"Early warning lead ({len(f.warning_leads)} warned, {f.defaults_warned_late_or_never} not before default)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _calibration_chart(f: Figures, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    rows = [r for r in f.calibration if r.buyers]
    ax.bar([r.grade for r in rows], [100 * r.default_rate for r in rows], color="#8064a2")
    for index, row in enumerate(rows):
        ax.annotate(f"{row.defaults}/{row.buyers}", (index, 100 * row.default_rate), ha="center", va="bottom", fontsize=7)
    ax.set_xlabel("grade at the start (1 best, 10 worst)")
    ax.set_ylabel("realised default rate, %")
    ax.set_title("Grades against realised defaults")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _receivables_chart(creditguard: RunResult, counterfactual: RunResult, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot([float(v) for v in counterfactual.daily_receivables], label="every order approved", color="#c0504d")
    ax.plot([float(v) for v in creditguard.daily_receivables], label="with creditguard", color="#4f81bd")
    ax.set_xlabel("simulated day")
    ax.set_ylabel("open receivables, EUR")
    ax.set_title("Receivables outstanding")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _lead_distribution(leads: list[int]) -> list[str]:
    buckets = ((1, 6, "1-6 days"), (7, 29, "1-4 weeks"), (30, 59, "30-59 days"), (60, 89, "60-89 days"), (90, 10_000, "90 days or more"))
    return [f"| {label} | {sum(low <= lead <= high for lead in leads)} |" for low, high, label in buckets]


def markdown(f: Figures, *, command: str, notes: list[str]) -> str:
    lines = [
        "# What creditguard would have saved: simulation report",
        "",
        f"A book of {f.buyers} buyers run day by day for {f.days} days through the live services, and the same book "
        "and seed with every order approved (the counterfactual, computed in-process).",
        "",
        f"Reproduce: `{command}`",
        "",
        "## Headline",
        "",
        *[f"- {line}" for line in summary_lines(f)],
        "",
        "![losses](losses.png) ![receivables](receivables.png)",
        "",
        "## Bad-debt losses",
        "",
        "| | every order approved | with creditguard |",
        "|---|---:|---:|",
        f"| gross bad debt (open at default) | {eur(f.counterfactual_losses.gross)} | {eur(f.creditguard_losses.gross)} |",
        f"| paid by the insurer | {eur(f.counterfactual_losses.recovered)} | {eur(f.creditguard_losses.recovered)} |",
        f"| net loss | {eur(f.counterfactual_losses.net)} | {eur(f.creditguard_losses.net)} |",
        f"| credit sales invoiced | {eur(f.counterfactual_sales)} | {eur(f.creditguard_sales)} |",
        f"| days sales outstanding | {f.counterfactual_dso:.1f} | {f.creditguard_dso:.1f} |",
        "",
        f"Losses avoided: **{eur(f.losses_avoided)}**. Sales not made: {eur(f.counterfactual_sales - f.creditguard_sales)}.",
        "",
        "## Orders",
        "",
        "| decision at order entry | orders |",
        "|---|---:|",
        *[f"| {decision} | {count} |" for decision, count in sorted(f.orders_by_decision.items())],
        "",
        f"- Good orders (buyers that did not default) turned away: {f.good_turned_away.count}, {eur(f.good_turned_away.value)}.",
        f"- Good orders delayed by a referral and then approved: {f.good_delayed.count}, {eur(f.good_delayed.value)}, "
        f"waiting {f.good_delay_days_mean:.1f} days on average.",
        f"- Orders of buyers that later defaulted, stopped: {f.bad_stopped.count}, {eur(f.bad_stopped.value)}.",
        "",
        "## Early warning",
        "",
        f"{len(f.warning_leads)} of {f.defaulters} defaults had an alert at least a day before the default day; "
        f"{f.defaults_warned_late_or_never} had none before it (an alert on the day is the insolvency itself being recorded).",
        "",
        "| days from first alert to default | defaults |",
        "|---|---:|",
        *_lead_distribution(f.warning_leads),
        "",
        "![early warning](early-warning.png)",
        "",
        f"Webhooks received by the sales system's endpoint: {f.webhooks}. Promises to pay recorded: {f.promises}. "
        f"Defaults with a loss that had a collection case: {f.defaults_with_case} of {f.defaults_with_loss}.",
        "",
        "## Credit insurance",
        "",
        "| non-payment reported to the insurer | in time | missed |",
        "|---|---:|---:|",
        f"| with creditguard (insurer-deadline alerts, or the insolvency) | {f.claims_in_time} | {f.claims_missed} |",
        f"| without (the insolvency only) | {f.counterfactual_claims_in_time} | {f.counterfactual_claims_missed} |",
        "",
        "## Calibration: grade at the start against realised defaults",
        "",
        "| grade | buyers | defaults | default rate |",
        "|---|---:|---:|---:|",
        *[f"| {r.grade} | {r.buyers} | {r.defaults} | {100 * r.default_rate:.1f}% |" for r in f.calibration],
        "",
        "![calibration](calibration.png)",
        "",
    ]
    if notes:
        lines += ["## Notes on this run", "", *[f"- {note}" for note in notes], ""]
    return "\n".join(lines)


def write_report(*, figures: Figures, creditguard: RunResult, counterfactual: RunResult, out_dir: Path, command: str, notes: list[str]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    _losses_chart(figures, out_dir / "losses.png")
    _warning_chart(figures, out_dir / "early-warning.png")
    _calibration_chart(figures, out_dir / "calibration.png")
    _receivables_chart(creditguard, counterfactual, out_dir / "receivables.png")
    path = out_dir / "report.md"
    path.write_text(markdown(figures, command=command, notes=notes))
    return path
