"""Request and response shapes of Apollo's repository searches: the organization filters that
``mixed_companies/search`` and both people searches share, the display cap on pages, and the
breadcrumbs (one per filter value, as Apollo echoes them).

Every parameter may arrive as the spec names it (``person_titles[]``, ``revenue_range[min]``),
in the query string or the JSON body; lists as arrays, single values or repeated keys."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from perilune.api.envelopes import PageParams, pagination
from perilune.api.errors import Unprocessable
from perilune.api.params import ApolloParams
from perilune.resources.news_articles.schemas import DateRange
from perilune.search.filters import Range

# Apollo's display limit: 100 records a page, 50,000 records in all (500 full pages).
MAX_PER_PAGE = 100
DISPLAY_LIMIT = 50_000
# Values one list parameter may hold (the spec's bound for q_organization_domains_list).
MAX_VALUES = 1000
OVER_THRESHOLD = "Invalid parameter passed in. Page * per page number is over threshold."
PER_PAGE_ZERO = "An error occurred. Per page cannot be 0."
_EMPLOYEES_RANGE = re.compile(r"^\s*(\d{0,12})\s*,\s*(\d{0,12})\s*$")
_NESTED_KEY = re.compile(r"^(\w+)\[(min|max)\]$")
# Apollo's answer to prospected_by_current_team: "yes" saved records, "no" net new ones.
YES = frozenset({"yes", "true", "1"})
NO = frozenset({"no", "false", "0"})

Values = Annotated[list[str], Field(max_length=MAX_VALUES)]


# NaN and infinities are no amounts (and NaN compares false with everything).
Number = Annotated[float, Field(allow_inf_nan=False)]


class NumberRange(ApolloParams):
    """``name[min]`` / ``name[max]``, both inclusive, either open."""

    min: Number | None = None
    max: Number | None = None

    @field_validator("min", "max", mode="before")
    @classmethod
    def _plain_number(cls, value: Any) -> Any:
        # "1,500,000" and "$5M" are not numbers Apollo takes ("no currency symbols, commas").
        return value.strip() if isinstance(value, str) else value

    def bounds(self) -> Range | None:
        return None if self.min is None and self.max is None else Range(self.min, self.max)

    def display(self) -> str:
        return f"{_number(self.min)}-{_number(self.max)}"


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() else str(value)


class SearchParams(ApolloParams):
    """Apollo's parameter dialects on top of ApolloParams: numbers where text is expected
    (a title of 2024), and JSON keys spelled as the spec's query names (``person_titles[]``,
    ``revenue_range[min]``)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _query_spelled_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out: dict[str, Any] = {}
        for key, value in data.items():
            nested = _NESTED_KEY.match(key) if isinstance(key, str) else None
            if nested:
                parent = out.setdefault(nested.group(1), {})
                if isinstance(parent, dict):
                    parent[nested.group(2)] = value
            elif isinstance(key, str) and key.endswith("[]"):
                out[key[:-2]] = value
            else:
                out[key] = value
        return out


class SearchPage(PageParams):
    """page / per_page under Apollo's display cap: per_page above 100 shows 100, and no page
    may reach past the 50,000th record."""

    per_page: int = 25

    @property
    def limit(self) -> int:
        return max(1, min(self.per_page, MAX_PER_PAGE))

    def check_page(self) -> None:
        if self.per_page < 1:
            raise Unprocessable(PER_PAGE_ZERO)
        if self.page * self.limit > DISPLAY_LIMIT:
            raise Unprocessable(OVER_THRESHOLD)


