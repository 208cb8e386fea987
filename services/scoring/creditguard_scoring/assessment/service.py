"""Assess buyers, keep each assessment, publish what changed; re-assess buyers whose payment
behaviour changed once a burst of events is over."""

from __future__ import annotations

import functools
import logging
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

from creditguard_scoring.assessment import rules
from creditguard_scoring.assessment.repository import AssessmentRepository
from creditguard_scoring.buyers.repository import BuyerRepository
from creditguard_scoring.buyers.service import get_buyer
from creditguard_scoring.calibration import service as calibration_service
from creditguard_scoring.calibration.rules import Calibration
from creditguard_scoring.financial_model import FinancialAssessment, Scorecard
from creditguard_scoring.metrics import ScoringMetrics
from creditguard_scoring.models.assessment import Assessment, BuyerScore, ReassessmentDue
from creditguard_scoring.models.buyers import Buyer
from creditguard_scoring.payment_behaviour.repository import PaymentBehaviourRepository
from creditguard_scoring.payment_behaviour.service import assessed_payment_behaviour
from creditguard_scoring.statements.repository import StatementRepository
from creditguard_scoring.statements.rules import compute_ratios, key_ratios
from creditguard_scoring.statements.service import latest_with_history, statement_lines
from creditguard_shared.errors import NotFound
from creditguard_shared.events.contracts import BuyerAssessedV1, ReasonV1, ScoreChangedV1
from creditguard_shared.nace import nace_section
from creditguard_shared.unit_of_work import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)

MODEL_FAMILY = "creditguard-combined-1"
RISK_TABLE_FILES = {"industry": "industry_risk.csv", "country": "country_risk.csv", "legal_form": "legal_form_risk.csv"}
# Ratios missing from a statement are missing because our statement format or the buyer's filing
# lacks the line, not because the company hid it, so they are scored as average (see docs/financial-model.md).
MISSING_RATIO_POLICY = "neutral"
PEER_METRICS = ("pd", "payment_index", "equity_ratio", "current_ratio", "return_on_assets", "net_margin", "debt_ratio")
LOWER_IS_BETTER = frozenset({"pd", "debt_ratio"})
# The due pass commits this many re-assessments at once: one commit and one outbox write for all of
# them. Small enough that the pass holds SQLite's single writer only briefly between batches.
REASSESSMENTS_PER_TRANSACTION = 20


def load_risk_tables(directory: str | None) -> rules.RiskTables:
    """The packaged tables, or those in ``directory`` (edit them without touching code; restart to reload)."""

    def read(name: str) -> str:
        filename = RISK_TABLE_FILES[name]
        if directory is not None:
            return (Path(directory) / filename).read_text(encoding="utf-8")
        return (files("creditguard_scoring") / "data" / filename).read_text(encoding="utf-8")

    return rules.RiskTables(**{name: rules.parse_risk_table(name, read(name)) for name in RISK_TABLE_FILES})


class FinancialScores:
    """The ratios and the financial model's score of a buyer's statements, kept by the
    statements' content: the due pass re-assesses a buyer after every payment, and these alone
    (about a fifth of an assessment's CPU) depend on nothing a payment changes."""

    def __init__(self, scorecard: Scorecard, *, size: int = 4096) -> None:
        self._scorecard = scorecard
        self._score = functools.lru_cache(maxsize=size)(self._compute)

    def _compute(self, current: tuple[tuple[str, Any], ...], earlier: tuple[tuple[tuple[str, Any], ...], ...]) -> tuple[dict[str, Any], FinancialAssessment]:
        ratios = compute_ratios(dict(current), [dict(lines) for lines in earlier])
        return ratios, self._scorecard.predict(ratios, missing=MISSING_RATIO_POLICY)

    def of(self, current: dict[str, Any], earlier: list[dict[str, Any]]) -> tuple[dict[str, Any], FinancialAssessment]:
        ratios, financial = self._score(tuple(current.items()), tuple(tuple(lines.items()) for lines in earlier))
        return dict(ratios), financial


@dataclass(frozen=True)
class AssessmentContext:
    """What every assessment needs besides the buyer's data: the model, the tables, the settings."""

    scorecard: Scorecard
    tables: rules.RiskTables
    portfolio_base_rate: float
    stale_after_days: int
    max_reasons: int
    debounce: timedelta
    max_delay: timedelta
    metrics: ScoringMetrics
    # Version 0, in force until a credit manager applies a fitted calibration.
    base_calibration: Calibration | None = None

    @functools.cached_property
    def financial_scores(self) -> FinancialScores:
        return FinancialScores(self.scorecard)

    @property
    def model_version(self) -> str:
        return f"{MODEL_FAMILY}+{self.scorecard.version}"

    @property
    def anchor(self) -> float:
        return rules.anchor_logit(
            average_company_logit=self.scorecard.baseline_logit,
            model_base_rate=self.scorecard.base_rate,
            portfolio_base_rate=self.portfolio_base_rate,
        )


