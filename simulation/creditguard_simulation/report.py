"""Writes the report: report.md with the figures and tables, report.json with the same figures for
machines, PNG charts beside them, and a short summary for the terminal."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from creditguard_simulation.economics import CompanyEconomics
from creditguard_simulation.figures import Figures, days_sales_outstanding

if TYPE_CHECKING:
    from creditguard_simulation.run import Outcome

CHARTS = ("contribution.png", "losses.png", "early-warning.png", "calibration.png", "receivables.png")
FRONTIER_CHART = "frontier.png"
LABELS = {"approve_all": "every order approved", "static_limits": "static limits", "creditguard": "creditguard"}
COLOURS = {"approve_all": "#c0504d", "static_limits": "#9bbb59", "creditguard": "#4f81bd"}
# Grades with fewer buyers than this say little about calibration.
CALIBRATION_MIN_BUYERS = 30


def eur(amount: Decimal | float) -> str:
    return f"EUR {amount:,.0f}"


def _share(part: Decimal | int | float, whole: Decimal | int | float) -> str:
    return f"{100 * float(part) / float(whole):.1f}%" if whole else "n/a"


def _signed(amount: Decimal) -> str:
    return f"{'+' if amount >= 0 else '-'}EUR {abs(amount):,.0f}"


def losses_avoided(outcome: Outcome) -> Decimal:
    return outcome.results["approve_all"].net_bad_debt - outcome.results["creditguard"].net_bad_debt


def summary_lines(outcome: Outcome) -> list[str]:
    r = outcome.results
    cg, approve_all, static = r["creditguard"], r["approve_all"], r["static_limits"]
    f = outcome.figures
    leads = f.warning_leads
    median_lead = f"{leads[len(leads) // 2]} days" if leads else "n/a"
    return [
        (
            f"book: {f.buyers} buyers over {f.days} days ({outcome.config.scenario}), {f.defaulters} defaults, "
            f"{f.orders} orders, margin {float(outcome.config.margin):.0%}"
        ),
        (
            f"net contribution: creditguard {eur(cg.net_contribution)}; every order approved {eur(approve_all.net_contribution)} "
            f"({_signed(cg.net_contribution - approve_all.net_contribution)}); static limits {eur(static.net_contribution)} "
            f"({_signed(cg.net_contribution - static.net_contribution)})"
        ),
        (
            f"bad debt net of insurance: creditguard {eur(cg.net_bad_debt)}, every order approved {eur(approve_all.net_bad_debt)}, "
            f"static limits {eur(static.net_bad_debt)}; losses avoided {eur(losses_avoided(outcome))} "
            f"({_share(losses_avoided(outcome), approve_all.net_bad_debt)} of every-order-approved's)"
        ),
        (
            f"good sales turned away: creditguard {eur(cg.good_sales_turned_away)} ({cg.good_turned_away_share:.1%} of good sales), "
            f"static limits {eur(static.good_sales_turned_away)} ({static.good_turned_away_share:.1%})"
        ),
        f"early warning before default: {len(leads)} of {f.defaulters} defaults, median lead {median_lead}; webhooks {f.webhooks}",
    ]


def _policy_table(outcome: Outcome) -> list[str]:
    r = outcome.results
    runs = {"approve_all": outcome.approve_all, "static_limits": outcome.static_limits, "creditguard": outcome.creditguard}

    def row(label: str, value) -> str:
        return f"| {label} | " + " | ".join(value(name) for name in ("approve_all", "static_limits", "creditguard")) + " |"

    return [
        "| EUR | every order approved | static limits | creditguard |",
        "|---|---:|---:|---:|",
        row("sales shipped", lambda n: eur(r[n].sales)),
        row("credit sales invoiced", lambda n: eur(r[n].credit_sales)),
        row("gross margin", lambda n: eur(r[n].gross_margin)),
        row("bad debt (open at default)", lambda n: eur(r[n].gross_bad_debt)),
        row("paid by the insurer", lambda n: eur(r[n].insurer_paid)),
        row("net bad debt", lambda n: eur(r[n].net_bad_debt)),
        row("financing cost of receivables", lambda n: eur(r[n].financing_cost)),
        row("insurance premium", lambda n: eur(r[n].insurance_premium)),
        row("**net contribution**", lambda n: f"**{eur(r[n].net_contribution)}**"),
        row(
            "good sales turned away", lambda n: f"{eur(r[n].good_sales_turned_away)} ({r[n].good_turned_away_share:.1%}, {r[n].good_orders_turned_away} orders)"
        ),
        row("sales to later defaulters stopped", lambda n: eur(r[n].bad_sales_stopped)),
        row("days sales outstanding", lambda n: f"{days_sales_outstanding(runs[n]):.1f}"),
    ]


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _bars(outcome: Outcome, path: Path, *, title: str, values: dict[str, float], ylabel: str) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    names = list(values)
    ax.bar([LABELS[n] for n in names], [values[n] for n in names], color=[COLOURS[n] for n in names])
    for index, name in enumerate(names):
        ax.annotate(f"{values[name] / 1e6:,.2f} m", (index, values[name]), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    _save(fig, path)


def _warning_chart(f: Figures, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    if f.warning_leads:
        ax.hist(f.warning_leads, bins=range(1, max(f.warning_leads) + 8, 7), color="#9bbb59", edgecolor="white")
    ax.set_xlabel("days from the first early warning to the default")
    ax.set_ylabel("defaults")
    ax.set_title(f"Early warning lead ({len(f.warning_leads)} warned, {f.defaults_warned_late_or_never} not before default)")
    _save(fig, path)


def _calibration_chart(f: Figures, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    rows = [r for r in f.calibration if r.buyers and r.grade != "ungraded"]
    positions = range(len(rows))
    ax.bar([p - 0.2 for p in positions], [100 * r.default_rate for r in rows], width=0.4, color="#8064a2", label="realised default rate")
    ax.bar([p + 0.2 for p in positions], [100 * (r.mean_pd or 0) for r in rows], width=0.4, color="#f79646", label="mean predicted PD")
    for index, row in enumerate(rows):
        ax.annotate(f"{row.defaults}/{row.buyers}", (index - 0.2, 100 * row.default_rate), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(list(positions), [r.grade for r in rows])
    ax.set_xlabel("grade when graded (1 best, 10 worst)")
    ax.set_ylabel("%")
    ax.set_title("Predicted PD against realised defaults")
    ax.legend(fontsize=8)
    _save(fig, path)


def _receivables_chart(outcome: Outcome, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, run in (("approve_all", outcome.approve_all), ("static_limits", outcome.static_limits), ("creditguard", outcome.creditguard)):
        ax.plot([float(v) for v in run.daily_receivables], label=LABELS[name], color=COLOURS[name])
    ax.set_xlabel("simulated day")
    ax.set_ylabel("open receivables, EUR")
    ax.set_title("Receivables outstanding")
    ax.legend()
    _save(fig, path)


def _frontier_chart(sweep: list[Outcome], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    points = sorted(sweep, key=lambda o: float(o.risk_appetite or 0))
    ax.plot(
        [float(o.results["creditguard"].net_bad_debt) for o in points],
        [float(o.results["creditguard"].net_contribution) for o in points],
        marker="o",
        color=COLOURS["creditguard"],
        label="creditguard, by risk appetite",
    )
    for outcome in points:
        ax.annotate(
            f"{float(outcome.risk_appetite or 0):g}",
            (float(outcome.results["creditguard"].net_bad_debt), float(outcome.results["creditguard"].net_contribution)),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=8,
        )
    reference = points[0]
    for name in ("approve_all", "static_limits"):
        ax.scatter(
            [float(reference.results[name].net_bad_debt)],
            [float(reference.results[name].net_contribution)],
            color=COLOURS[name],
            marker="s",
            label=LABELS[name],
        )
    ax.set_xlabel("net bad debt, EUR")
    ax.set_ylabel("net contribution, EUR")
    ax.set_title("Net contribution against losses (risk-appetite sweep)")
    ax.legend(fontsize=8)
    _save(fig, path)


def _lead_distribution(leads: list[int]) -> list[str]:
    buckets = ((1, 6, "1-6 days"), (7, 29, "1-4 weeks"), (30, 59, "30-59 days"), (60, 89, "60-89 days"), (90, 10_000, "90 days or more"))
    return [f"| {label} | {sum(low <= lead <= high for lead in leads)} |" for low, high, label in buckets]


def calibration_holds(f: Figures) -> bool:
    """Every grade with enough buyers calibrated, and default rates rising with the grade: no
    better grade defaulting significantly more than a worse one (their 95 % intervals apart)."""
    rows = sorted((r for r in f.calibration if r.grade != "ungraded" and r.buyers >= CALIBRATION_MIN_BUYERS), key=lambda r: int(r.grade))
    inverted = [(a, b) for i, a in enumerate(rows) for b in rows[i + 1 :] if a.interval()[0] > b.interval()[1]]
    return all(r.calibrated for r in rows) and not inverted


def _calibration_table(f: Figures) -> list[str]:
    def verdict(row) -> str:
        if row.grade == "ungraded" or row.buyers < CALIBRATION_MIN_BUYERS:
            return "too few buyers"
        return "yes" if row.calibrated else "**no**"

    return [
        "| grade | buyers | defaults | mean predicted PD | realised default rate | 95% interval | calibrated |",
        "|---|---:|---:|---:|---:|---:|---|",
        *[
            f"| {r.grade} | {r.buyers} | {r.defaults} | {'n/a' if r.mean_pd is None else f'{100 * r.mean_pd:.2f}%'} | "
            f"{100 * r.default_rate:.2f}% | {100 * r.interval()[0]:.1f}-{100 * r.interval()[1]:.1f}% | {verdict(r)} |"
            for r in f.calibration
        ],
    ]


def markdown(base: Outcome, *, downturn: Outcome | None, sweep: list[Outcome], economics: CompanyEconomics, command: str) -> str:
    f = base.figures
    config = base.config
    new_buyers = sum(b.is_new for b in base.book)
    lines = [
        "# creditguard in money: simulation report",
        "",
        (
            f"A book of {f.buyers} buyers drawn from real company data, run day by day for {f.days} days. {f.buyers - new_buyers} buyers "
            f"are the company's existing book, brought with {config.history_days} days of invoices and payments through the import; "
            f"{new_buyers} are won during the year. Every order earns a gross margin of {float(economics.margin):.0%}; receivables cost "
            f"{float(economics.cost_of_capital):.0%} a year to finance; the insurer charges {float(economics.premium_rate):.2%} of insured credit sales. "
            "The same book and seed run three times: every order approved and static limits (one fixed limit per customer, two months "
            "of its average purchases, blocked when over) in-process, and creditguard through the live services."
        ),
        "",
        f"Reproduce: `{command}`",
        "",
        "## Headline",
        "",
        *[f"- {line}" for line in summary_lines(base)],
    ]
    if downturn is not None:
        lines.append(
            f"- in a downturn (defaults doubled in the second half of the year) creditguard's lead over the better comparison "
            f"goes from {_signed(base.advantage)} to {_signed(downturn.advantage)}"
        )
    lines += [
        (
            f"- calibration: for every grade with at least {CALIBRATION_MIN_BUYERS} buyers the realised default rate is within a factor of two "
            f"of the mean predicted PD or inside its 95% interval, and rates rise with the grade (no better grade defaulting more than a worse one "
            f"beyond both 95% intervals): **{'yes' if calibration_holds(f) else 'no'}**"
        ),
        "",
        "![net contribution](contribution.png) ![losses](losses.png)",
        "",
        "## The three policies",
        "",
        *_policy_table(base),
        "",
        (
            "Net contribution = gross margin on what was shipped − bad debt net of insurance − the cost of financing the "
            "receivables − the insurance premium (docs/simulation.md explains each figure)."
        ),
        "",
    ]
    if downturn is not None:
        lines += [
            "## Downturn",
            "",
            "The same book and seed with the defaults of the second half of the year doubled.",
            "",
            *_policy_table(downturn),
            "",
            *[f"- {line}" for line in summary_lines(downturn)],
            "",
        ]
    if sweep:
        reference = sweep[0]
        lines += [
            "## Risk appetite",
            "",
            (
                f"A book of {reference.config.buyers} buyers (same seed) under each setting of the policy's "
                "`economics.risk_appetite.max_expected_loss_share`; every order approved and static limits for the same book for comparison."
            ),
            "",
            "| risk appetite | net contribution | net bad debt | good sales turned away | credit sales |",
            "|---:|---:|---:|---:|---:|",
            *[
                f"| {float(o.risk_appetite or 0):g} | {eur(o.results['creditguard'].net_contribution)} | "
                f"{eur(o.results['creditguard'].net_bad_debt)} | "
                f"{eur(o.results['creditguard'].good_sales_turned_away)} ({o.results['creditguard'].good_turned_away_share:.1%}) | "
                f"{eur(o.results['creditguard'].credit_sales)} |"
                for o in sorted(sweep, key=lambda o: float(o.risk_appetite or 0))
            ],
            (
                f"| every order approved | {eur(reference.results['approve_all'].net_contribution)} | {eur(reference.results['approve_all'].net_bad_debt)} | "
                f"{eur(0)} | {eur(reference.results['approve_all'].credit_sales)} |"
            ),
            (
                f"| static limits | {eur(reference.results['static_limits'].net_contribution)} | {eur(reference.results['static_limits'].net_bad_debt)} | "
                f"{eur(reference.results['static_limits'].good_sales_turned_away)} ({reference.results['static_limits'].good_turned_away_share:.1%}) | "
                f"{eur(reference.results['static_limits'].credit_sales)} |"
            ),
            "",
            f"![frontier]({FRONTIER_CHART})",
            "",
        ]
    lines += [
        "## creditguard's orders",
        "",
        "| decision at order entry | orders |",
        "|---|---:|",
        *[f"| {decision} | {count} |" for decision, count in sorted(f.orders_by_decision.items())],
        "",
        f"- Good orders (buyers that did not default) turned away: {f.good_turned_away.count}, {eur(f.good_turned_away.value)}.",
        (
            f"- Good orders delayed by a referral and then approved: {f.good_delayed.count}, {eur(f.good_delayed.value)}, "
            f"waiting {f.good_delay_days_mean:.1f} days on average."
        ),
        f"- Orders of buyers that later defaulted, stopped: {f.bad_stopped.count}, {eur(f.bad_stopped.value)}.",
        "",
        "| reason given for a good order turned away | orders | value |",
        "|---|---:|---:|",
        *[f"| {code} | {figures.count} | {eur(figures.value)} |" for code, figures in f.good_turned_away_reasons.items()],
        "",
        "| largest good orders turned away | day | amount | terms | decision | outcome | reasons | grade at the end |",
        "|---|---:|---:|---:|---|---|---|---:|",
        *[
            f"| {o.buyer_id} | {o.day} | {eur(o.amount)} | {o.terms_days} | {o.decision} | {o.outcome} | {', '.join(o.reasons)} | "
            f"{'' if o.final_grade is None else o.final_grade} |"
            for o in f.largest_good_turned_away
        ],
        "",
        "## Early warning",
        "",
        (
            f"{len(f.warning_leads)} of {f.defaulters} defaults had an alert at least a day before the default day; "
            f"{f.defaults_warned_late_or_never} had none before it (an alert on the day is the insolvency itself being recorded)."
        ),
        "",
        "| days from first alert to default | defaults |",
        "|---|---:|",
        *_lead_distribution(f.warning_leads),
        "",
        "![early warning](early-warning.png)",
        "",
        (
            f"Webhooks received by the sales system's endpoint: {f.webhooks}. Promises to pay recorded: {f.promises}. "
            f"Defaults with a loss that had a collection case: {f.defaults_with_case} of {f.defaults_with_loss}."
        ),
        "",
        "## Credit insurance",
        "",
        "| non-payment reported to the insurer | in time | missed |",
        "|---|---:|---:|",
        f"| with creditguard (insurer-deadline alerts, or the insolvency) | {f.claims_in_time} | {f.claims_missed} |",
        f"| without (the insolvency only) | {f.counterfactual_claims_in_time} | {f.counterfactual_claims_missed} |",
        "",
        "## Calibration: the PD when graded against realised defaults",
        "",
        *_calibration_table(f),
        "",
        "![calibration](calibration.png) ![receivables](receivables.png)",
        "",
        *_backtest_lines(base.creditguard.backtest),
    ]
    notes = base.notes + [f"downturn: {n}" for n in downturn.notes] if downturn is not None else base.notes
    notes = notes + [f"risk appetite {float(o.risk_appetite or 0):g}: {n}" for o in sweep for n in o.notes]
    if notes:
        lines += ["## Notes on this run", "", *[f"- {note}" for note in notes], ""]
    return "\n".join(lines)


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _backtest_lines(backtest: dict | None) -> list[str]:
    """Scoring's own back-test (GET /v1/calibration/backtest) over the run: what a credit manager sees before recalibrating."""
    if not backtest:
        return []

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.2f}%"

    return [
        (
            f"Scoring's back-test over the run (`GET /v1/calibration/backtest?as_of={backtest['as_of']}&horizon_days={backtest['horizon_days']}`): "
            f"{backtest['buyers']} buyers, {backtest['defaults']} defaults ({backtest['definition']}); mean PD {pct(backtest['mean_pd'])}, "
            f"default rate {pct(backtest['default_rate'])}, Brier score {backtest['brier_score'] or 0:.4f}, AUC {backtest['auc'] or 0:.3f}."
        ),
        "",
        "| grade | buyers | defaults | mean PD | default rate | 95% interval | binomial p | calibrated |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
        *[
            f"| {g['grade']} | {g['buyers']} | {g['defaults']} | {pct(g['mean_pd'])} | {pct(g['default_rate'])} | "
            f"{pct(g['interval_low'])}-{pct(g['interval_high'])} | {_number(g['p_value'])} | "
            f"{'n/a' if g['calibrated'] is None else ('yes' if g['calibrated'] else 'no')} |"
            for g in backtest["grades"]
            if g["buyers"]
        ],
        "",
    ]


