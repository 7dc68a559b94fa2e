"""Authentication and authorisation exactly as Apollo answers them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from perilune.api.errors import ApiInaccessible, InvalidApiKey, PaidPlanRequired
from perilune.auth.cache import CallerCache
from perilune.auth.context import Caller
from perilune.auth.keys import hash_key
from perilune.metering.plans import resolve_plan
from perilune.models import ApiKey, Team, User

# Writing last_used_at on every request would serialise all requests on SQLite's write lock.
LAST_USED_RESOLUTION = timedelta(minutes=1)


async def authenticate(
    sessions: async_sessionmaker[AsyncSession],
    raw_key: str | None,
    now: datetime,
    cache: CallerCache | None = None,
) -> Caller:
    """The key's caller: from ``cache`` if it was seen within its lifetime, else from the
    database. Either way the key's last use is recorded (at most once a minute)."""
    if not raw_key:
        raise InvalidApiKey()
    key_hash = hash_key(raw_key)
    caller = cache.get(key_hash, now) if cache is not None else None
    if caller is None:
        caller = await _load_caller(sessions, key_hash)
        if cache is not None:
            cache.put(key_hash, caller, now)
    key = caller.key
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        await _record_use(sessions, key, now)
    return caller


async def _load_caller(sessions: async_sessionmaker[AsyncSession], key_hash: str) -> Caller:
    """Find the key, its team and the user it acts as, in a short read of its own: the request's
    session begins after the rate limit, so on SQLite it never holds a read snapshot older than
    the rate-limit counters' commit (such a snapshot can never write)."""
    async with sessions() as session:
        # One round trip for the common case: the key, its team and its own (live) user.
        found = (
            await session.execute(
                select(ApiKey, Team, User)
                .join(Team, Team.id == ApiKey.team_id)
                .outerjoin(User, and_(User.id == ApiKey.user_id, User.deleted.is_(False)))
                .where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
            )
        ).first()
        if found is None:
            raise InvalidApiKey()
        key, team = found[0], found[1]
        user: User | None = found[2]  # None: the outer join found no live user of the key's own
        if user is None:
            user = await _team_admin(session, key.team_id)
    return Caller(key=key, team=team, user=user, plan=resolve_plan(team.plan, team.plan_overrides))


async def _record_use(sessions: async_sessionmaker[AsyncSession], key: ApiKey, now: datetime) -> None:
    # A write-only transaction of its own: it takes SQLite's write lock with its first statement.
    async with sessions.begin() as session:
        await session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
    key.last_used_at = now


async def _team_admin(session: AsyncSession, team_id: str) -> User | None:
    """Who a key without a (live) user of its own acts as: the team's first admin, else its
    first user (a master key made by an operator)."""
    return (
        await session.execute(
            select(User)
            .where(User.team_id == team_id, User.deleted.is_(False))
            .order_by((User.role == "admin").desc(), User.created_at)
            .limit(1)
        )
    ).scalar_one_or_none()


def authorize(caller: Caller, endpoint: str, *, master_only: bool = False, paid_only: bool = False) -> None:
    """Scope first (Apollo's 403 API_INACCESSIBLE), then the plan (paid-only endpoints)."""
    key = caller.key
    if not key.is_master and (master_only or endpoint not in key.scopes):
        raise ApiInaccessible(endpoint)
    if paid_only and not caller.plan.paid:
        raise PaidPlanRequired()
