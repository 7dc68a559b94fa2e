"""The wire shape of Apollo's task object and of the ``task_types`` facet."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from perilune.api.envelopes import timestamp
from perilune.crm.render import activity_timestamp
from perilune.models import Task
from perilune.resources.tasks.schemas import (
    ACCOUNT_ACTION,
    CONTACT_ACTION,
    CONTACT_CALL,
    LINKEDIN_ACTIONS,
    LINKEDIN_STEPS,
    MANUAL_EMAIL,
    TYPES,
)


@dataclass(frozen=True)
class TaskContext:
    """The records a task shows embedded, as their own endpoints render them."""

    contact: dict[str, Any] | None = None
    account: dict[str, Any] | None = None
    opportunity: dict[str, Any] | None = None


def _defaults() -> dict[str, Any]:
    return {
        "answered": None,
        "persona_ids": [],
        "subject": None,
        "salesforce_type": None,
        "playbook_step_ids": [],
        "playbook_id": None,
        "needs_playbook_autoprospecting": None,
        "starred_by_user_ids": [],
        "salesforce_id": None,
        "hubspot_id": None,
        "rule_config_id": None,
        "completed_by_user_id": None,
        "call_script": None,
        "relevant_fields": None,
        "pending_send": False,
        "ai_variables_status": None,
        "recommended": False,
        "recommendation_reasons": [],
        "relevant_field_values": {},
    }


def task_title(task: Task, context: TaskContext) -> str | None:
    """The task's own title, else the one Apollo shows: its type and whom it is about."""
    if task.title:
        return task.title
    about = next(
        (body.get("name") for body in (context.contact, context.account, context.opportunity) if body),
        None,
    )
    template = TYPES.get(task.type)
    if template is None or not about:
        return None
    return template.format(name=about)


def task_object(task: Task, context: TaskContext) -> dict[str, Any]:
    body = _defaults()
    body.update(task.data or {})
    body.update(
        {
            "id": task.id,
            "emailer_campaign_id": task.emailer_campaign_id,
            "user_id": task.user_id,
            "creator_id": task.creator_id,
            "created_at": timestamp(task.created_at),
            "updated_at": timestamp(task.updated_at),
            "completed_at": activity_timestamp(task.completed_at),
            "skipped_at": activity_timestamp(task.skipped_at),
            "due_at": activity_timestamp(task.due_at),
            "note": task.note,
            "note_text": task.note,
            "type": task.type,
            "priority": task.priority,
            "status": task.status,
            "contact_id": task.contact_id,
            "person_id": task.person_id,
            "account_id": task.account_id,
            "organization_id": task.organization_id,
            "opportunity_id": task.opportunity_id,
            "created_from": task.created_from,
            "title": task_title(task, context),
        }
    )
    for name in ("contact", "account", "opportunity"):
        embedded = getattr(context, name)
        if embedded is not None:
            body[name] = embedded
    return body


def facet_bucket(kind: str, has_contact: bool) -> tuple[str, str] | None:
    if kind == "call":
        return CONTACT_CALL
    if kind == "outreach_manual_email":
        return MANUAL_EMAIL
    if kind == "action_item":
        return CONTACT_ACTION if has_contact else ACCOUNT_ACTION
    if kind in LINKEDIN_STEPS:
        return LINKEDIN_ACTIONS
    return None


def task_type_facets(counts: Iterable[tuple[str, bool, int]]) -> list[dict[str, Any]]:
    """Apollo's ``task_types`` facet: the buckets that hold tasks, in Apollo's order."""
    tally: Counter[tuple[str, str]] = Counter()
    for kind, has_contact, total in counts:
        bucket = facet_bucket(kind, has_contact)
        if bucket is not None:
            tally[bucket] += total
        if kind in LINKEDIN_STEPS:
            tally[(kind, LINKEDIN_STEPS[kind])] += total
    order = [
        CONTACT_CALL,
        MANUAL_EMAIL,
        CONTACT_ACTION,
        ACCOUNT_ACTION,
        LINKEDIN_ACTIONS,
        *LINKEDIN_STEPS.items(),
    ]
    return [
        {"value": value, "display_name": display, "count": tally[(value, display)]}
        for value, display in order
        if tally[(value, display)]
    ]
