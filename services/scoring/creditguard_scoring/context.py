"""What scoring's routes and handlers share: the assessment context (model, tables, settings,
metrics), the clock and how to ask for a re-assessment. Built once in app.py; routes reach it through ``ScoringContextDep``,
handlers through their subscriptions factory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Protocol

from fastapi import Depends, Request

from creditguard_shared.clock import Clock
from creditguard_shared.unit_of_work import UnitOfWork, UnitOfWorkFactory

if TYPE_CHECKING:
    from creditguard_scoring.assessment.service import AssessmentContext


class Reassessment(Protocol):
    """What the assessment domain offers the domains whose data it reads. Buyers, statements,
    payment behaviour and calibration ask for a re-assessment through it without importing the
    assessment domain (which imports them); app.py wires the assessment domain in."""

    async def assess_now(self, uow: UnitOfWork, *, buyer_id: str, trigger: str, now: datetime) -> None:
        """Assess the buyer in this transaction (its profile or statement just changed)."""

    async def mark_due(self, uow: UnitOfWork, *, buyer_id: str, now: datetime) -> None:
        """Mark the buyer for the debounced re-assessment (its payment behaviour changed)."""

    async def read_ahead_dues(self, uow: UnitOfWork, *, buyer_ids: set[str]) -> None:
        """Read these buyers' due marks at once, for a batch of events that marks them."""

    async def regrade(self, uow_factory: UnitOfWorkFactory, *, buyer_ids: list[str], now: datetime, chunk: int) -> int:
        """Re-assess these buyers now, ``chunk`` per transaction (a new calibration is in force); answers how many."""


@dataclass(frozen=True)
class ScoringContext:
    assessment: AssessmentContext
    reassessment: Reassessment
    clock: Clock
    # Buyers re-graded per transaction after a recalibration.
    regrade_chunk: int


# async: FastAPI runs a plain ``def`` dependency on its thread pool, a thread hop on every request.
async def scoring_context(request: Request) -> ScoringContext:
    return request.app.state.scoring


ScoringContextDep = Annotated[ScoringContext, Depends(scoring_context)]
