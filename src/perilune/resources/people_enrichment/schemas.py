"""Wire shapes of People Enrichment (``POST /people/match``) and Bulk People Enrichment
(``POST /people/bulk_match``): the parameters, the Perilune match extensions and the bulk
envelope."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from perilune.api.errors import BulkRequestFailed
from perilune.api.params import ApolloParams
from perilune.matching import PersonMatch, PersonQuery

# Bulk People Enrichment takes at most this many ``details``.
MAX_BULK_DETAILS = 10
MISSING_DETAILS = "invalid request, missing details"
TOO_MANY_DETAILS = f"cannot enrich more than {MAX_BULK_DETAILS} in a single request"
# Perilune has no third-party data sources to run a waterfall through: the request is answered
# from the repository, and the waterfall object says no webhook will follow.
WATERFALL_NOT_ACCEPTED = {
    "status": "not_accepted",
    "message": "Waterfall enrichment is not available on this server: no third-party data "
    "sources are configured, so no waterfall webhook will be sent. The enrichment in this "
    "response comes from the server's own repository.",
}


class PersonDetail(ApolloParams):
    """What identifies one person (Apollo's ``people/match`` parameters and each item of
    ``bulk_match``'s ``details``). Every field is optional."""

    id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    email: str | None = None
    hashed_email: str | None = None
    organization_name: str | None = None
    domain: str | None = None
    linkedin_url: str | None = None

    def query(self) -> PersonQuery:
        return PersonQuery(
            id=self.id,
            first_name=self.first_name,
            last_name=self.last_name,
            name=self.name,
            email=self.email,
            hashed_email=self.hashed_email,
            organization_name=self.organization_name,
            domain=self.domain,
            linkedin_url=self.linkedin_url,
        )


class EnrichmentOptions(ApolloParams):
    """What to reveal, for the whole request. ``min_confidence`` is a Perilune extension: the
    least match confidence (0-1) this request accepts; it can raise the server's bar, never
    lower it."""

    reveal_personal_emails: bool = False
    reveal_phone_number: bool = False
    webhook_url: str | None = None
    run_waterfall_email: bool = False
    run_waterfall_phone: bool = False
    min_confidence: float | None = Field(default=None, ge=0, le=1)

    @property
    def waterfall(self) -> bool:
        return self.run_waterfall_email or self.run_waterfall_phone

    def check(self) -> None:
        """Refuse a request Apollo refuses before doing any work (none for a single match)."""


class PeopleMatchParams(PersonDetail, EnrichmentOptions):
    pass


class BulkMatchParams(EnrichmentOptions):
    details: list[PersonDetail] = Field(default_factory=list)

    def check(self) -> None:
        if not self.details:
            raise BulkRequestFailed("INVALID_REQUEST", MISSING_DETAILS)
        if len(self.details) > MAX_BULK_DETAILS:
            raise BulkRequestFailed("RECORD_LIMIT_EXCEEDED", TOO_MANY_DETAILS)


def with_match_fields(person: dict[str, Any], match: PersonMatch) -> dict[str, Any]:
    """The Perilune extensions on a matched person, added beside Apollo's fields: how sure the
    match is and which fields agreed."""
    person["match_confidence"] = match.confidence
    person["match_reasons"] = list(match.reasons)
    return person
