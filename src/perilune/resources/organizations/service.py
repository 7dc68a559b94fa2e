"""Organizations from the shared repository: one organization (1 credit) and its job postings
(1 credit per page that holds postings)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.envelopes import pagination
from perilune.api.errors import NotFound, Unprocessable
from perilune.auth.context import Caller
from perilune.db.ids import is_valid_id
from perilune.metering.credits import charge
from perilune.resources.organizations import repository
from perilune.resources.organizations.schemas import (
    JobPostingsParams,
    job_posting_object,
    organization_object,
)

ORGANIZATIONS_SHOW = "api/v1/organizations/show"
ORGANIZATIONS_JOB_POSTINGS = "api/v1/organizations/job_postings"


async def show(session: AsyncSession, caller: Caller, organization_id: str, now: datetime) -> dict[str, Any]:
    if not is_valid_id(organization_id):
        raise Unprocessable("Parameters misconfigured. id is not a valid ID")
    org = await repository.get_organization(session, organization_id)
    if org is None:
        raise NotFound()
    await charge(session, caller, now, ORGANIZATIONS_SHOW)
    return {"organization": organization_object(org)}


async def job_postings(
    session: AsyncSession, caller: Caller, organization_id: str, params: JobPostingsParams, now: datetime
) -> dict[str, Any]:
    if not is_valid_id(organization_id):
        raise Unprocessable("Parameters misconfigured. organization_id is not a valid ID")
    if not await repository.organization_exists(session, organization_id):
        raise NotFound()
    total = await repository.count_job_postings(session, organization_id)
    postings = await repository.list_job_postings(
        session, organization_id, offset=params.offset, limit=params.limit
    )
    if postings:
        await charge(session, caller, now, ORGANIZATIONS_JOB_POSTINGS)
    return {
        "organization_job_postings": [job_posting_object(p) for p in postings],
        "pagination": pagination(params, total),
    }