async def calibration_in_force(uow: UnitOfWork, *, context: AssessmentContext) -> Calibration:
    assert context.base_calibration is not None  # set by the app from its settings
    return await calibration_service.calibration_in_force(uow, base=context.base_calibration)


def _reason_dicts(reasons: tuple[rules.Reason, ...]) -> list[dict[str, Any]]:
    return [{"code": r.code, "message": r.message, "contribution": round(r.contribution, 4)} for r in reasons]


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


async def assess_buyer(uow: UnitOfWork, *, context: AssessmentContext, buyer_id: str, trigger: str, now: datetime) -> Assessment:
    """Assess one buyer now; store it, update the current score, publish buyer-assessed and,
    when the grade or risk class moved, score-changed. Idempotent in effect: re-assessing with
    unchanged data publishes no score-changed."""
    started = time.perf_counter()
    buyer = await get_buyer(uow, buyer_id=buyer_id)
    repository = AssessmentRepository(uow.session)
    previous = await repository.current_score(buyer_id, for_update=True)
    latest, earlier = await latest_with_history(uow, buyer_id=buyer_id)
    as_of = now.date()
    payment = await assessed_payment_behaviour(uow, buyer_id=buyer_id, as_of=as_of)
    calibration = await calibration_in_force(uow, context=context)
    events = await BuyerRepository(uow.session).adverse_events(buyer_id)
    ratios, financial = context.financial_scores.of(statement_lines(latest), [statement_lines(e) for e in earlier]) if latest is not None else (None, None)
    inputs = rules.AssessmentInputs(
        as_of=as_of,
        country=buyer.country,
        industry=buyer.industry,
        legal_form=buyer.legal_form,
        founded_on=buyer.founded_on,
        financial=financial,
        statement_period_end=latest.period_end if latest else None,
        payment=payment,
        adverse_events=[rules.AdverseEventFact(e.kind, e.occurred_on, e.resolved_on) for e in events],
    )
    outcome = rules.assess(
        inputs,
        tables=context.tables,
        anchor=context.anchor,
        portfolio_base_rate=context.portfolio_base_rate,
        stale_after_days=context.stale_after_days,
        calibration=calibration,
    )
    assessment = Assessment(
        assessment_id=uuid.uuid4().hex,
        buyer_id=buyer_id,
        assessed_at=now,
        trigger=trigger,
        model_version=context.model_version,
        calibration_version=calibration.version,
        pd=outcome.pd,
        grade=outcome.grade,
        risk_class=outcome.risk_class,
        financial_data_missing=latest is None,
        reasons=_reason_dicts(outcome.reasons),
        components={
            **{k: round(v, 4) for k, v in outcome.components.items()},
            "anchor_pd": outcome.anchor_pd,
            "logit": outcome.logit,
            "defaulted": outcome.defaulted,
            "score_logit": outcome.score_logit,
            "overlay": outcome.overlay,
            "calibration_version": calibration.version,
        },
        inputs=_jsonable(
            {
                "profile": {
                    "country": buyer.country,
                    "industry": buyer.industry,
                    "legal_form": buyer.legal_form,
                    "founded_on": buyer.founded_on,
                    "profile_updated_at": buyer.updated_at,
                },
                "statement": None
                if latest is None
                else {
                    "fiscal_year": latest.fiscal_year,
                    "period_end": latest.period_end,
                    "currency": latest.currency,
                    "received_at": latest.received_at,
                    "age_days": (as_of - latest.period_end).days,
                    "earlier_fiscal_years": [e.fiscal_year for e in earlier],
                },
                "ratios": ratios,
                "financial_model": None if financial is None else {"raw_pd": financial.pd, "logit": financial.logit, "missing_policy": MISSING_RATIO_POLICY},
                "payment_behaviour": {"as_of": as_of, **asdict(payment)},
                "adverse_events": [{"event_id": e.event_id, "kind": e.kind, "occurred_on": e.occurred_on, "resolved_on": e.resolved_on} for e in events],
                "portfolio_base_rate": context.portfolio_base_rate,
                "calibration": asdict(calibration),
                "risk_tables": context.tables.provenance(),
            }
        ),
    )
    await repository.add(assessment)
    old_grade, old_class = (previous.grade, previous.risk_class) if previous else (None, None)
    score = previous or BuyerScore(buyer_id=buyer_id)
    _update_score(
        score, buyer=buyer, assessment=assessment, ratios=ratios, statement_date=latest.period_end if latest else None, payment_index=payment.payment_index
    )
    if previous is None:
        await repository.add(score)
    top_reasons = [ReasonV1(**r) for r in assessment.reasons[: context.max_reasons]]
    if old_grade != outcome.grade or old_class != outcome.risk_class:
        uow.emit(
            ScoreChangedV1(
                buyer_id=buyer_id,
                old_grade=old_grade,
                new_grade=outcome.grade,
                old_risk_class=old_class,
                new_risk_class=outcome.risk_class,
                pd=outcome.pd,
                reasons=top_reasons,
                model_version=assessment.model_version,
                assessed_at=now,
            ),
            subject=buyer_id,
        )
        if old_grade is not None and old_grade != outcome.grade:
            uow.on_commit(functools.partial(context.metrics.grade_changed, old_grade=old_grade, new_grade=outcome.grade))
    uow.emit(
        BuyerAssessedV1(
            buyer_id=buyer_id,
            assessment_id=assessment.assessment_id,
            assessed_at=now,
            model_version=assessment.model_version,
            pd=outcome.pd,
            grade=outcome.grade,
            risk_class=outcome.risk_class,
            name=buyer.name,
            country=buyer.country,
            industry=buyer.industry,
            group_id=buyer.group_id,
            account_owner=buyer.account_owner,
            financial_data_missing=latest is None,
            equity=latest.equity if latest else None,
            sales=latest.sales if latest else None,
            statement_currency=latest.currency if latest else None,
            statement_date=latest.period_end if latest else None,
        ),
        subject=buyer_id,
    )
    uow.on_commit(functools.partial(context.metrics.assessed, trigger=trigger, seconds=time.perf_counter() - started))
    return assessment


