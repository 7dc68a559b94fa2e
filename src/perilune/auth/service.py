"""Authentication and authorisation exactly as Apollo answers them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.errors import ApiInaccessible, InvalidApiKey, PaidPlanRequired
from perilune.auth.context import Caller
from perilune.auth.keys import hash_key
from perilune.metering.plans import resolve_plan
from perilune.models import ApiKey, Team, User

# Writing last_used_at on every request would serialise all requests on SQLite's write lock.
LAST_USED_RESOLUTION = timedelta(minutes=1)


async def authenticate(session: AsyncSession, raw_key: str | None, now: datetime) -> Caller:
    if not raw_key:
        raise InvalidApiKey()
    key = (
        await session.execute(select(ApiKey).where(ApiKey.key_hash == hash_key(raw_key)))
    ).scalar_one_or_none()
    if key is None or key.revoked_at is not None:
        raise InvalidApiKey()
    team = await session.get(Team, key.team_id)
    if team is None:
        raise InvalidApiKey()
    user = await _acting_user(session, key)
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        key.last_used_at = now
    return Caller(key=key, team=team, user=user, plan=resolve_plan(team.plan, team.plan_overrides))


async def _acting_user(session: AsyncSession, key: ApiKey) -> User | None:
    """The key's own user, or else the team's first admin (a master key made by an operator)."""
    if key.user_id:
        user = await session.get(User, key.user_id)
        if user is not None and not user.deleted:
            return user
    return (
        await session.execute(
            select(User)
            .where(User.team_id == key.team_id, User.deleted.is_(False))
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
