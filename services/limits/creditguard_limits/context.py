"""What the service functions need beyond the unit of work: the clock, the policy, settings and
metrics. Built once per app; routes reach it through ``LimitsContextDep``, handlers through the
subscriptions factory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from creditguard_limits.metrics import LimitsMetrics
from creditguard_limits.policy.service import PolicyStore
from creditguard_limits.settings import Settings
from creditguard_shared.clock import Clock


@dataclass
class LimitsContext:
    settings: Settings
    clock: Clock
    policy: PolicyStore
    metrics: LimitsMetrics


# async: FastAPI runs a plain ``def`` dependency on its thread pool, a thread hop on every request.
async def limits_context(request: Request) -> LimitsContext:
    return request.app.state.limits


LimitsContextDep = Annotated[LimitsContext, Depends(limits_context)]
