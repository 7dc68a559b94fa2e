from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.models import JobPosting, Organization


async def get_organization(session: AsyncSession, organization_id: str) -> Organization | None:
    return await session.get(Organization, organization_id)


async def organization_exists(session: AsyncSession, organization_id: str) -> bool:
    found = await session.scalar(select(Organization.id).where(Organization.id == organization_id))
    return found is not None


async def count_job_postings(session: AsyncSession, organization_id: str) -> int:
    query = select(func.count()).select_from(JobPosting).where(JobPosting.organization_id == organization_id)
    return int(await session.scalar(query) or 0)


async def list_job_postings(
    session: AsyncSession, organization_id: str, *, offset: int, limit: int
) -> Sequence[JobPosting]:
    """Newest posting first; postings without a date last."""
    query = (
        select(JobPosting)
        .where(JobPosting.organization_id == organization_id)
        .order_by(JobPosting.posted_at.is_(None), JobPosting.posted_at.desc(), JobPosting.id)
        .offset(offset)
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()
