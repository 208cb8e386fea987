"""The baseline for bench/credit_checks.py: a trivial FastAPI POST endpoint served the same way."""

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Order(BaseModel):
    buyer_id: str
    order_id: str
    amount: str
    currency: str
    payment_terms_days: int


@app.post("/v1/credit-checks")
async def echo(order: Order) -> dict:
    return {"decision": "approved", "order_id": order.order_id}
