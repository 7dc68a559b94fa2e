"""Operator actions behind the CLI: teams, users, keys, plans, credits and the demo team."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.auth.keys import generate_key, hash_key
from perilune.crm.stages import add_default_stages
from perilune.metering import credits
from perilune.metering.plans import PLAN_NAMES, PlanError, validate_overrides
from perilune.models import ApiKey, Team, User

DEMO_TEAM_NAME = "Perilune Demo"
DEMO_ADMIN_EMAIL = "admin@perilune.demo"


class AdminError(ValueError):
    """An operator mistake, said in plain words (the CLI prints it and exits non-zero)."""


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str


async def find_team(session: AsyncSession, ref: str) -> Team:
    """A team by id or by exact name."""
    teams = (await session.execute(select(Team).where(or_(Team.id == ref, Team.name == ref)))).scalars().all()
    if not teams:
        raise AdminError(f"no team with id or name {ref!r}")
    if len(teams) > 1:
        raise AdminError(f"several teams are named {ref!r}; use the team id")
    return teams[0]


async def find_user(session: AsyncSession, team: Team, ref: str) -> User:
    """A team's user by id or email."""
    user = await session.scalar(
        select(User).where(User.team_id == team.id, or_(User.id == ref, User.email == ref.strip().lower()))
    )
    if user is None:
        raise AdminError(f"no user {ref!r} in team {team.name!r}")
    return user


async def create_team(session: AsyncSession, name: str, plan: str, now: datetime) -> Team:
    if plan not in PLAN_NAMES:
        raise AdminError(f"unknown plan {plan!r}; choose one of {', '.join(PLAN_NAMES)}")
    team = Team(name=name, plan=plan, plan_overrides={}, credit_cycle_anchor=now, created_at=now)
    session.add(team)
    await session.flush()
    # Every team starts with Apollo's default contact, account and deal stages.
    add_default_stages(session, team.id, now)
    await session.flush()
    return team


async def create_user(
    session: AsyncSession,
    team: Team,
    *,
    email: str,
    first_name: str | None,
    last_name: str | None,
    title: str | None = None,
    role: str = "user",
    now: datetime,
) -> User:
    if role not in ("admin", "user"):
        raise AdminError("role must be 'admin' or 'user'")
    email = email.strip().lower()
    taken = await session.scalar(select(User.id).where(User.team_id == team.id, User.email == email))
    if taken:
        raise AdminError(f"{email} is already a user of this team")
    user = User(
        team_id=team.id,
        email=email,
        first_name=first_name,
        last_name=last_name,
        title=title,
        role=role,
        created_at=now,
    )
    session.add(user)
    await session.flush()
    return user


async def create_key(
    session: AsyncSession,
    team: Team,
    *,
    master: bool,
    scopes: Iterable[str] = (),
    user: User | None = None,
    name: str = "",
    now: datetime,
) -> IssuedKey:
    scopes = sorted(set(scopes))
    if master == bool(scopes):
        raise AdminError("a key is either --master or has at least one --scope, not both")
    bad = [s for s in scopes if "api/v1/" not in s]
    if bad:
        raise AdminError(f"scopes are Apollo endpoint names like api/v1/contacts/search; not {bad}")
    secret = generate_key()
    key = ApiKey(
        team_id=team.id,
        user_id=user.id if user else None,
        name=name,
        key_hash=hash_key(secret),
        key_prefix=secret[:6],
        is_master=master,
        scopes=scopes,
        created_at=now,
    )
    session.add(key)
    await session.flush()
    return IssuedKey(key=key, secret=secret)


async def revoke_key(session: AsyncSession, ref: str, now: datetime) -> ApiKey:
    """Revoke by key id, or by the key itself."""
    key = await session.scalar(select(ApiKey).where(or_(ApiKey.id == ref, ApiKey.key_hash == hash_key(ref))))
    if key is None:
        raise AdminError("no such API key")
    key.revoked_at = key.revoked_at or now
    return key


async def set_plan(session: AsyncSession, team: Team, plan: str, overrides: dict[str, Any] | None) -> None:
    if plan not in PLAN_NAMES:
        raise AdminError(f"unknown plan {plan!r}; choose one of {', '.join(PLAN_NAMES)}")
    if overrides and plan != "custom":
        raise AdminError("limits and credit overrides apply to the custom plan only")
    try:
        team.plan_overrides = validate_overrides(overrides or {})
    except PlanError as exc:
        raise AdminError(str(exc)) from exc
    team.plan = plan


async def grant_credits(
    session: AsyncSession, team: Team, credit_type: str, amount: int, now: datetime, note: str | None
) -> None:
    try:
        await credits.grant(session, team, now, credit_type=credit_type, amount=amount, note=note)
    except ValueError as exc:
        raise AdminError(str(exc)) from exc


async def is_empty(session: AsyncSession) -> bool:
    return not await session.scalar(select(func.count()).select_from(Team))


async def create_demo_team(session: AsyncSession, now: datetime) -> IssuedKey:
    team = await create_team(session, DEMO_TEAM_NAME, "professional", now)
    admin = await create_user(
        session,
        team,
        email=DEMO_ADMIN_EMAIL,
        first_name="Demo",
        last_name="Admin",
        title="Revenue Operations",
        role="admin",
        now=now,
    )
    return await create_key(session, team, master=True, user=admin, name="demo master key", now=now)