def _update_score(
    score: BuyerScore, *, buyer: Buyer, assessment: Assessment, ratios: dict[str, Any] | None, statement_date: date | None, payment_index: float | None
) -> None:
    score.assessment_id, score.assessed_at = assessment.assessment_id, assessment.assessed_at
    score.pd, score.grade, score.risk_class = assessment.pd, assessment.grade, assessment.risk_class
    score.country, score.industry_section = buyer.country, nace_section(buyer.industry)
    score.statement_date, score.payment_index = statement_date, payment_index
    for name, value in key_ratios(ratios or {}).items():
        setattr(score, name, value)


async def current_assessment(uow: UnitOfWork, *, buyer_id: str) -> Assessment:
    repository = AssessmentRepository(uow.session)
    score = await repository.current_score(buyer_id)
    if score is None:
        await get_buyer(uow, buyer_id=buyer_id)
        raise NotFound(f"Buyer '{buyer_id}' has not been assessed yet.")
    assessment = await repository.get_assessment(score.assessment_id)
    assert assessment is not None  # the score row always points at a stored assessment
    return assessment


async def assessment_history(uow: UnitOfWork, *, buyer_id: str, limit: int, offset: int) -> tuple[list[Assessment], int]:
    await get_buyer(uow, buyer_id=buyer_id)
    return await AssessmentRepository(uow.session).history(buyer_id, limit=limit, offset=offset)


async def list_buyers(
    uow: UnitOfWork,
    *,
    grade: int | None,
    country: str | None,
    industry: str | None,
    limit: int,
    offset: int,
    search: str | None = None,
    account_owner: str | None = None,
    buyer_ids: list[str] | None = None,
    sort: str = "buyer_id",
) -> tuple[list[tuple[Buyer, BuyerScore | None]], int]:
    section = industry if industry and industry.isalpha() else None
    prefix = industry if industry and not industry.isalpha() else None
    return await AssessmentRepository(uow.session).list_buyers(
        grade=grade,
        country=country,
        industry_section=section,
        industry_prefix=prefix,
        limit=limit,
        offset=offset,
        search=search,
        account_owner=account_owner,
        buyer_ids=buyer_ids,
        sort=sort,
    )


async def buyer_ids(uow: UnitOfWork, *, grade: int | None, country: str | None, account_owner: str | None, search: str | None, limit: int) -> list[str]:
    return await AssessmentRepository(uow.session).buyer_ids(grade=grade, country=country, account_owner=account_owner, search=search, limit=limit)


