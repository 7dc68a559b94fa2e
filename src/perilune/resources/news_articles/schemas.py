from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator

from perilune.api.envelopes import PageParams
from perilune.models import NewsArticle
from perilune.resources.organizations.schemas import apollo_datetime

# "up to 25 results per page" (the spec's credit note).
MAX_NEWS_PER_PAGE = 25


class DateRange(BaseModel):
    """``published_at[min]`` / ``published_at[max]``: dates (``YYYY-MM-DD``), both inclusive."""

    min: date | None = None
    max: date | None = None

    @field_validator("min", "max", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @property
    def start(self) -> datetime | None:
        return None if self.min is None else datetime.combine(self.min, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime | None:
        """The first instant after the ``max`` day."""
        if self.max is None:
            return None
        return datetime.combine(self.max + timedelta(days=1), time.min, tzinfo=UTC)


class NewsSearchParams(PageParams):
    organization_ids: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    published_at: DateRange = Field(default_factory=DateRange)

    @property
    def limit(self) -> int:
        return min(self.per_page, MAX_NEWS_PER_PAGE)


def news_article_object(article: NewsArticle) -> dict[str, Any]:
    return {
        "id": article.id,
        "url": article.url,
        "domain": article.domain,
        "title": article.title,
        "snippet": article.snippet,
        "organization_ids": [article.organization_id],
        "published_at": apollo_datetime(article.published_at),
        "event_categories": list(article.event_categories or []),
    }
