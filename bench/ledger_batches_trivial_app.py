"""The baseline for bench/ledger_batches.py: the batch routes' request shapes parsed and counted,
nothing stored. What HTTP, JSON and validation of 500-document bodies cost on their own."""

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Invoice(BaseModel):
    invoice_id: str
    buyer_id: str
    amount: str
    currency: str
    issued_on: str
    due_on: str


class Payment(BaseModel):
    payment_id: str
    buyer_id: str
    invoice_id: str
    amount: str
    currency: str
    paid_on: str


class Invoices(BaseModel):
    invoices: list[Invoice]


class Payments(BaseModel):
    payments: list[Payment]


@app.post("/v1/invoices/batch")
async def invoices(batch: Invoices) -> dict:
    return {"created": len(batch.invoices)}


@app.post("/v1/payments/batch")
async def payments(batch: Payments) -> dict:
    return {"created": len(batch.payments)}
