"""``Idempotency-Key`` on writes (an extension Apollo lacks). The same key with the same request
within 24 hours answers the first answer again and changes nothing; the same key with a
different request is a 422. Keys are per team.

The record is inserted before the work and completed after it, in the request's transaction: a
concurrent repeat waits on the key's unique index (PostgreSQL) or on the write lock (SQLite)
until the first commits, then replays its answer; if the first fails, its record rolls back with
it and the repeat does the work.

Use in an endpoint (``idempotency: IdempotencyDep``)::

    return await idempotency.respond(
        session, caller.team_id, clock.now(), lambda: service.create_contact(...)
    )
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.deps import ParamsDep
from perilune.api.envelopes import ApolloJSON
from perilune.api.errors import Unprocessable
from perilune.api.params import AUTH_PARAMS
from perilune.db.ids import new_id
from perilune.models import IdempotencyRecord

HEADER = "Idempotency-Key"
RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255
REUSED_KEY = (
    "This Idempotency-Key was already used with a different request (method, path or parameters) "
    "in the last 24 hours; use a new key for a new request."
)


@dataclass(frozen=True)
class Idempotency:
    """The request's key (None: no header, the endpoint just runs) and its fingerprint."""

    key: str | None
    fingerprint: str

    async def respond(
        self,
        session: AsyncSession,
        team_id: str,
        now: datetime,
        produce: Callable[[], Awaitable[Any]],
        status_code: int = 200,
    ) -> ApolloJSON:
        """The stored answer for a repeat, else ``produce()``'s (remembered under the key)."""
        if self.key is None:
            return ApolloJSON(await produce(), status_code=status_code)
        record = await self._claim(session, team_id, now)
        if record.status_code is not None:
            return ApolloJSON(record.response, status_code=record.status_code)
        content = await produce()
        record.response = content
        record.status_code = status_code
        await session.flush()
        return ApolloJSON(content, status_code=status_code)

    async def _claim(self, session: AsyncSession, team_id: str, now: datetime) -> IdempotencyRecord:
        """The key's record: the earlier request's (checked to be the same request) or a new one
        this request will complete."""
        assert self.key is not None
        await _forget_expired(session, team_id, now)
        existing = await _find(session, team_id, self.key)
        if existing is None:
            record = IdempotencyRecord(
                id=new_id(now.timestamp()),
                team_id=team_id,
                key=self.key,
                fingerprint=self.fingerprint,
                created_at=now,
            )
            try:
                async with session.begin_nested():
                    session.add(record)
                return record
            except IntegrityError:
                existing = await _find(session, team_id, self.key)
                if existing is None:
                    raise
        if existing.fingerprint != self.fingerprint:
            raise Unprocessable(REUSED_KEY)
        return existing


async def _find(session: AsyncSession, team_id: str, key: str) -> IdempotencyRecord | None:
    found: IdempotencyRecord | None = await session.scalar(
        select(IdempotencyRecord)
        .where(IdempotencyRecord.team_id == team_id, IdempotencyRecord.key == key)
        .execution_options(populate_existing=True)
    )
    return found


async def _forget_expired(session: AsyncSession, team_id: str, now: datetime) -> None:
    """Records older than 24 hours are gone (the team's expired keys are deleted as it writes)."""
    await session.execute(
        delete(IdempotencyRecord)
        .where(IdempotencyRecord.team_id == team_id, IdempotencyRecord.created_at <= now - RETENTION)
        .execution_options(synchronize_session=False)
    )


def fingerprint(method: str, path: str, values: dict[str, Any]) -> str:
    """SHA-256 of the method, the path (either prefix) and the parameters in canonical form:
    the same parameters sent as JSON, a form or a query string are the same request; the API
    key is not part of it."""
    canonical = {name: value for name, value in values.items() if name not in AUTH_PARAMS}
    normalized_path = path.removeprefix("/api")
    blob = orjson.dumps([method.upper(), normalized_path, canonical], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()


async def get_idempotency(request: Request, params: ParamsDep) -> Idempotency:
    key = request.headers.get(HEADER)
    key = key.strip() if key is not None else None
    if key is not None and not key:
        raise Unprocessable(f"The {HEADER} header is empty.")
    if key is not None and len(key) > MAX_KEY_LENGTH:
        raise Unprocessable(f"The {HEADER} header is longer than {MAX_KEY_LENGTH} characters.")
    return Idempotency(key, fingerprint(request.method, request.url.path, params.values))


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