def search_pagination(page: SearchPage, total_entries: int) -> dict[str, Any]:
    """Apollo's pagination; ``total_entries`` exact, ``total_pages`` only those a client can
    fetch under the display cap."""
    shown = pagination(page, total_entries)
    shown["total_pages"] = min(shown["total_pages"], DISPLAY_LIMIT // page.limit)
    return shown


class OrganizationCriteria(SearchParams):
    """The organization filters, on organizations themselves or on people's current employers."""

    organization_ids: Values = Field(default_factory=list)
    q_organization_domains: Values = Field(default_factory=list)
    q_organization_domains_list: Values = Field(default_factory=list)
    q_organization_name: str | None = None
    organization_locations: Values = Field(default_factory=list)
    organization_not_locations: Values = Field(default_factory=list)
    organization_num_employees_ranges: Values = Field(default_factory=list)
    revenue_range: NumberRange = Field(default_factory=NumberRange)
    q_organization_keyword_tags: Values = Field(default_factory=list)
    currently_using_any_of_technology_uids: Values = Field(default_factory=list)
    currently_using_all_of_technology_uids: Values = Field(default_factory=list)
    currently_not_using_any_of_technology_uids: Values = Field(default_factory=list)
    total_funding_range: NumberRange = Field(default_factory=NumberRange)
    latest_funding_amount_range: NumberRange = Field(default_factory=NumberRange)
    latest_funding_date_range: DateRange = Field(default_factory=DateRange)
    q_organization_job_titles: Values = Field(default_factory=list)
    organization_job_locations: Values = Field(default_factory=list)
    organization_num_jobs_range: NumberRange = Field(default_factory=NumberRange)
    organization_job_posted_at_range: DateRange = Field(default_factory=DateRange)
    prospected_by_current_team: Values = Field(default_factory=list)

    @field_validator("prospected_by_current_team")
    @classmethod
    def _yes_or_no(cls, values: list[str]) -> list[str]:
        cleaned = [v.strip().lower() for v in values if v.strip()]
        unknown = [v for v in cleaned if v not in YES | NO]
        if unknown:
            raise ValueError(f"expected yes or no, not {unknown[0][:40]!r}")
        return cleaned

    @property
    def net_new(self) -> bool:
        """Whether the search covers the repository (not only the team's saved records)."""
        return not self.prospected_by_current_team or any(v in NO for v in self.prospected_by_current_team)

    @property
    def saved(self) -> bool:
        """Whether the search covers the team's saved records (contacts, accounts)."""
        return not self.prospected_by_current_team or any(v in YES for v in self.prospected_by_current_team)

    def domains(self) -> list[str]:
        """Both domain parameters; the legacy one joins domains with newlines."""
        given = [*self.q_organization_domains, *self.q_organization_domains_list]
        return [d.strip() for value in given for d in value.splitlines() if d.strip()]

    def employee_ranges(self) -> tuple[Range, ...]:
        return tuple(
            employees_range(value) for value in self.organization_num_employees_ranges if value.strip()
        )


class CompanySearchParams(OrganizationCriteria, SearchPage):
    q_keywords: str | None = None


def employees_range(value: str) -> Range:
    """``"1,10"``: 1 to 10 employees inclusive; ``"10000,"`` 10,000 or more."""
    found = _EMPLOYEES_RANGE.match(value)
    if found is None or not (found.group(1) or found.group(2)):
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise Unprocessable(f"organization_num_employees_ranges: {shown!r} is not a range like '1,10'")
    low, high = (int(g) if g else None for g in found.groups())
    return Range(low, high)


def date_number(day: date | None) -> int | None:
    return None if day is None else day.year * 10_000 + day.month * 100 + day.day


def date_bounds(dates: DateRange) -> Range | None:
    """A date range as YYYYMMDD numbers (how the index holds dates)."""
    low, high = date_number(dates.min), date_number(dates.max)
    return None if low is None and high is None else Range(low, high)


# --- breadcrumbs ----------------------------------------------------------------------------

SENIORITY_NAMES = {
    "owner": "Owner",
    "founder": "Founder",
    "c_suite": "C-Suite",
    "partner": "Partner",
    "vp": "VP",
    "head": "Head",
    "director": "Director",
    "manager": "Manager",
    "senior": "Senior",
    "entry": "Entry",
    "intern": "Intern",
}


def breadcrumb(label: str, field: str, value: Any, display: str) -> dict[str, Any]:
    return {"label": label, "signal_field_name": field, "value": value, "display_name": display}


def list_breadcrumbs(
    label: str, field: str, values: Iterable[str], display: Callable[[str], str] = str
) -> list[dict[str, Any]]:
    return [breadcrumb(label, field, v, display(v)) for v in values if v.strip()]


def employees_display(value: str) -> str:
    low, _, high = value.partition(",")
    return f"{low.strip()}+" if not high.strip() else f"{low.strip()}-{high.strip()}"


def range_breadcrumb(label: str, field: str, bounds: NumberRange) -> list[dict[str, Any]]:
    if bounds.bounds() is None:
        return []
    return [breadcrumb(label, field, {"min": bounds.min, "max": bounds.max}, bounds.display())]


def date_breadcrumb(label: str, field: str, dates: DateRange) -> list[dict[str, Any]]:
    if dates.min is None and dates.max is None:
        return []
    shown = f"{dates.min or ''} - {dates.max or ''}".strip()
    value = {"min": dates.min and dates.min.isoformat(), "max": dates.max and dates.max.isoformat()}
    return [breadcrumb(label, field, value, shown)]


def text_breadcrumb(label: str, field: str, text: str | None) -> list[dict[str, Any]]:
    value = (text or "").strip()
    return [breadcrumb(label, field, value, value)] if value else []


def employees_breadcrumbs(params: OrganizationCriteria) -> list[dict[str, Any]]:
    ranges = params.organization_num_employees_ranges
    return list_breadcrumbs("# Employees", "organization_num_employees_ranges", ranges, employees_display)


def organization_breadcrumbs(params: OrganizationCriteria) -> list[dict[str, Any]]:
    """The organization filters' breadcrumbs that follow the people filters', in Apollo's order
    (company domains last)."""
    p = params
    crumbs = [
        *list_breadcrumbs("Company Locations", "organization_locations", p.organization_locations),
        *list_breadcrumbs(
            "Excluded Company Locations", "organization_not_locations", p.organization_not_locations
        ),
        *list_breadcrumbs(
            "Company Keywords Contain ANY Of", "q_organization_keyword_tags", p.q_organization_keyword_tags
        ),
        *list_breadcrumbs("Companies", "organization_ids", p.organization_ids),
        *range_breadcrumb("Revenue", "revenue_range", p.revenue_range),
        *_technology_breadcrumbs(p),
        *range_breadcrumb("Total Funding", "total_funding_range", p.total_funding_range),
        *range_breadcrumb(
            "Latest Funding Amount", "latest_funding_amount_range", p.latest_funding_amount_range
        ),
        *date_breadcrumb("Latest Funding Date", "latest_funding_date_range", p.latest_funding_date_range),
        *_job_breadcrumbs(p),
    ]
    domains = p.domains()
    if domains:
        field = "q_organization_domains" if p.q_organization_domains else "q_organization_domains_list"
        crumbs.append(breadcrumb("Company Domains", field, domains, ", ".join(domains)))
    return crumbs


def _technology_breadcrumbs(p: OrganizationCriteria) -> list[dict[str, Any]]:
    return [
        *list_breadcrumbs(
            "Currently Using Any Of",
            "currently_using_any_of_technology_uids",
            p.currently_using_any_of_technology_uids,
        ),
        *list_breadcrumbs(
            "Currently Using All Of",
            "currently_using_all_of_technology_uids",
            p.currently_using_all_of_technology_uids,
        ),
        *list_breadcrumbs(
            "Currently Not Using Any Of",
            "currently_not_using_any_of_technology_uids",
            p.currently_not_using_any_of_technology_uids,
        ),
    ]


def _job_breadcrumbs(p: OrganizationCriteria) -> list[dict[str, Any]]:
    return [
        *list_breadcrumbs("Job Titles", "q_organization_job_titles", p.q_organization_job_titles),
        *list_breadcrumbs("Job Locations", "organization_job_locations", p.organization_job_locations),
        *range_breadcrumb("# Job Postings", "organization_num_jobs_range", p.organization_num_jobs_range),
        *date_breadcrumb(
            "Job Posted At", "organization_job_posted_at_range", p.organization_job_posted_at_range
        ),
    ]


def company_breadcrumbs(params: CompanySearchParams) -> list[dict[str, Any]]:
    return [
        *text_breadcrumb("Company Name", "q_organization_name", params.q_organization_name),
        *text_breadcrumb("Keywords", "q_keywords", params.q_keywords),
        *employees_breadcrumbs(params),
        *organization_breadcrumbs(params),
    ]
