"""The alerts service's metadata: its own tables plus the shared outbox and processed-event tables."""

from sqlalchemy.orm import DeclarativeBase

from creditguard_shared.database import Money, UtcDateTime, new_metadata
from creditguard_shared.messaging_tables import define_messaging_tables

# The alerts models import the column types from here, beside their Base.
__all__ = ["Base", "Money", "UtcDateTime", "messaging_tables"]


class Base(DeclarativeBase):
    metadata = new_metadata()


messaging_tables = define_messaging_tables(Base.metadata)
