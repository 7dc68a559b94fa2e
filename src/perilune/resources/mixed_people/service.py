"""People search: the legacy ``POST /mixed_people/search`` (the team's contacts first, then the
repository's people as full objects, emails locked until revealed; 1 export credit for a page
that holds people) and the current ``POST /mixed_people/api_search`` (net-new people as lean
objects, no credits).

The request's parameters become one ``PeopleFilter`` (``people_filter``); its employer side is
the organization search's (``mixed_companies.service.organization_filter``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.auth.context import Caller
from perilune.metering.credits import charge
from perilune.resources.mixed_companies.schemas import search_pagination
from perilune.resources.mixed_companies.service import SEARCH_FLAGS, organization_filter
from perilune.resources.mixed_people import repository
from perilune.resources.mixed_people.schemas import PeopleSearchParams, lean_person, people_breadcrumbs
from perilune.resources.people.schemas import person_object
from perilune.search.backend import SearchBackend, SearchHits
from perilune.search.filters import PeopleFilter

MIXED_PEOPLE_SEARCH = "api/v1/mixed_people/search"
MIXED_PEOPLE_API_SEARCH = "api/v1/mixed_people/api_search"


async def people_filter(session: AsyncSession, params: PeopleSearchParams) -> PeopleFilter:
    """The request's filters as one ``PeopleFilter``. ``include_similar_titles`` (the default)
    finds titles holding a title's words ("sales manager": "Senior Sales Manager, EMEA");
    turned off, a title must have exactly those words."""
    titles = tuple(t for t in params.person_titles if t.strip())
    similar = params.include_similar_titles
    return PeopleFilter(
        titles=titles if similar else (),
        canonical_titles=() if similar else titles,
        not_titles=tuple(t for t in params.person_not_titles if t.strip()),
        places=tuple(params.person_locations),
        seniorities=tuple(s for s in params.person_seniorities if s.strip()),
        email_statuses=tuple(params.contact_email_status),
        q_keywords=params.q_keywords,
        organization=await organization_filter(session, params),
    )


async def search(
    session: AsyncSession, caller: Caller, backend: SearchBackend, params: PeopleSearchParams, now: datetime
) -> dict[str, Any]:
    params.check_page()
    filters = await people_filter(session, params)
    contacts = await saved_contacts(session, caller.team_id, filters) if params.saved else []
    hits = SearchHits(0, [])
    if params.net_new:
        hits = backend.search_people(filters, offset=params.offset, limit=params.limit)
    views = await repository.person_views(session, caller.team_id, hits.ids)
    if views:
        await charge(session, caller, now, MIXED_PEOPLE_SEARCH, credit_type="export_credit")
    return {
        "breadcrumbs": people_breadcrumbs(params),
        **{k: v for k, v in SEARCH_FLAGS.items() if k != "has_join"},
        "pagination": search_pagination(params, hits.total + len(contacts)),
        "contacts": contacts,
        "people": [person_object(view) for view in views],
        "num_fetch_result": None,
    }


async def api_search(
    session: AsyncSession, caller: Caller, backend: SearchBackend, params: PeopleSearchParams
) -> dict[str, Any]:
    params.check_page()
    filters = await people_filter(session, params)
    hits = SearchHits(0, [])
    if params.net_new:
        hits = backend.search_people(filters, offset=params.offset, limit=params.limit)
    rows = await repository.lean_rows(session, hits.ids)
    return {"total_entries": hits.total, "people": [lean_person(row) for row in rows]}


async def saved_contacts(session: AsyncSession, team_id: str, filters: PeopleFilter) -> list[dict[str, Any]]:
    """The team's contacts (its saved people) that match, shown before the repository's people,
    which then leave them out. The CRM arrives with contacts (issue 6); until then a team has
    none."""
    return []
