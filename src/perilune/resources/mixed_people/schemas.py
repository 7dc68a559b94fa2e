"""Request and response shapes of the people searches: the legacy ``mixed_people/search``
(full person objects, as ``GET /people/{id}`` renders them) and the current
``mixed_people/api_search`` (a lean object: first name, obfuscated last name and what is known
about the person, without the data itself)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from perilune.resources.mixed_companies.schemas import (
    SENIORITY_NAMES,
    OrganizationCriteria,
    SearchPage,
    Values,
    employees_breadcrumbs,
    list_breadcrumbs,
    organization_breadcrumbs,
    text_breadcrumb,
)
from perilune.resources.mixed_people.repository import LeanRow
from perilune.resources.organizations.schemas import apollo_datetime
from perilune.search.documents import email_status

# has_direct_phone when the repository holds no direct number (Apollo's own wording).
DIRECT_PHONE_UNKNOWN = "Maybe: please request direct dial via people/bulk_match"


class PeopleSearchParams(OrganizationCriteria, SearchPage):
    person_titles: Values = Field(default_factory=list)
    include_similar_titles: bool = True
    person_not_titles: Values = Field(default_factory=list)
    q_keywords: str | None = None
    person_locations: Values = Field(default_factory=list)
    person_seniorities: Values = Field(default_factory=list)
    contact_email_status: Values = Field(default_factory=list)


def people_breadcrumbs(params: PeopleSearchParams) -> list[dict[str, Any]]:
    """One breadcrumb per filter value, in the order Apollo lists them."""
    p = params
    return [
        *text_breadcrumb("Company Name", "q_organization_name", p.q_organization_name),
        *list_breadcrumbs("Titles", "person_titles", p.person_titles),
        *list_breadcrumbs("Excluded Titles", "person_not_titles", p.person_not_titles),
        *text_breadcrumb("Keywords", "q_keywords", p.q_keywords),
        *employees_breadcrumbs(p),
        *list_breadcrumbs(
            "Management Level",
            "person_seniorities",
            p.person_seniorities,
            lambda v: SENIORITY_NAMES.get(v, v),
        ),
        *list_breadcrumbs("Locations", "person_locations", p.person_locations),
        *list_breadcrumbs("Email Status", "contact_email_status", p.contact_email_status),
        *organization_breadcrumbs(p),
    ]


def obfuscated(last_name: str | None) -> str | None:
    """``Huston`` -> ``Hu***n``: the first two letters and the last, as Apollo shows a net-new
    person's last name; short names keep fewer letters (``Ng`` -> ``N***``)."""
    if not last_name:
        return None
    if len(last_name) <= 2:
        return f"{last_name[0]}***"
    if len(last_name) <= 4:
        return f"{last_name[0]}***{last_name[-1]}"
    return f"{last_name[:2]}***{last_name[-1]}"


def lean_person(row: LeanRow) -> dict[str, Any]:
    """A person as ``api_search`` shows them: whether data exists, not the data."""
    return {
        "id": row.id,
        "first_name": row.first_name,
        "last_name_obfuscated": obfuscated(row.last_name),
        "title": row.title,
        "last_refreshed_at": apollo_datetime(row.updated_at),
        "has_email": email_status(row.email, row.email_status) == "verified",
        "has_city": bool(row.city),
        "has_state": bool(row.state),
        "has_country": bool(row.country),
        "has_direct_phone": "Yes" if row.direct_phone else DIRECT_PHONE_UNKNOWN,
        "organization": lean_organization(row) if row.org_id else {},
    }


def lean_organization(row: LeanRow) -> dict[str, Any]:
    return {
        "name": row.org_name,
        "has_industry": bool(row.org_industry),
        "has_phone": bool(row.org_phone),
        "has_city": bool(row.org_city),
        "has_state": bool(row.org_state),
        "has_country": bool(row.org_country),
        "has_zip_code": bool(row.org_postal_code),
        "has_revenue": row.org_revenue is not None,
        "has_employee_count": row.org_employees is not None,
    }
