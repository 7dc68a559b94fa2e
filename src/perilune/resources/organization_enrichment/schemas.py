"""Wire shapes of Organization Enrichment (``GET``/``POST /organizations/enrich``) and Bulk
Organization Enrichment (``POST /organizations/bulk_enrich``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from perilune.api.errors import BulkRequestFailed, Unprocessable
from perilune.api.params import ApolloParams
from perilune.matching import OrganizationMatch, OrganizationQuery

MAX_BULK_ORGANIZATIONS = 10
MISSING_DOMAIN = "Required parameter 'domain' missing"
MISSING_DOMAINS = "invalid request, missing domains"
TOO_MANY_DOMAINS = f"domain count cannot be more than {MAX_BULK_ORGANIZATIONS}"


class OrganizationDetail(ApolloParams):
    """What identifies one company: any of ``domain`` (a bare domain, or a URL, host or email
    address holding one), ``linkedin_url``, ``name`` and ``website`` (a full URL)."""

    domain: str | None = None
    linkedin_url: str | None = None
    name: str | None = None
    website: str | None = None

    @property
    def given(self) -> bool:
        return any(
            value and value.strip() for value in (self.domain, self.linkedin_url, self.name, self.website)
        )

    def query(self) -> OrganizationQuery:
        return OrganizationQuery(
            domain=self.domain, website=self.website, linkedin_url=self.linkedin_url, name=self.name
        )


class OrganizationEnrichParams(OrganizationDetail):
    def check(self) -> None:
        if not self.given:
            raise Unprocessable(MISSING_DOMAIN)


class BulkEnrichParams(ApolloParams):
    """``domains`` (``domains[]`` in a query string) or ``details``; ``details`` wins when both
    are given, as in Apollo."""

    domains: list[str] = Field(default_factory=list)
    details: list[OrganizationDetail] = Field(default_factory=list)

    @property
    def by_details(self) -> bool:
        return bool(self.details)

    def queries(self) -> list[OrganizationQuery]:
        if self.by_details:
            return [detail.query() for detail in self.details]
        return [OrganizationQuery(domain=domain) for domain in self.domains]

    def check(self) -> None:
        count = len(self.details) if self.by_details else len(self.domains)
        if count == 0:
            raise BulkRequestFailed("INVALID_REQUEST", MISSING_DOMAINS)
        if count > MAX_BULK_ORGANIZATIONS:
            raise BulkRequestFailed("RECORD_LIMIT_EXCEEDED", TOO_MANY_DOMAINS)


def with_match_fields(organization: dict[str, Any], match: OrganizationMatch) -> dict[str, Any]:
    """The Perilune extensions beside Apollo's fields: how sure the match is, what agreed."""
    organization["match_confidence"] = match.confidence
    organization["match_reasons"] = list(match.reasons)
    return organization