async def peers(uow: UnitOfWork, *, buyer_id: str) -> tuple[BuyerScore, dict[str, dict[str, dict[str, Any]]]]:
    """Percentile of the buyer's PD and key measures among the same industry section and country,
    and in the whole book. ``percentile``: share of peers with a lower value (mid-rank);
    ``better_than``: share of peers the buyer beats, whichever direction is better."""
    repository = AssessmentRepository(uow.session)
    score = await repository.current_score(buyer_id)
    if score is None:
        await get_buyer(uow, buyer_id=buyer_id)
        raise NotFound(f"Buyer '{buyer_id}' has not been assessed yet.")
    values = {name: getattr(score, name) for name in PEER_METRICS if getattr(score, name) is not None}
    cohorts = {
        "industry_and_country": await repository.rank_counts(values=values, country=score.country, industry_section=score.industry_section or "?"),
        "book": await repository.rank_counts(values=values),
    }
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for cohort, counts in cohorts.items():
        result[cohort] = {}
        for name in PEER_METRICS:
            if name not in values:
                result[cohort][name] = {"value": None, "percentile": None, "better_than": None, "peers": None}
                continue
            below, equal, count = counts[name]
            percentile = rules.percentile_rank(below=below, equal=equal, count=count)
            better = percentile if name not in LOWER_IS_BETTER or percentile is None else round(100.0 - percentile, 1)
            result[cohort][name] = {"value": values[name], "percentile": percentile, "better_than": better, "peers": count}
    return score, result


async def mark_for_reassessment(uow: UnitOfWork, *, context: AssessmentContext, buyer_id: str, now: datetime) -> None:
    """Called in the same transaction as the payment event: (re)start the buyer's debounce window."""
    repository = AssessmentRepository(uow.session)
    due = await repository.get_due(buyer_id)
    if due is None:
        await repository.add(ReassessmentDue(buyer_id=buyer_id, due_at=now + context.debounce, latest_at=now + context.max_delay, marks=1))
        return
    due.due_at = now + context.debounce
    due.marks += 1
    await uow.session.flush()


async def mark_past_due_crossings(uow: UnitOfWork, *, today: date, now: datetime) -> int:
    """Mark for re-assessment, due now, every registered buyer with an open invoice past a
    days-past-due threshold its latest assessment did not reflect."""
    repository = AssessmentRepository(uow.session)
    buyer_ids = await PaymentBehaviourRepository(uow.session).buyers_past_new_threshold(today=today)
    if not buyer_ids:
        return 0
    await repository.load_dues(set(buyer_ids))
    for buyer_id in buyer_ids:
        due = await repository.get_due(buyer_id)
        if due is None:
            await repository.add(ReassessmentDue(buyer_id=buyer_id, due_at=now, latest_at=now, marks=1))
        else:
            due.due_at, due.marks = min(_as_aware(due.due_at), now), due.marks + 1
    await uow.session.flush()
    return len(buyer_ids)


async def read_ahead_dues(uow: UnitOfWork, *, buyer_ids: set[str]) -> None:
    """Read these buyers' due marks at once, for a batch of events that marks them."""
    await AssessmentRepository(uow.session).load_dues(buyer_ids)


async def reassess_if_due(
    uow: UnitOfWork, *, context: AssessmentContext, buyer_id: str, now: datetime, force: bool = False, trigger: str = "payment_behaviour"
) -> bool:
    """One buyer of the background pass, in its own unit of work."""
    repository = AssessmentRepository(uow.session)
    due = await repository.get_due(buyer_id, for_update=True)
    if due is None or not (force or _as_aware(due.due_at) <= now or _as_aware(due.latest_at) <= now):
        return False
    marks = due.marks
    if await BuyerRepository(uow.session).get(buyer_id) is not None:
        await assess_buyer(uow, context=context, buyer_id=buyer_id, trigger=trigger, now=now)
    # A buyer not registered yet is assessed when its profile arrives, with this behaviour included.
    await repository.remove_due(buyer_id, marks=marks)
    return True


