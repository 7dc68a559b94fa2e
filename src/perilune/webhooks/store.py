"""Every SQL statement on ``webhook_requests``. Updates name the state they expect, so a job that
runs twice (delivery is at least once) cannot undo a later outcome."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Result, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from perilune.models.webhooks import FAILED, IN_PROGRESS, PENDING, SUCCESS, WebhookRequest

EXPIRED = "the request expired before it was delivered"


@asynccontextmanager
async def write_session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for a job's own write, committed on exit (SQLite's write lock taken at BEGIN, as
    the request sessions do)."""
    async with sessions() as session, session.begin():
        await session.connection(execution_options={"sqlite_immediate": True})
        yield session


def _changed(result: Result[Any]) -> bool:
    # An UPDATE's result is a CursorResult, which knows how many rows matched.
    return cast("CursorResult[Any]", result).rowcount > 0


async def request_id_taken(session: AsyncSession, request_id: int) -> bool:
    found = await session.execute(
        select(WebhookRequest.request_id).where(WebhookRequest.request_id == request_id)
    )
    return found.first() is not None


async def find(
    session: AsyncSession, request_id: int, *, team_id: str | None = None
) -> WebhookRequest | None:
    """The request, or None. With ``team_id``, another team's request is None too."""
    statement = select(WebhookRequest).where(WebhookRequest.request_id == request_id)
    if team_id is not None:
        statement = statement.where(WebhookRequest.team_id == team_id)
    row: WebhookRequest | None = (await session.execute(statement)).scalar_one_or_none()
    return row


async def publish(
    session: AsyncSession, *, team_id: str, request_id: int, payload: dict[str, Any], now: datetime
) -> bool:
    """pending -> in_progress with its result. False if the team has no such pending request."""
    result = await session.execute(
        update(WebhookRequest)
        .where(
            WebhookRequest.request_id == request_id,
            WebhookRequest.team_id == team_id,
            WebhookRequest.status == PENDING,
        )
        .values(status=IN_PROGRESS, payload=payload, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


async def record_attempt(
    session: AsyncSession, request_id: int, *, status: str, failure_reason: str | None, now: datetime
) -> bool:
    """One dispatch happened at ``now``: count it and set its outcome (a request already
    finished is left alone)."""
    values: dict[str, Any] = {
        "status": status,
        "attempts": WebhookRequest.attempts + 1,
        "last_dispatched_at": now,
        "failure_reason": failure_reason,
        "updated_at": now,
    }
    if status == SUCCESS:
        values["delivered_at"] = now
    result = await session.execute(
        update(WebhookRequest)
        .where(WebhookRequest.request_id == request_id, WebhookRequest.status == IN_PROGRESS)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


async def give_up(session: AsyncSession, request_id: int, *, failure_reason: str, now: datetime) -> None:
    """An unfinished request that will not be delivered after all."""
    await session.execute(
        update(WebhookRequest)
        .where(WebhookRequest.request_id == request_id, WebhookRequest.status.in_((PENDING, IN_PROGRESS)))
        .values(status=FAILED, failure_reason=failure_reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def forget(session: AsyncSession, request_id: int, *, now: datetime) -> None:
    """At expiry: drop the result and the URL (phone numbers are kept no longer than the poll
    can show them); the row stays so the poll can tell expired from unknown."""
    await give_up(session, request_id, failure_reason=EXPIRED, now=now)
    await session.execute(
        update(WebhookRequest)
        .where(WebhookRequest.request_id == request_id)
        .values(payload=None, url=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
