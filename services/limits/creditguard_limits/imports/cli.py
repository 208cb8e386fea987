"""``creditguard-import``: onboard an existing book from CSV or JSON files, over the REST APIs.

Buyer profiles are registered in scoring (``PUT /v1/buyers/{id}``), then accounts, invoices and
payments go to limits (``POST /v1/imports``) in requests of up to 5,000 documents: accounts
first, then invoices and payments in date order, so a payment never precedes its invoice. Every
row is checked before anything is sent; a bad row stops the run, naming its file and line.
Running it again with the same files changes nothing.

CSV files are told apart by name: ``*buyers.csv``, ``*invoices.csv`` and ``*payments.csv``
(columns in docs/limits.md). A ``.json`` file holds ``{"buyers": [...], "accounts": [...],
"invoices": [...], "payments": [...]}``: the body of ``POST /v1/imports`` plus buyer profiles.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
from pydantic import BaseModel, ValidationError

from creditguard_limits.imports.rules import ledger_order
from creditguard_limits.imports.schemas import MAX_IMPORT_DOCUMENTS, ImportedAccount
from creditguard_limits.ledger.schemas import InvoiceIn, PaymentIn

PROFILE_COLUMNS = ("name", "country", "industry", "registration_number", "legal_form", "founded_on", "group_id", "account_owner")
# buyers.csv's limit columns and the fields of the account's imported limit they fill.
LIMIT_COLUMNS = {"limit_amount": "amount", "limit_currency": "currency", "payment_terms_days": "payment_terms_days", "review_on": "review_on"}
INVOICE_COLUMNS = tuple(InvoiceIn.model_fields)
PAYMENT_COLUMNS = tuple(PaymentIn.model_fields)
BUYER_COLUMNS = ("buyer_id", *PROFILE_COLUMNS, "relationship_since", *LIMIT_COLUMNS)
REQUIRED = {
    "buyers": ("buyer_id", "name", "country", "relationship_since"),
    "invoices": ("invoice_id", "buyer_id", "amount", "currency", "issued_on", "due_on"),
    "payments": ("payment_id", "buyer_id", "invoice_id", "amount", "currency", "paid_on"),
}
COLUMNS = {"buyers": BUYER_COLUMNS, "invoices": INVOICE_COLUMNS, "payments": PAYMENT_COLUMNS}
# Buyer registrations in flight at once: scoring assesses each one as it arrives.
CONCURRENT_REGISTRATIONS = 8


class BadInput(Exception):
    """A file or row that cannot be imported; the message names where it is."""


@dataclass
class Book:
    """Everything read from the files, each item with where it came from ("invoices.csv line 7")."""

    buyers: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    accounts: list[tuple[str, ImportedAccount]] = field(default_factory=list)
    invoices: list[tuple[str, InvoiceIn]] = field(default_factory=list)
    payments: list[tuple[str, PaymentIn]] = field(default_factory=list)


def _parse(model: type[BaseModel], data: dict[str, Any], where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        column = ".".join(str(part) for part in first["loc"]) or "row"
        raise BadInput(f"{where}: {column}: {first['msg']}") from None


def _add(book: Book, kind: str, row: dict[str, Any], where: str) -> None:
    if kind == "invoices":
        book.invoices.append((where, _parse(InvoiceIn, row, where)))
    elif kind == "payments":
        book.payments.append((where, _parse(PaymentIn, row, where)))
    elif kind == "accounts":
        book.accounts.append((where, _parse(ImportedAccount, row, where)))
    else:
        buyer_id = row.get("buyer_id")
        missing = [c for c in ("buyer_id", "name", "country") if not row.get(c)]
        if missing:
            raise BadInput(f"{where}: {', '.join(missing)} missing")
        book.buyers.append((where, str(buyer_id), {k: v for k, v in row.items() if k != "buyer_id"}))


def _csv_kind(path: Path) -> str:
    stem = path.stem.lower()
    for kind in COLUMNS:
        if stem.endswith(kind):
            return kind
    raise BadInput(f"{path.name}: a CSV file's name ends in buyers, invoices or payments (e.g. invoices.csv)")


def _read_csv(path: Path, book: Book) -> None:
    kind = _csv_kind(path)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        unknown = [name for name in header if name not in COLUMNS[kind]]
        missing = [name for name in REQUIRED[kind] if name not in header]
        if unknown or missing:
            problems = ([f"unknown column {', '.join(unknown)}"] if unknown else []) + ([f"missing column {', '.join(missing)}"] if missing else [])
            raise BadInput(f"{path.name} line 1: {'; '.join(problems)} (columns: {', '.join(COLUMNS[kind])})")
        reader.fieldnames = header
        for raw in reader:
            where = f"{path.name} line {reader.line_num}"
            # An empty cell is an absent value.
            row = {k: v.strip() for k, v in raw.items() if k is not None and v is not None and v.strip() != ""}
            if None in raw:
                raise BadInput(f"{where}: more cells than columns")
            if kind == "buyers":
                _add_buyer_row(book, row, where)
            else:
                _add(book, kind, row, where)


def _add_buyer_row(book: Book, row: dict[str, str], where: str) -> None:
    """One buyers.csv row: a profile for scoring and an account (relationship, limit) for limits."""
    _add(book, "buyers", {k: row[k] for k in ("buyer_id", *PROFILE_COLUMNS) if k in row}, where)
    limit = {target: row[column] for column, target in LIMIT_COLUMNS.items() if column in row}
    if limit and "limit_amount" not in row:
        raise BadInput(f"{where}: limit_amount missing (the limit columns go together)")
    account = {"buyer_id": row.get("buyer_id"), "relationship_since": row.get("relationship_since"), "limit": limit or None}
    _add(book, "accounts", account, where)


def _read_json(path: Path, book: Book) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadInput(f"{path.name}: not readable as JSON: {error}") from None
    if not isinstance(data, dict) or set(data) - {"buyers", "accounts", "invoices", "payments"}:
        raise BadInput(f"{path.name}: expected an object with buyers, accounts, invoices and payments lists")
    for kind in ("buyers", "accounts", "invoices", "payments"):
        items = data.get(kind, [])
        if not isinstance(items, list):
            raise BadInput(f"{path.name}: {kind} is not a list")
        for index, item in enumerate(items):
            where = f"{path.name} {kind}[{index}]"
            if not isinstance(item, dict):
                raise BadInput(f"{where}: not an object")
            _add(book, kind, item, where)


def read_book(paths: list[Path]) -> Book:
    book = Book()
    for path in paths:
        if not path.is_file():
            raise BadInput(f"{path}: no such file")
        if path.suffix.lower() == ".json":
            _read_json(path, book)
        elif path.suffix.lower() == ".csv":
            _read_csv(path, book)
        else:
            raise BadInput(f"{path.name}: not a .csv or .json file")
    _reject_repeated_ids(book)
    return book


def _reject_repeated_ids(book: Book) -> None:
    for kind, items in (
        ("buyer", [(w, b) for w, b, _ in book.buyers]),
        ("account", [(w, a.buyer_id) for w, a in book.accounts]),
        ("invoice", [(w, i.invoice_id) for w, i in book.invoices]),
        ("payment", [(w, p.payment_id) for w, p in book.payments]),
    ):
        seen: dict[str, str] = {}
        for where, document_id in items:
            if document_id in seen:
                raise BadInput(f"{where}: {kind} {document_id} again (first at {seen[document_id]})")
            seen[document_id] = where


@dataclass
class Chunk:
    """One ``POST /v1/imports`` body, and where each of its documents came from."""

    body: dict[str, list[dict[str, Any]]]
    where: dict[tuple[str, str], str]


def chunks(book: Book, *, size: int = MAX_IMPORT_DOCUMENTS) -> Iterator[Chunk]:
    """Accounts first, then invoices and payments in the order the ledger applies them, ``size``
    documents a request: an invoice always travels in the same request as its payments or before."""
    where_invoice = {i.invoice_id: w for w, i in book.invoices}
    where_payment = {p.payment_id: w for w, p in book.payments}
    ordered: list[tuple[str, str, str, dict[str, Any]]] = [("accounts", "Account", w, a.model_dump(mode="json")) for w, a in book.accounts]
    for _, document in ledger_order([i for _, i in book.invoices], [p for _, p in book.payments]):
        if isinstance(document, InvoiceIn):
            ordered.append(("invoices", "Invoice", where_invoice[document.invoice_id], document.model_dump(mode="json", exclude_none=True)))
        else:
            ordered.append(("payments", "Payment", where_payment[document.payment_id], document.model_dump(mode="json")))
    for start in range(0, len(ordered), size):
        chunk = Chunk(body={"accounts": [], "invoices": [], "payments": []}, where={})
        for kind, label, where, body in ordered[start : start + size]:
            chunk.body[kind].append(body)
            document_id = str(body.get("invoice_id") if kind == "invoices" else body.get("payment_id") if kind == "payments" else body["buyer_id"])
            chunk.where[(label, document_id)] = where
        yield chunk


@dataclass
class Totals:
    buyers_registered: int = 0
    buyers_unchanged: int = 0
    imported: dict[str, dict[str, int]] = field(
        default_factory=lambda: {
            "accounts": {"created": 0, "updated": 0, "unchanged": 0},
            "invoices": {"created": 0, "unchanged": 0},
            "payments": {"created": 0, "unchanged": 0},
        }
    )

    def report(self, out: TextIO) -> None:
        print(f"buyers (scoring): {self.buyers_registered} registered or changed, {self.buyers_unchanged} unchanged", file=out)
        for kind, counts in self.imported.items():
            print(f"{kind} (limits): " + ", ".join(f"{n} {what}" for what, n in counts.items()), file=out)


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"detail": response.text[:500]}
    return body if isinstance(body, dict) else {"detail": str(body)}


async def register_buyers(book: Book, *, scoring: httpx.AsyncClient, headers: dict[str, str], totals: Totals) -> None:
    gate = asyncio.Semaphore(CONCURRENT_REGISTRATIONS)

    async def register(where: str, buyer_id: str, profile: dict[str, Any]) -> None:
        async with gate:
            response = await scoring.put(f"/v1/buyers/{buyer_id}", json=profile, headers=headers)
        if response.status_code not in (200, 201):
            problem = _problem(response)
            errors = problem.get("errors") or []
            detail = "; ".join(f"{e.get('field', '')}: {e.get('message', '')}" for e in errors) if errors else problem.get("detail", "")
            raise BadInput(f"{where}: scoring refused buyer {buyer_id} ({response.status_code}): {detail}")
        # 201: new; 200: known (scoring re-assesses it only if the profile changed).
        if response.status_code == 201:
            totals.buyers_registered += 1
        else:
            totals.buyers_unchanged += 1

    await asyncio.gather(*(register(where, buyer_id, profile) for where, buyer_id, profile in book.buyers))


async def post_chunks(book: Book, *, limits: httpx.AsyncClient, headers: dict[str, str], totals: Totals) -> None:
    for chunk in chunks(book):
        response = await limits.post("/v1/imports", json=chunk.body, headers=headers)
        if response.status_code != 200:
            problem = _problem(response)
            detail = str(problem.get("detail", ""))
            label = next((label for label in ("Invoice", "Payment", "Account") if detail.startswith(label)), None)
            where = chunk.where.get((label or "", str(problem.get("document_id"))), "the import")
            raise BadInput(f"{where}: limits refused it ({response.status_code}): {detail}")
        for kind, counts in response.json().items():
            for what, n in counts.items():
                totals.imported[kind][what] += n


async def run_import(book: Book, *, limits: httpx.AsyncClient, scoring: httpx.AsyncClient, api_key: str) -> Totals:
    """Register the profiles, then import the ledger. Clients carry the services' base URLs."""
    headers = {"Authorization": f"Bearer {api_key}"}
    totals = Totals()
    await register_buyers(book, scoring=scoring, headers=headers, totals=totals)
    await post_chunks(book, limits=limits, headers=headers, totals=totals)
    return totals


