"""Every SQL statement of the fields endpoints."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.models import CustomField


async def team_fields(session: AsyncSession, team_id: str) -> Sequence[CustomField]:
    """The team's custom fields, by modality, oldest first."""
    rows = await session.execute(
        select(CustomField)
        .where(CustomField.team_id == team_id)
        .order_by(CustomField.modality, CustomField.created_at, CustomField.id)
    )
    return rows.scalars().all()


async def named(session: AsyncSession, team_id: str, modality: str, name: str) -> CustomField | None:
    found: CustomField | None = await session.scalar(
        select(CustomField).where(
            CustomField.team_id == team_id, CustomField.modality == modality, CustomField.name == name
        )
    )
    return found
