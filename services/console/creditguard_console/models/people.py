from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from creditguard_console.database import Base, UtcDateTime


class Person(Base):
    """Someone who signs in. The accounts a person owns are the buyers whose ``account_owner``
    (kept by scoring, from the ERP) is the person's e-mail."""

    __tablename__ = "people"

    person_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # credit_manager, sales, admin or read_only.
    role: Mapped[str] = mapped_column(String(20))
    # Argon2id, with its parameters and salt in the string.
    password_hash: Mapped[str] = mapped_column(String(200))
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
