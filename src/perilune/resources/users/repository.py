from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.models import User


async def count_team_users(session: AsyncSession, team_id: str) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(User).where(User.team_id == team_id)) or 0
    )


async def list_team_users(session: AsyncSession, team_id: str, *, offset: int, limit: int) -> Sequence[User]:
    query = (
        select(User)
        .where(User.team_id == team_id)
        .order_by(User.created_at, User.id)
        .offset(offset)
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()
