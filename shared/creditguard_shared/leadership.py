"""One instance at a time: work that must not run twice at once across a service's processes
(several ``--workers``, or several replicas on one PostgreSQL database) runs in the process that
holds a PostgreSQL session advisory lock; the others wait for it. The lock is tied to the
connection, so a process that dies releases it and another takes over within ``retry_seconds``.
On SQLite a service is one process and runs the work directly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from creditguard_shared.database import is_sqlite

logger = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable 32-bit key for the advisory lock of ``name`` (PostgreSQL keys are bigint)."""
    return zlib.crc32(name.encode())


async def run_as_leader(engine: AsyncEngine, *, name: str, work: Callable[[], Awaitable[None]], retry_seconds: float = 1.0) -> None:
    """Run ``work`` (a loop that runs until cancelled) while this process holds the lock of ``name``."""
    if is_sqlite(str(engine.url)):
        await work()
        return
    key = lock_key(name)
    while True:
        try:
            async with engine.connect() as connection:
                acquired = (await connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar()
                await connection.commit()
                if acquired:
                    logger.info("%s: this process runs it", name)
                    try:
                        await work()
                    finally:
                        # A lost connection unlocks anyway; the unlock must not hide why the work stopped.
                        with contextlib.suppress(Exception):
                            await connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                            await connection.commit()
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be away; try again
            logger.exception("%s: could not take or hold the lock", name)
        await asyncio.sleep(retry_seconds)
