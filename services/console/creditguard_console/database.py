"""The console's metadata: people and their sessions (no outbox: the console publishes no events).
Timestamps use the shared UTC column type: lock-outs and session expiry compare against an aware clock."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from creditguard_shared.database import UtcDateTime, new_metadata

__all__ = ["Base", "UtcDateTime"]


class Base(DeclarativeBase):
    metadata = new_metadata()
