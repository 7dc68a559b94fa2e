"""Organization Enrichment: the company a request names (``perilune.matching``), 1
``lead_credit`` per organization found, nothing when none is (Apollo answers a miss with
``{}``). The bulk form charges once per distinct organization found."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.auth.context import Caller
from perilune.matching import (
    OrganizationKeys,
    OrganizationMatch,
    OrganizationQuery,
    match_organization,
    organization_keys,
)
from perilune.metering.credits import charge
from perilune.resources.organization_enrichment import repository
from perilune.resources.organization_enrichment.schemas import (
    BulkEnrichParams,
    OrganizationEnrichParams,
    with_match_fields,
)
from perilune.resources.organizations.schemas import organization_object

ORGANIZATIONS_ENRICH = "api/v1/organizations/enrich"
ORGANIZATIONS_BULK_ENRICH = "api/v1/organizations/bulk_enrich"


async def enrich(
    session: AsyncSession, caller: Caller, params: OrganizationEnrichParams, now: datetime
) -> dict[str, Any]:
    """``{"organization": {...}}``, or ``{}`` when no organization fits."""
    found = await match_organization(session, params.query())
    organization = await repository.get_organization(session, found.organization_id) if found else None
    if found is None or organization is None:
        return {}
    await charge(session, caller, now, ORGANIZATIONS_ENRICH)
    return {"organization": with_match_fields(organization_object(organization), found)}


async def bulk_enrich(
    session: AsyncSession, caller: Caller, params: BulkEnrichParams, now: datetime
) -> dict[str, Any]:
    """Apollo's bulk envelope: the counters of the form used (``domains`` or ``details``; the
    other form's are null) and each distinct organization found, in the order asked for.
    ``params.check()`` has refused an empty or over-long request already."""
    queries = params.queries()
    unique = _unique(queries)
    matches = [await match_organization(session, query) for query in unique]
    first: dict[str, OrganizationMatch] = {}
    for found in matches:
        if found is not None:
            first.setdefault(found.organization_id, found)
    organizations = await repository.organizations_by_ids(session, list(first))
    if organizations:
        await charge(session, caller, now, ORGANIZATIONS_BULK_ENRICH, amount=len(organizations))
    by_details = params.by_details
    return {
        "status": "success",
        "error_code": None,
        "error_message": None,
        "total_requested_records": len(queries) if by_details else None,
        "total_requested_domains": None if by_details else len(queries),
        "unique_domains": None if by_details else len(unique),
        "unique_records": len(unique) if by_details else None,
        "unique_enriched_records": len(organizations),
        "missing_records": sum(found is None for found in matches),
        "organizations": [
            with_match_fields(organization_object(org), first[org.id]) for org in organizations
        ],
    }


def _unique(queries: Sequence[OrganizationQuery]) -> list[OrganizationQuery]:
    """The queries without repeats: two that normalise alike (``apollo.io`` and
    ``https://www.apollo.io/``) are one."""
    seen: dict[OrganizationKeys | OrganizationQuery, OrganizationQuery] = {}
    for query in queries:
        keys = organization_keys(query)
        seen.setdefault(query if keys.is_empty else keys, query)
    return list(seen.values())
