from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from creditguard_limits.context import LimitsContextDep
from creditguard_limits.ledger import service
from creditguard_limits.ledger.schemas import (
    BuyerCashOut,
    CashApplicationIn,
    CashApplicationOut,
    CreditNoteIn,
    CreditNoteOut,
    InvoiceBatchIn,
    InvoiceBatchItemOut,
    InvoiceBatchOut,
    InvoiceIn,
    InvoiceOut,
    PaymentBatchIn,
    PaymentBatchItemOut,
    PaymentBatchOut,
    PaymentIn,
    PaymentOut,
    RefundIn,
    RefundOut,
)
from creditguard_shared.auth import Principal, Role, require_roles
from creditguard_shared.schema_types import PathId
from creditguard_shared.service_app import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["ledger"])

Ingest = Annotated[Principal, Depends(require_roles(Role.ERP, Role.CREDIT_MANAGER))]
Sweep = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER))]
Refunder = Annotated[Principal, Depends(require_roles(Role.CREDIT_MANAGER))]
Read = Annotated[Principal, Depends(require_roles(Role.ERP, Role.CREDIT_MANAGER, Role.SALES))]


def _created_status(response: Response, created: bool) -> None:
    # 201 the first time, 200 for an identical re-send: the ERP may retry safely.
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK


def _resent(model: type) -> dict:
    return {200: {"model": model, "description": "An identical re-send: what is recorded"}}


@router.post("/invoices", response_model=InvoiceOut, status_code=201, responses=_resent(InvoiceOut), summary="Post an invoice (idempotent by invoice_id)")
async def post_invoice(body: InvoiceIn, uow: UnitOfWorkDep, context: LimitsContextDep, response: Response, _: Ingest) -> InvoiceOut:
    invoice, created = await service.post_invoice(uow, context=context, invoice=body)
    await uow.commit()
    _created_status(response, created)
    return InvoiceOut.model_validate(invoice)


@router.post(
    "/invoices/batch",
    response_model=InvoiceBatchOut,
    summary="Post an invoice run (up to 500 invoices) in one transaction: all recorded, or none and the first problem",
)
async def post_invoices(body: InvoiceBatchIn, uow: UnitOfWorkDep, context: LimitsContextDep, _: Ingest) -> InvoiceBatchOut:
    results = await service.post_invoices(uow, context=context, invoices=body.invoices)
    await uow.commit()
    return InvoiceBatchOut(items=[InvoiceBatchItemOut(created=created, invoice=InvoiceOut.model_validate(invoice)) for invoice, created in results])


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut)
async def get_invoice(invoice_id: PathId, uow: UnitOfWorkDep, _: Read) -> InvoiceOut:
    return InvoiceOut.model_validate(await service.get_invoice(uow, invoice_id=invoice_id))


@router.get("/buyers/{buyer_id}/invoices", response_model=list[InvoiceOut])
async def list_buyer_invoices(buyer_id: PathId, uow: UnitOfWorkDep, _: Read, open_only: bool = Query(False)) -> list[InvoiceOut]:
    return [InvoiceOut.model_validate(i) for i in await service.list_buyer_invoices(uow, buyer_id=buyer_id, open_only=open_only)]


@router.post("/payments", response_model=PaymentOut, status_code=201, responses=_resent(PaymentOut), summary="Post a payment (idempotent by payment_id)")
async def post_payment(body: PaymentIn, uow: UnitOfWorkDep, context: LimitsContextDep, response: Response, _: Ingest) -> PaymentOut:
    payment, created = await service.post_payment(uow, context=context, payment=body)
    await uow.commit()
    _created_status(response, created)
    return PaymentOut.model_validate(payment)


@router.post(
    "/payments/batch",
    response_model=PaymentBatchOut,
    summary="Post a bank statement's payments (up to 500) in one transaction: all recorded, or none and the first problem",
)
async def post_payments(body: PaymentBatchIn, uow: UnitOfWorkDep, context: LimitsContextDep, _: Ingest) -> PaymentBatchOut:
    results = await service.post_payments(uow, context=context, payments=body.payments)
    await uow.commit()
    return PaymentBatchOut(items=[PaymentBatchItemOut(created=created, payment=PaymentOut.model_validate(payment)) for payment, created in results])


@router.post(
    "/credit-notes",
    response_model=CreditNoteOut,
    status_code=201,
    responses=_resent(CreditNoteOut),
    summary="Post a credit note (idempotent by credit_note_id)",
)
async def post_credit_note(body: CreditNoteIn, uow: UnitOfWorkDep, context: LimitsContextDep, response: Response, _: Ingest) -> CreditNoteOut:
    credit_note, created = await service.post_credit_note(uow, context=context, credit_note=body)
    await uow.commit()
    _created_status(response, created)
    return CreditNoteOut.model_validate(credit_note)


@router.post(
    "/buyers/{buyer_id}/refunds",
    response_model=RefundOut,
    status_code=201,
    summary="Refund a buyer's unapplied cash (idempotent by refund_id); at most what overpayments left in that currency",
)
async def post_refund(buyer_id: PathId, body: RefundIn, uow: UnitOfWorkDep, context: LimitsContextDep, response: Response, principal: Refunder) -> RefundOut:
    refund, created = await service.refund_cash(uow, context=context, buyer_id=buyer_id, refund=body, refunded_by=principal.actor)
    await uow.commit()
    _created_status(response, created)
    return RefundOut.model_validate(refund)


@router.post(
    "/buyers/{buyer_id}/cash-applications",
    response_model=CashApplicationOut,
    status_code=201,
    summary="Apply a buyer's unapplied cash to one of its open invoices (idempotent by application_id)",
)
async def post_cash_application(
    buyer_id: PathId,
    body: CashApplicationIn,
    uow: UnitOfWorkDep,
    context: LimitsContextDep,
    response: Response,
    _: Ingest,
) -> CashApplicationOut:
    application, created = await service.apply_unapplied_cash(uow, context=context, buyer_id=buyer_id, application=body)
    await uow.commit()
    _created_status(response, created)
    return application


@router.get(
    "/buyers/{buyer_id}/cash",
    response_model=BuyerCashOut,
    summary="A buyer's cash by currency: received, applied to invoices, held for unknown invoices, refunded, unapplied; and its refunds",
)
async def get_buyer_cash(buyer_id: PathId, uow: UnitOfWorkDep, _: Read) -> BuyerCashOut:
    return await service.buyer_cash(uow, buyer_id=buyer_id)


@router.post("/sweeps/daily", summary="Run the daily sweep now: aging (payment-late), expired reservations, ended temporary increases, payment experience")
async def run_daily_sweep(uow: UnitOfWorkDep, context: LimitsContextDep, _: Sweep) -> dict[str, int]:
    result = await service.run_daily_sweep(uow, context=context)
    await uow.commit()
    return result