def _policies_json(outcome: Outcome) -> dict:
    return {name: outcome.results[name].as_json() for name in ("approve_all", "static_limits", "creditguard")}


def report_json(base: Outcome, *, downturn: Outcome | None, sweep: list[Outcome], economics: CompanyEconomics) -> dict:
    document = {
        "policies": _policies_json(base),
        "calibration": [
            {"grade": r.grade, "buyers": r.buyers, "defaults": r.defaults, "mean_pd": r.mean_pd, "default_rate": r.default_rate}
            for r in base.figures.calibration
        ],
        "calibration_holds": calibration_holds(base.figures),
        "scenario": str(base.config.scenario),
        "seed": base.config.seed,
        "buyers": base.config.buyers,
        "days": base.config.days,
        "margin": float(economics.margin),
        "cost_of_capital": float(economics.cost_of_capital),
        "premium_rate": float(economics.premium_rate),
        "losses_avoided": float(losses_avoided(base)),
        "advantage": float(base.advantage),
        "invariant_violations": base.violations,
    }
    if downturn is not None:
        document["downturn"] = {
            "policies": _policies_json(downturn),
            "advantage": float(downturn.advantage),
            "losses_avoided": float(losses_avoided(downturn)),
            "invariant_violations": downturn.violations,
        }
    if sweep:
        document["risk_appetite_sweep"] = [
            {"risk_appetite": float(o.risk_appetite or 0), "buyers": o.config.buyers, "policies": _policies_json(o)} for o in sweep
        ]
    return document


def write_report(*, base: Outcome, downturn: Outcome | None, sweep: list[Outcome], economics: CompanyEconomics, out_dir: Path, command: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    r = base.results
    _bars(
        base,
        out_dir / "contribution.png",
        title="Net contribution by policy",
        ylabel="EUR",
        values={n: float(r[n].net_contribution) for n in ("approve_all", "static_limits", "creditguard")},
    )
    _bars(
        base,
        out_dir / "losses.png",
        title="Bad debt net of insurance by policy",
        ylabel="EUR",
        values={n: float(r[n].net_bad_debt) for n in ("approve_all", "static_limits", "creditguard")},
    )
    _warning_chart(base.figures, out_dir / "early-warning.png")
    _calibration_chart(base.figures, out_dir / "calibration.png")
    _receivables_chart(base, out_dir / "receivables.png")
    if sweep:
        _frontier_chart(sweep, out_dir / FRONTIER_CHART)
    (out_dir / "report.json").write_text(json.dumps(report_json(base, downturn=downturn, sweep=sweep, economics=economics), indent=2) + "\n")
    path = out_dir / "report.md"
    path.write_text(markdown(base, downturn=downturn, sweep=sweep, economics=economics, command=command))
    return path
