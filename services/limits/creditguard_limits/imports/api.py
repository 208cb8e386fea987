from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from creditguard_limits.context import LimitsContextDep
from creditguard_limits.imports import service
from creditguard_limits.imports.schemas import ImportIn, ImportOut
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.service_app import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["imports"])

Manage = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER))]


@router.post(
    "/imports",
    response_model=ImportOut,
    summary="Import an existing book (up to 5,000 accounts, invoices and payments) in one transaction: all, or none and the first problem",
)
async def post_import(body: ImportIn, uow: UnitOfWorkDep, context: LimitsContextDep, principal: Manage) -> ImportOut:
    counts = await service.import_book(uow, context=context, book=body, changed_by=principal.actor)
    await uow.commit()
    return counts
