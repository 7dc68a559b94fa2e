"""A request's two sessions, for endpoints that read first and may then write."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Sessions:
    """Reads go to ``reads``; ``writes()`` opens the write transaction on first call (later calls
    return the same session). On SQLite, reading inside the write transaction would hold the
    one write lock for the whole request, and the read session refuses to write."""

    reads: AsyncSession
    writes: Callable[[], Awaitable[AsyncSession]]
