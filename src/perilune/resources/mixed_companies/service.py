"""Organization search, ``POST /mixed_companies/search``: the repository's organizations that
match (1 credit for a page that holds any), after the team's own accounts.

The request's parameters become one ``OrganizationFilter`` (``organization_filter``, shared with
the people searches for the employer's side); job-posting filters are resolved in SQL first."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.auth.context import Caller
from perilune.metering.credits import charge
from perilune.resources.mixed_companies import repository
from perilune.resources.mixed_companies.schemas import (
    CompanySearchParams,
    OrganizationCriteria,
    company_breadcrumbs,
    date_bounds,
    search_pagination,
)
from perilune.resources.organizations.schemas import organization_object
from perilune.search.backend import SearchBackend, SearchHits
from perilune.search.filters import JobPostingFilter, OrganizationFilter

MIXED_COMPANIES_SEARCH = "api/v1/mixed_companies/search"
# Fields Apollo's search answers carry beside the records (no partial results here).
# No organization has more postings than this; bounds beyond it say the same (and fit SQL).
MAX_POSTINGS = 2**31 - 1
SEARCH_FLAGS: dict[str, Any] = {
    "partial_results_only": False,
    "has_join": False,
    "disable_eu_prospecting": False,
    "partial_results_limit": 10000,
}


@dataclass(frozen=True)
class JobConstraint:
    """Organizations the job-posting filters allow: only ``within`` (None: any), never
    ``excluded``."""

    within: frozenset[str] | None = None
    excluded: frozenset[str] = frozenset()


async def search(
    session: AsyncSession, caller: Caller, backend: SearchBackend, params: CompanySearchParams, now: datetime
) -> dict[str, Any]:
    params.check_page()
    filters = await company_filter(session, params)
    accounts = await saved_accounts(session, caller.team_id, filters) if params.saved else []
    hits = SearchHits(0, [])
    if params.net_new:
        hits = backend.search_organizations(filters, offset=params.offset, limit=params.limit)
    organizations = await repository.organizations_by_ids(session, hits.ids)
    if organizations:
        await charge(session, caller, now, MIXED_COMPANIES_SEARCH)
    return {
        "breadcrumbs": company_breadcrumbs(params),
        **SEARCH_FLAGS,
        "pagination": search_pagination(params, hits.total + len(accounts)),
        "accounts": accounts,
        "organizations": [organization_object(org) for org in organizations],
        "model_ids": [*(a["id"] for a in accounts), *(org.id for org in organizations)],
        "num_fetch_result": None,
        "derived_params": None,
    }


async def saved_accounts(
    session: AsyncSession, team_id: str, filters: OrganizationFilter
) -> list[dict[str, Any]]:
    """The team's accounts (its saved organizations) that match, shown before the repository's.
    The CRM arrives with accounts (issue 6); until then a team has none."""
    return []


async def company_filter(session: AsyncSession, params: CompanySearchParams) -> OrganizationFilter:
    """The organization search's filters: the organization filters and its ``q_keywords``."""
    return replace(await organization_filter(session, params), q_keywords=params.q_keywords)


async def organization_filter(session: AsyncSession, params: OrganizationCriteria) -> OrganizationFilter:
    """The request's organization filters as one ``OrganizationFilter``."""
    jobs = await job_constraint(session, params)
    return OrganizationFilter(
        ids=tuple(i.strip() for i in params.organization_ids if i.strip()),
        domains=tuple(params.domains()),
        places=tuple(params.organization_locations),
        not_places=tuple(params.organization_not_locations),
        keyword_phrases=tuple(t for t in params.q_organization_keyword_tags if t.strip()),
        technologies=tuple(t for t in params.currently_using_any_of_technology_uids if t.strip()),
        all_technologies=tuple(t for t in params.currently_using_all_of_technology_uids if t.strip()),
        not_technologies=tuple(t for t in params.currently_not_using_any_of_technology_uids if t.strip()),
        employees=params.employee_ranges(),
        revenue=params.revenue_range.bounds(),
        total_funding=params.total_funding_range.bounds(),
        latest_funding=params.latest_funding_amount_range.bounds(),
        latest_funding_date=date_bounds(params.latest_funding_date_range),
        name_words=params.q_organization_name,
        job_organization_ids=None if jobs.within is None else tuple(sorted(jobs.within)),
        excluded_ids=tuple(sorted(jobs.excluded)),
    )


async def job_constraint(session: AsyncSession, params: OrganizationCriteria) -> JobConstraint:
    """The organizations the job-posting filters allow: one posting matching the titles,
    locations and dates, and a number of postings in the range."""
    postings = JobPostingFilter.of(params.q_organization_job_titles, params.organization_job_locations)
    dates = params.organization_job_posted_at_range
    within: set[str] | None = None
    if postings.constrains or dates.start is not None or dates.end is not None:
        within = await repository.organizations_with_postings(session, postings, dates.start, dates.end)
    count = params.organization_num_jobs_range.bounds()
    if count is None:
        return JobConstraint(None if within is None else frozenset(within))
    low = 0 if count.low is None else _count_bound(math.ceil(count.low))
    high = None if count.high is None else min(math.floor(count.high), MAX_POSTINGS)
    if high is not None and high < low:
        return JobConstraint(frozenset())
    if low > 0:
        at_least = await repository.posting_counts(session, above=low - 1)
        within = at_least if within is None else within & at_least
    excluded = await repository.posting_counts(session, above=high) if high is not None else set()
    return JobConstraint(None if within is None else frozenset(within - excluded), frozenset(excluded))


def _count_bound(value: int) -> int:
    return max(0, min(value, MAX_POSTINGS))
