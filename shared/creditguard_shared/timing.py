"""Waiting with a deadline inside loops that must stop when cancelled, and telling a cancellation
of the running task from one a library lets escape.

``asyncio.wait_for`` on Python 3.11 can swallow a cancellation that arrives as the awaited
thing completes, and a loop around it then runs on forever after shutdown cancelled it.
``asyncio.timeout`` does not have that flaw."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable


async def wait_at_most(awaitable: Awaitable[object], *, seconds: float) -> None:
    """Await ``awaitable`` for up to ``seconds``; a timeout is not an error, a cancellation is."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await awaitable


def cancelling_current_task() -> bool:
    """Whether the running task is being cancelled, rather than merely seeing a ``CancelledError``
    that a library let escape from a task of its own. Outside any task nothing tells the two
    apart, so the cancellation counts as the caller's."""
    task = asyncio.current_task()
    return task is None or task.cancelling() > 0


def raise_if_cancel_was_swallowed() -> None:
    """For loops that call aiokafka: a cancellation landing inside its clients can come out as a
    connection error or not at all, while the task's request to stop still stands. A loop that
    went on would never stop (and an event loop closing on it would wait forever)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling() > 0:
        raise asyncio.CancelledError
