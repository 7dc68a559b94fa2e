"""The people/organization data repository: normalisation, import and synthetic generation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.models import Organization, Person


async def repository_is_empty(session: AsyncSession) -> bool:
    """No people and no organizations (a repository the demo data may fill)."""
    for model in (Person, Organization):
        if await session.scalar(select(model.id).limit(1)) is not None:
            return False
    return True