def _as_aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def run_due_reassessments(uow_factory: UnitOfWorkFactory, *, context: AssessmentContext, now: datetime, force: bool = False, limit: int = 500) -> int:
    """One pass: every buyer whose debounce window elapsed (all marked buyers with ``force``),
    after marking the buyers whose open invoices crossed 30, 60 or 90 days past due since their
    last assessment (days pass without any event)."""
    async with uow_factory() as uow:
        await mark_past_due_crossings(uow, today=now.date(), now=now)
        await uow.commit()
    async with uow_factory() as uow:
        buyer_ids = await AssessmentRepository(uow.session).due_buyer_ids(due_by=None if force else now, limit=limit)
    assessed = 0
    for start in range(0, len(buyer_ids), REASSESSMENTS_PER_TRANSACTION):
        together = buyer_ids[start : start + REASSESSMENTS_PER_TRANSACTION]
        try:
            async with uow_factory() as uow:
                await read_ahead(uow, buyer_ids=together)
                done = [buyer_id for buyer_id in together if await reassess_if_due(uow, context=context, buyer_id=buyer_id, now=now, force=force)]
                await uow.commit()
            assessed += len(done)
        except Exception:  # noqa: BLE001 - rolled back; each buyer alone below, so one failure holds back no other
            for buyer_id in together:
                assessed += await _reassess_alone(uow_factory, context=context, buyer_id=buyer_id, now=now, force=force)
    return assessed


async def read_ahead(uow: UnitOfWork, *, buyer_ids: list[str]) -> None:
    """Read what re-assessing these buyers reads (due marks and scores, locked; profiles,
    statements, payment experiences, adverse events) in a few statements for all of them, where
    one by one it took nine statements a buyer."""
    await AssessmentRepository(uow.session).load_for_buyers(buyer_ids)
    await BuyerRepository(uow.session).load_for_buyers(buyer_ids)
    await StatementRepository(uow.session).load_for_buyers(buyer_ids)
    await PaymentBehaviourRepository(uow.session).load_experiences_for_buyers(buyer_ids)


async def _reassess_alone(uow_factory: UnitOfWorkFactory, *, context: AssessmentContext, buyer_id: str, now: datetime, force: bool) -> int:
    try:
        async with uow_factory() as uow:
            if await reassess_if_due(uow, context=context, buyer_id=buyer_id, now=now, force=force):
                await uow.commit()
                return 1
    except Exception:
        # One buyer's failure must not stop the pass; it stays due and is retried next time.
        logger.exception("re-assessment of buyer %s failed", buyer_id)
    return 0


async def reassess_book(uow_factory: UnitOfWorkFactory, *, context: AssessmentContext, now: datetime) -> tuple[int, int]:
    """Re-score every registered buyer, one unit of work each; returns (assessed, failed)."""
    async with uow_factory() as uow:
        buyer_ids = await BuyerRepository(uow.session).all_buyer_ids()
    assessed = failed = 0
    for buyer_id in buyer_ids:
        try:
            async with uow_factory() as uow:
                await assess_buyer(uow, context=context, buyer_id=buyer_id, trigger="batch", now=now)
                await uow.commit()
                assessed += 1
        except Exception:
            failed += 1
            logger.exception("batch re-assessment of buyer %s failed", buyer_id)
    return assessed, failed


async def regrade(uow_factory: UnitOfWorkFactory, *, context: AssessmentContext, buyer_ids: list[str], now: datetime, chunk: int) -> int:
    """Re-assess the marked buyers, ``chunk`` per transaction (each assessment with its events).
    A chunk that fails stays marked for the background due pass."""
    regraded = 0
    for start in range(0, len(buyer_ids), chunk):
        together = buyer_ids[start : start + chunk]
        try:
            async with uow_factory() as uow:
                await read_ahead(uow, buyer_ids=together)
                done = [b for b in together if await reassess_if_due(uow, context=context, buyer_id=b, now=now, force=True, trigger="recalibration")]
                await uow.commit()
            regraded += len(done)
        except Exception:
            logger.exception("re-grade of %d buyers after a recalibration failed; they stay due", len(together))
    return regraded


@dataclass(frozen=True)
class AssessmentReassessment:
    """The assessment domain behind ``context.Reassessment``: how buyers, statements, payment
    behaviour and calibration ask for a re-assessment without importing this module."""

    context: AssessmentContext

    async def assess_now(self, uow: UnitOfWork, *, buyer_id: str, trigger: str, now: datetime) -> None:
        await assess_buyer(uow, context=self.context, buyer_id=buyer_id, trigger=trigger, now=now)

    async def mark_due(self, uow: UnitOfWork, *, buyer_id: str, now: datetime) -> None:
        await mark_for_reassessment(uow, context=self.context, buyer_id=buyer_id, now=now)

    async def read_ahead_dues(self, uow: UnitOfWork, *, buyer_ids: set[str]) -> None:
        await read_ahead_dues(uow, buyer_ids=buyer_ids)

    async def regrade(self, uow_factory: UnitOfWorkFactory, *, buyer_ids: list[str], now: datetime, chunk: int) -> int:
        return await regrade(uow_factory, context=self.context, buyer_ids=buyer_ids, now=now, chunk=chunk)
