"""Wire shapes of Apollo's organization objects and job postings.

An organization's ``data`` holds the Apollo-shaped object as imported; the indexed columns are
authoritative for the fields they hold (an import may have corrected them), and team-specific
fields (the team's account) are never taken from shared repository data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from perilune.api.envelopes import PageParams, timestamp
from perilune.models import JobPosting, Organization

# Apollo shows at most this many job postings, all on one page by default.
MAX_JOB_POSTINGS_PER_PAGE = 10_000

ORGANIZATION_LIST_FIELDS = (
    "keywords",
    "industries",
    "secondary_industries",
    "suborganizations",
    "funding_events",
    "technology_names",
    "current_technologies",
    "languages",
    "org_chart_root_people_ids",
    "employee_metrics",
)
ALWAYS_LISTS = ("keywords", "industries", "secondary_industries", "suborganizations", "funding_events")
ORGANIZATION_OBJECT_FIELDS = ("industry_tag_hash", "primary_phone")
# The team's own CRM record of the company: not repository data.
TEAM_FIELDS = ("account_id", "account")
# Detail-view extras left out where an organization is embedded in a person.
DETAIL_FIELDS = ("employee_metrics", "detail_view_loaded", "intent_signal_account")


class JobPostingsParams(PageParams):
    per_page: int = Field(default=MAX_JOB_POSTINGS_PER_PAGE, ge=1)

    @property
    def limit(self) -> int:
        return min(self.per_page, MAX_JOB_POSTINGS_PER_PAGE)


def apollo_datetime(value: datetime | None) -> str | None:
    """Timestamps in repository objects as Apollo writes them: ``2024-08-30T14:19:10.200+00:00``."""
    return timestamp(value, zone="+00:00")


def organization_object(org: Organization, *, embedded: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = dict(org.data or {})
    for name in TEAM_FIELDS + (DETAIL_FIELDS if embedded else ()):
        body.pop(name, None)
    body.update(
        {
            "id": org.id,
            "name": org.name,
            "primary_domain": org.primary_domain,
            "industry": org.industry,
            "estimated_num_employees": org.estimated_num_employees,
            "annual_revenue": org.annual_revenue,
            "founded_year": org.founded_year,
            "city": org.city,
            "state": org.state,
            "country": org.country,
        }
    )
    # A list or object field is [] or {} when empty, never null; the always-present ones are
    # there even when the import had nothing for them.
    for name in ORGANIZATION_LIST_FIELDS:
        if name in body or name in ALWAYS_LISTS:
            body[name] = _list(body.get(name))
    for name in ORGANIZATION_OBJECT_FIELDS:
        if name in body:
            body[name] = body[name] if isinstance(body[name], dict) else {}
    return body


def job_posting_object(posting: JobPosting) -> dict[str, Any]:
    return {
        "id": posting.id,
        "title": posting.title,
        "url": posting.url,
        "city": posting.city,
        "state": posting.state,
        "country": posting.country,
        "last_seen_at": apollo_datetime(posting.last_seen_at),
        "posted_at": apollo_datetime(posting.posted_at),
    }


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []
