"""Request parameters of the task endpoints, Apollo's task vocabulary (types, priorities,
statuses) and the ``task_types`` facet buckets of tasks search."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import Field

from perilune.api.errors import Unprocessable
from perilune.api.params import ApolloParams
from perilune.resources.mixed_companies.schemas import SearchPage, SearchParams
from perilune.resources.news_articles.schemas import DateRange

TYPE_AND_USER_BLANK = "type and user can not be blank"
CONTACT_BLANK = "contact_id can not be blank"
CONTACT_IDS_BLANK = "contact_ids can not be blank"
# GET of a task the team does not have, and PATCH of one.
TASK_NOT_FOUND_SHOW = "This task or emailer message has been deleted. Please refresh your page."
TASK_NOT_FOUND_UPDATE = "This task has been deleted. Please refresh your page."
ALREADY_DONE = "This task is already completed / skipped."
INVALID_SORT = "Invalid sort criteria"
INVALID_SEARCH = "Your search parameters are entered incorrectly. Did you try to edit the URL directly?"
PER_PAGE_NOT_SUPPORTED = "Per page not supported"
BULK_LIMIT = 1000
BULK_TOO_MANY = f"Please limit contact_ids to {BULK_LIMIT} contacts or fewer."

SCHEDULED = "scheduled"
COMPLETED = "completed"
SKIPPED = "skipped"
STATUSES = (SCHEDULED, COMPLETED, SKIPPED)
# Highest first: the order sort_by_field=task_priority lists.
PRIORITIES = ("high", "medium", "low")
DEFAULT_PRIORITY = "medium"
# Apollo's task types and the title it shows for a task created without one.
TYPES = {
    "call": "Call {name}",
    "outreach_manual_email": "Email {name}",
    "linkedin_step_connect": "Send a LinkedIn connection request to {name}",
    "linkedin_step_message": "Send a LinkedIn message to {name}",
    "linkedin_step_view_profile": "View the LinkedIn profile of {name}",
    "linkedin_step_interact_post": "Interact with a LinkedIn post of {name}",
    "action_item": "Action item for {name}",
}
# sort_by_field -> what it sorts on; Apollo lists the latest due, highest priority and newest first.
SORT_FIELDS = ("task_due_at", "task_priority", "task_created_at")
DEFAULT_SORT = "task_due_at"
# The task_types facet: (value, display name) buckets in Apollo's order. LinkedIn steps count
# in "linkedin_actions" and again in a bucket of their own type; "Total" counts each task once.
CONTACT_CALL = ("contact_call", "Call Contact")
MANUAL_EMAIL = ("outreach_manual_email", "Email Contact")
CONTACT_ACTION = ("contact_action_item", "Contact Action Item")
ACCOUNT_ACTION = ("account_action_item", "Account Action Item")
LINKEDIN_ACTIONS = ("linkedin_actions", "Linkedin Actions")
LINKEDIN_STEPS = {
    "linkedin_step_connect": "LI: Send connection request",
    "linkedin_step_message": "LI: Send message",
    "linkedin_step_view_profile": "LI: View profile",
    "linkedin_step_interact_post": "LI: Interact with post",
}
# The facets Apollo's task search answers with, empty for tasks.
EMPTY_FACETS = (
    "playbook_step_facets",
    "person_function_facets",
    "person_seniority_facets",
    "normalized_person_title_facets",
    "organization_ids_facets",
    "organization_ids_in_query_facets",
    "person_persona_facets",
    "organization_keywords_facets",
    "linkedin_industry_facets",
    "num_employees_facets",
    "revenues_facets",
    "currently_using_any_of_technology_uids_facets",
    "currently_using_all_of_technology_uids_facets",
    "currently_not_using_any_of_technology_uids_facets",
    "added_technology_uids_facets",
    "dropped_technology_uids_facets",
    "latest_funding_stage_facets",
    "organization_trading_status_facets",
    "person_city_facets",
    "person_state_facets",
    "person_country_facets",
    "organization_hq_city_facets",
    "organization_hq_state_facets",
    "organization_hq_country_facets",
    "organization_intent_scoring_facets",
    "forecast_category_facets",
    "intent_topic_count_facets",
    "linkedin_task",
    "contact_stage_facets",
)


class TaskFields(ApolloParams):
    """What a task write may carry (create, bulk create, update); which were sent matters."""

    user_id: str | None = None
    type: str | None = None
    priority: str | None = None
    status: str | None = None
    due_at: str | None = None
    title: str | None = None
    note: str | None = None
    # Extensions: a task about a deal.
    opportunity_id: str | None = None


class TaskCreateParams(TaskFields):
    contact_id: str | None = None


class TaskBulkCreateParams(TaskFields):
    contact_ids: list[str] = Field(default_factory=list)


class TaskUpdateParams(TaskCreateParams):
    creator_id: str | None = None
    # Apollo's coded priority, for tasks already done (the names of ``priority`` are accepted).
    priority_cd: str | None = None
    call_script: str | None = None
    relevant_fields: list[Any] | None = None


class TaskFinishParams(ApolloParams):
    note: str | None = None


class TaskSearchParams(SearchParams, SearchPage):
    sort_by_field: str | None = None
    sort_ascending: bool = False
    open_factor_names: list[str] = Field(default_factory=list)
    # Filters (each list matches any of its values; the spec names none, Apollo's app sends these).
    task_types: list[str] = Field(default_factory=list)
    task_statuses: list[str] = Field(default_factory=list)
    task_priorities: list[str] = Field(default_factory=list)
    task_user_ids: list[str] = Field(default_factory=list)
    contact_ids: list[str] = Field(default_factory=list)
    account_ids: list[str] = Field(default_factory=list)
    opportunity_ids: list[str] = Field(default_factory=list)
    task_due_date_range: DateRange = Field(default_factory=DateRange)
    q_keywords: str | None = None


def iso_datetime(raw: str, name: str) -> datetime:
    """An ISO 8601 date-time (``2025-02-15T08:10:30Z``, ``2025-03-25T10:15:30+05:00``, the
    spec's ``...+05:00Z``, or a bare date at midnight), as UTC; no zone means GMT, as Apollo
    reads it."""
    text = raw.strip()
    if len(text) > 6 and text.endswith("Z") and text[-7] in "+-" and text[-4] == ":":
        text = text[:-1]
    try:
        parsed = (
            datetime.combine(date.fromisoformat(text), time.min)
            if len(text) == 10
            else datetime.fromisoformat(text)
        )
    except ValueError as exc:
        raise Unprocessable(f"{name} must be an ISO 8601 date-time, e.g. 2025-02-15T08:10:30Z") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def check_choice(value: str, choices: tuple[str, ...] | dict[str, str], name: str) -> str:
    if value not in choices:
        raise Unprocessable(f"{name} must be one of: {', '.join(choices)}")
    return value
