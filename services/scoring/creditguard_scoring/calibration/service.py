"""Back-test the PDs in force against realised defaults, fit and apply a recalibration, and
re-grade the book with it through the normal assessment path."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from creditguard_scoring.calibration import rules
from creditguard_scoring.calibration.repository import CalibrationRepository
from creditguard_scoring.models.assessment import Assessment
from creditguard_scoring.models.calibration import CalibrationVersion
from creditguard_shared.errors import Conflict, Unprocessable
from creditguard_shared.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

DEFINITION = (
    f"default: an insolvency filing, or an invoice still open {rules.DEFAULT_DAYS_PAST_DUE} days after its due date "
    "(dated that day), within (as_of, as_of + horizon_days]; buyers already in default at as_of are left out"
)


def _observation(assessment: Assessment, defaulted: bool) -> rules.Observation:
    components = assessment.components or {}
    return rules.Observation(
        buyer_id=assessment.buyer_id,
        grade=assessment.grade,
        pd=assessment.pd,
        logit=float(components.get("logit", 0.0)),
        score_logit=components.get("score_logit"),
        overlay=float(components.get("overlay", 0.0)),
        defaulted=defaulted,
    )


async def observations(uow: UnitOfWork, *, as_of: date, horizon_days: int, today: date) -> list[rules.Observation]:
    """Every buyer assessed by the end of ``as_of`` and not in default then, with whether it
    defaulted within the horizon."""
    if as_of + timedelta(days=horizon_days) > today:
        raise Unprocessable(
            f"The back-test window ends on {(as_of + timedelta(days=horizon_days)).isoformat()}, after today "
            f"({today.isoformat()}): its outcomes are not known yet.",
            window_end=(as_of + timedelta(days=horizon_days)).isoformat(),
        )
    repository = CalibrationRepository(uow.session)
    in_force = await repository.assessments_in_force(before=datetime.combine(as_of + timedelta(days=1), time(), tzinfo=UTC))
    invoices, events = await repository.invoices_and_insolvencies([a.buyer_id for a in in_force])
    window_end = as_of + timedelta(days=horizon_days)
    result = []
    for assessment in in_force:
        defaulted_on = rules.default_date(
            invoices=[rules.InvoiceFact(i.due_on, i.settled_on) for i in invoices[assessment.buyer_id]],
            events=[rules.EventFact(e.kind, e.occurred_on) for e in events[assessment.buyer_id]],
        )
        if (defaulted_on is not None and defaulted_on <= as_of) or (assessment.components or {}).get("defaulted"):
            continue
        result.append(_observation(assessment, defaulted_on is not None and defaulted_on <= window_end))
    return result


def backtest_figures(found: list[rules.Observation], *, as_of: date, horizon_days: int) -> dict[str, Any]:
    result = rules.backtest(found)
    return {
        "as_of": as_of,
        "horizon_days": horizon_days,
        "window_end": as_of + timedelta(days=horizon_days),
        "definition": DEFINITION,
        **{k: v for k, v in asdict(result).items() if k != "grades"},
        "grades": [asdict(g) for g in result.grades],
    }


async def backtest(uow: UnitOfWork, *, as_of: date, horizon_days: int, today: date) -> dict[str, Any]:
    found = await observations(uow, as_of=as_of, horizon_days=horizon_days, today=today)
    return backtest_figures(found, as_of=as_of, horizon_days=horizon_days)


def fit(current: rules.Calibration, found: list[rules.Observation], *, method: str) -> tuple[float, float]:
    """(intercept, slope) of the new calibration, about the current pivot. Every buyer's logit is
    first re-stated under the calibration in force, whichever calibration assessed it then."""
    outcomes = [o.defaulted for o in found]
    if method == "intercept":
        logits = [current.apply(o.score_logit) + o.overlay if o.score_logit is not None else o.logit for o in found]
        return current.intercept + rules.fit_intercept_shift(logits, outcomes), current.slope
    scored = [(o.score_logit, o) for o in found if o.score_logit is not None]
    intercept, slope = rules.fit_logistic(
        [logit - current.pivot for logit, _ in scored], [current.pivot + o.overlay for _, o in scored], [o.defaulted for _, o in scored]
    )
    if slope <= 0:
        raise rules.CannotFit("the fitted slope is not positive: in this window better scores did not default less")
    return intercept, slope


async def apply_recalibration(
    uow: UnitOfWork, *, base: rules.Calibration, as_of: date, horizon_days: int, method: str, reason: str, applied_by: str, now: datetime
) -> tuple[CalibrationVersion, list[str]]:
    """Fit, store the new version and mark every buyer for re-assessment, in one transaction:
    once committed, the re-grade completes even if this process stops half-way (the due pass
    takes the rest)."""
    found = await observations(uow, as_of=as_of, horizon_days=horizon_days, today=now.date())
    current = await calibration_in_force(uow, base=base)
    try:
        intercept, slope = fit(current, found, method=method)
    except rules.CannotFit as error:
        raise Unprocessable(f"No calibration can be fitted on this window: {error}.", buyers=len(found)) from error
    figures = backtest_figures(found, as_of=as_of, horizon_days=horizon_days)
    new = rules.Calibration(version=current.version + 1, intercept=intercept, slope=slope, pivot=current.pivot)
    refitted = [rules.sigmoid(new.apply(o.score_logit) + o.overlay) if o.score_logit is not None else o.pd for o in found]
    figures["mean_pd_after"] = sum(refitted) / len(refitted)
    record = CalibrationVersion(
        version=new.version,
        method=method,
        intercept=intercept,
        slope=slope,
        pivot=new.pivot,
        previous_version=current.version,
        backtest=_jsonable(figures),
        applied_by=applied_by,
        applied_at=now,
        reason=reason,
    )
    repository = CalibrationRepository(uow.session)
    try:
        await repository.add(record)
    except IntegrityError as error:
        # Two recalibrations fitted on the same version at once: the second must not overwrite the first unseen.
        raise Conflict(f"Calibration version {new.version} was applied meanwhile; read GET /v1/calibration and decide again.") from error
    buyer_ids = await repository.mark_all_buyers_due(now=now)
    return record, buyer_ids


async def calibration_in_force(uow: UnitOfWork, *, base: rules.Calibration) -> rules.Calibration:
    """The last calibration a credit manager applied, or ``base`` (version 0, from the settings)."""
    stored = await CalibrationRepository(uow.session).current()
    if stored is None:
        return base
    return rules.Calibration(version=stored.version, intercept=stored.intercept, slope=stored.slope, pivot=stored.pivot)


async def overview(uow: UnitOfWork, *, base: rules.Calibration) -> tuple[rules.Calibration, list[CalibrationVersion]]:
    return await calibration_in_force(uow, base=base), await CalibrationRepository(uow.session).history()


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
