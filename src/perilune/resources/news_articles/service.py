"""News about organizations in the repository: ``POST /news_articles/search``, 1 credit per page
that holds articles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.envelopes import pagination
from perilune.api.errors import Unprocessable
from perilune.auth.context import Caller
from perilune.metering.credits import charge
from perilune.models import NewsArticle
from perilune.resources.news_articles import repository
from perilune.resources.news_articles.schemas import NewsSearchParams, news_article_object

NEWS_ARTICLES_SEARCH = "api/v1/news_articles/search"
# Organizations one search may name (bounded so the IN list stays reasonable).
MAX_ORGANIZATION_IDS = 1000


async def search(
    session: AsyncSession, caller: Caller, params: NewsSearchParams, now: datetime
) -> dict[str, Any]:
    organization_ids = list(dict.fromkeys(i.strip() for i in params.organization_ids if i and i.strip()))
    if not organization_ids:
        raise Unprocessable("organization_ids is required")
    if len(organization_ids) > MAX_ORGANIZATION_IDS:
        raise Unprocessable(f"organization_ids can hold at most {MAX_ORGANIZATION_IDS} ids")
    total, articles = await _page(session, organization_ids, params)
    if articles:
        await charge(session, caller, now, NEWS_ARTICLES_SEARCH)
    return {
        "pagination": pagination(params, total),
        "news_articles": [news_article_object(a) for a in articles],
    }


async def _page(
    session: AsyncSession, organization_ids: list[str], params: NewsSearchParams
) -> tuple[int, list[NewsArticle]]:
    start, end = params.published_at.start, params.published_at.end
    wanted = {c.strip().lower() for c in params.categories if c and c.strip()}
    if not wanted:
        total = await repository.count_articles(session, organization_ids, start, end)
        page = await repository.list_articles(
            session, organization_ids, start, end, offset=params.offset, limit=params.limit
        )
        return total, list(page)
    candidates = await repository.article_categories(session, organization_ids, start, end)
    matching = [i for i, categories in candidates if wanted & {c.lower() for c in categories}]
    page_ids = matching[params.offset : params.offset + params.limit]
    return len(matching), list(await repository.articles_by_id(session, page_ids)) if page_ids else []
