"""Shapes shared by many responses: timestamps, pagination and ``[]``/``{}`` for empty values."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi.responses import Response
from pydantic import Field

from perilune.api.params import ApolloParams

MAX_PER_PAGE = 100


def timestamp(value: datetime | None, *, zone: str = "Z") -> str | None:
    """Apollo's timestamps: UTC, milliseconds, ``Z`` (``2024-08-23T18:56:24.067Z``). Repository
    objects (job postings, news) write the zone as ``+00:00`` instead."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}{zone}"


class PageParams(ApolloParams):
    page: int = Field(default=1, ge=1)
    per_page: int = Field(default=25, ge=1)

    @property
    def limit(self) -> int:
        return min(self.per_page, MAX_PER_PAGE)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


def pagination(page: PageParams, total_entries: int) -> dict[str, Any]:
    return {
        "page": page.page,
        "per_page": page.limit,
        "total_entries": total_entries,
        "total_pages": math.ceil(total_entries / page.limit) if total_entries else 0,
    }


class ApolloJSON(Response):
    """JSON encoded with orjson straight from plain dicts: no response-model validation on hot
    paths (DESIGN.md: re-validating a 50-person search costs ~10x the request)."""

    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
