from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.models import NewsArticle

# Newest first; undated articles last.
ORDER = (NewsArticle.published_at.is_(None), NewsArticle.published_at.desc(), NewsArticle.id)


def _where(
    organization_ids: Sequence[str], start: datetime | None, end: datetime | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [NewsArticle.organization_id.in_(organization_ids)]
    if start is not None:
        where.append(NewsArticle.published_at >= start)
    if end is not None:
        where.append(NewsArticle.published_at < end)
    return where


async def count_articles(
    session: AsyncSession, organization_ids: Sequence[str], start: datetime | None, end: datetime | None
) -> int:
    query = select(func.count()).select_from(NewsArticle).where(*_where(organization_ids, start, end))
    return int(await session.scalar(query) or 0)


async def list_articles(
    session: AsyncSession,
    organization_ids: Sequence[str],
    start: datetime | None,
    end: datetime | None,
    *,
    offset: int,
    limit: int,
) -> Sequence[NewsArticle]:
    query = select(NewsArticle).where(*_where(organization_ids, start, end)).order_by(*ORDER)
    return (await session.execute(query.offset(offset).limit(limit))).scalars().all()


async def article_categories(
    session: AsyncSession, organization_ids: Sequence[str], start: datetime | None, end: datetime | None
) -> list[tuple[str, list[str]]]:
    """(id, event categories) of every matching article, in result order: categories live in a
    JSON list, which is filtered in Python rather than in two SQL dialects."""
    query = select(NewsArticle.id, NewsArticle.event_categories).where(*_where(organization_ids, start, end))
    rows = await session.execute(query.order_by(*ORDER))
    return [(row[0], list(row[1] or [])) for row in rows]


async def articles_by_id(session: AsyncSession, ids: Sequence[str]) -> Sequence[NewsArticle]:
    query = select(NewsArticle).where(NewsArticle.id.in_(ids)).order_by(*ORDER)
    return (await session.execute(query)).scalars().all()
