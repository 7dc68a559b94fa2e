"""The SQL of organization search: loading a page's organizations, and the job-posting filters
(postings are in the database, not the search index)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.models import JobPosting, Organization
from perilune.search.filters import JobPostingFilter

# Ids per IN (...) list: well under SQLite's and asyncpg's bound-parameter limits.
ID_CHUNK = 1000


async def organizations_by_ids(session: AsyncSession, ids: Sequence[str]) -> list[Organization]:
    """The organizations, in the order of ``ids`` (an id no longer in the database is left out)."""
    found: dict[str, Organization] = {}
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        rows = await session.execute(select(Organization).where(Organization.id.in_(chunk)))
        found.update((org.id, org) for org in rows.scalars())
    return [found[i] for i in ids if i in found]


def _posted_between(start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if start is not None:
        where.append(JobPosting.posted_at >= start)
    if end is not None:
        where.append(JobPosting.posted_at < end)
    return where


async def organizations_with_postings(
    session: AsyncSession, postings: JobPostingFilter, start: datetime | None, end: datetime | None
) -> set[str]:
    """Organizations with at least one posting that matches ``postings`` and was posted in
    [start, end). Titles and places are compared in Python, with the same normalisation the
    index uses for people (SQL has no notion of title words or places)."""
    columns = (
        JobPosting.organization_id,
        JobPosting.title,
        JobPosting.city,
        JobPosting.state,
        JobPosting.country,
    )
    query = select(*columns).where(*_posted_between(start, end))
    if not postings.constrains:
        return set(
            (await session.execute(query.with_only_columns(JobPosting.organization_id).distinct())).scalars()
        )
    found: set[str] = set()
    result = await session.stream(query.execution_options(yield_per=5000))
    async for organization_id, title, city, state, country in result:
        if organization_id not in found and postings.matches(title, city, state, country):
            found.add(organization_id)
    return found


async def posting_counts(session: AsyncSession, *, above: int) -> set[str]:
    """Organizations with more than ``above`` postings."""
    query = (
        select(JobPosting.organization_id).group_by(JobPosting.organization_id).having(func.count() > above)
    )
    return set((await session.execute(query)).scalars())
