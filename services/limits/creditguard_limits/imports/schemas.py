"""An existing book: accounts with their relationship start and limit, open and paid invoices, payments."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, ConfigDict, model_validator

from creditguard_limits.accounts.schemas import ImportedLimit
from creditguard_limits.ledger.schemas import InvoiceIn, PaymentIn
from creditguard_shared.schema_types import Identifier, IsoDate

# Documents (accounts, invoices and payments together) in one import: one transaction of a few
# seconds at most. A bigger book goes in several requests, in date order.
MAX_IMPORT_DOCUMENTS = 5000


class ImportedAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    buyer_id: Identifier
    relationship_since: IsoDate
    limit: ImportedLimit | None = None


class ImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accounts: list[ImportedAccount] = []
    invoices: list[InvoiceIn] = []
    payments: list[PaymentIn] = []

    @model_validator(mode="after")
    def _size_and_unique_ids(self) -> ImportIn:
        documents = len(self.accounts) + len(self.invoices) + len(self.payments)
        if documents == 0:
            raise ValueError("the import holds no accounts, invoices or payments")
        if documents > MAX_IMPORT_DOCUMENTS:
            raise ValueError(f"the import holds {documents} documents; at most {MAX_IMPORT_DOCUMENTS} go in one request")
        for kind, ids in (
            ("accounts", [a.buyer_id for a in self.accounts]),
            ("invoices", [i.invoice_id for i in self.invoices]),
            ("payments", [p.payment_id for p in self.payments]),
        ):
            repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
            if repeated:
                raise ValueError(f"{kind} repeats {', '.join(repeated[:5])}: each id once per import")
        return self


class ImportCounts(BaseModel):
    # Recorded by this import.
    created: int = 0
    # Already recorded with the same content (a re-import).
    unchanged: int = 0


class AccountImportCounts(ImportCounts):
    # Existing accounts whose relationship start or limit this import changed.
    updated: int = 0


class ImportOut(BaseModel):
    accounts: AccountImportCounts
    invoices: ImportCounts
    payments: ImportCounts
