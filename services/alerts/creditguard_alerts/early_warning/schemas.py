from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, field_validator

from creditguard_alerts.early_warning.rules import IndustryLevel, RuleType
from creditguard_alerts.models.severity import Severity
from creditguard_shared.errors import Unprocessable
from creditguard_shared.events.contracts import RiskClassName

# A year: the longest quiet period a rule may ask for (and an integer every database holds).
MAX_COOLDOWN_SECONDS = 365 * 24 * 3600

Share = Annotated[float, Field(gt=0, le=1)]


class PaymentDelayParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    severity_by_days_past_due: dict[str, Severity]

    @field_validator("severity_by_days_past_due")
    @classmethod
    def _positive_days(cls, ladder: dict[str, Severity]) -> dict[str, Severity]:
        if not ladder or any(not days.isdigit() or int(days) < 1 for days in ladder):
            raise ValueError("give at least one threshold; keys are whole days past due (1 or more)")
        return ladder


class UtilisationParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    threshold: Annotated[float, Field(gt=0, le=10)]


class ScoreDowngradeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grades: Annotated[int, Field(ge=1, le=10)]


class RiskClassParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Scoring's classes, best first; ``very high`` is read as ``very_high``.
    order: Annotated[list[RiskClassName], Field(min_length=2)]

    @field_validator("order")
    @classmethod
    def _each_once(cls, order: list[RiskClassName]) -> list[RiskClassName]:
        if len(set(order)) != len(order):
            raise ValueError("name each risk class at most once")
        return order


class ReviewParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grace_days: Annotated[int, Field(ge=0, le=3650)] = 0


class ConcentrationParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_share: Share
    # Below this many buyers with exposure every share is large; no alert then.
    min_buyers: Annotated[int, Field(ge=1, le=1_000_000)] = 5


class IndustryConcentrationParams(ConcentrationParams):
    # NACE codes are grouped by their division (28 and 28.1 are one industry) or their section (C).
    industry_level: IndustryLevel = IndustryLevel.DIVISION


class DeadlineParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days_before: Annotated[int, Field(ge=0, le=3650)]


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


PARAMS_BY_TYPE: dict[RuleType, type[BaseModel]] = {
    RuleType.PAYMENT_DELAY: PaymentDelayParams,
    RuleType.LIMIT_UTILISATION: UtilisationParams,
    RuleType.LIMIT_BREACH: NoParams,
    RuleType.SCORE_DOWNGRADE: ScoreDowngradeParams,
    RuleType.RISK_CLASS_WORSENED: RiskClassParams,
    RuleType.REVIEW_OVERDUE: ReviewParams,
    RuleType.ACCOUNT_ON_HOLD: NoParams,
    RuleType.ACCOUNT_BLOCKED: NoParams,
    RuleType.CONCENTRATION_BUYER: ConcentrationParams,
    RuleType.CONCENTRATION_COUNTRY: ConcentrationParams,
    RuleType.CONCENTRATION_INDUSTRY: IndustryConcentrationParams,
    RuleType.INSURANCE_REPORT_DEADLINE: DeadlineParams,
    RuleType.INSURANCE_CLAIM_DEADLINE: DeadlineParams,
    RuleType.WEBHOOK_FAILING: NoParams,
}


def validated_params(rule_type: RuleType, params: dict[str, Any]) -> dict[str, Any]:
    try:
        return TypeAdapter(PARAMS_BY_TYPE[rule_type]).validate_python(params).model_dump(mode="json")
    except ValidationError as exc:
        errors = [{"field": "params." + ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        raise Unprocessable(f"Invalid params for a {rule_type.value} rule.", errors=errors) from None


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")] | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    rule_type: RuleType
    severity: Severity
    cooldown_seconds: Annotated[int, Field(ge=0, le=MAX_COOLDOWN_SECONDS)] = 0
    params: dict[str, Any] = {}
    enabled: bool = True


class RulePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)] | None = None
    severity: Severity | None = None
    cooldown_seconds: Annotated[int, Field(ge=0, le=MAX_COOLDOWN_SECONDS)] | None = None
    params: dict[str, Any] | None = None
    enabled: bool | None = None


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    rule_type: str
    severity: str
    cooldown_seconds: int
    params: dict[str, Any]
    enabled: bool
    created_at: datetime
    updated_at: datetime


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    rule_id: str
    rule_type: str
    buyer_id: str | None
    invoice_id: str | None
    subject: str | None
    severity: str
    raised_severity: str
    status: str
    title: str
    details: dict[str, Any]
    raised_at: datetime
    updated_at: datetime
    escalated_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledge_comment: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_comment: str | None


class AlertPage(BaseModel):
    items: list[AlertOut]
    total: int
    limit: int
    offset: int


class AlertComment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: Annotated[str, StringConstraints(max_length=2000, strip_whitespace=True)] | None = None


class SweepResult(BaseModel):
    invoices_checked: int
    reviews_checked: int
    alerts_open: int
    collection_cases_open: int