async def _main(arguments: argparse.Namespace) -> Totals:
    book = read_book([Path(p) for p in arguments.files])
    timeout = httpx.Timeout(arguments.timeout)
    async with (
        httpx.AsyncClient(base_url=arguments.limits_url, timeout=timeout) as limits,
        httpx.AsyncClient(base_url=arguments.scoring_url, timeout=timeout) as scoring,
    ):
        return await run_import(book, limits=limits, scoring=scoring, api_key=arguments.api_key)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="creditguard-import",
        description="Onboard an existing book: buyer profiles to scoring, "
        "accounts, invoices and payments to limits. Files: buyers.csv, invoices.csv, payments.csv, or one .json.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--limits-url", default=os.environ.get("CREDITGUARD_LIMITS_URL", "http://127.0.0.1:8002"))
    parser.add_argument("--scoring-url", default=os.environ.get("CREDITGUARD_SCORING_URL", "http://127.0.0.1:8001"))
    parser.add_argument("--api-key", default=os.environ.get("CREDITGUARD_API_KEY"), help="a credit_manager or admin key (or CREDITGUARD_API_KEY)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request (an import of 5,000 documents takes a few)")
    arguments = parser.parse_args(argv)
    if not arguments.api_key:
        parser.error("--api-key (or CREDITGUARD_API_KEY) is required")
    try:
        totals = asyncio.run(_main(arguments))
    except BadInput as error:
        print(f"creditguard-import: {error}", file=sys.stderr)
        return 1
    except httpx.HTTPError as error:
        print(f"creditguard-import: could not reach a service: {error!r}", file=sys.stderr)
        return 1
    totals.report(sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
