"""Every SQL statement of the labels endpoints that perilune.crm.labels does not already make."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.models import Label


async def team_labels(session: AsyncSession, team_id: str) -> Sequence[Label]:
    """Every list of the team, oldest first."""
    rows = await session.execute(
        select(Label).where(Label.team_id == team_id).order_by(Label.created_at, Label.id)
    )
    return rows.scalars().all()


async def named(session: AsyncSession, team_id: str, modality: str, name: str) -> Label | None:
    found: Label | None = await session.scalar(
        select(Label).where(Label.team_id == team_id, Label.modality == modality, Label.name == name)
    )
    return found
