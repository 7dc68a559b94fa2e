"""The team CRM's shared pieces, used by the contacts, accounts, opportunities, tasks, labels,
fields, notes and phone_calls resources (the tables are in perilune.models.crm).

- ``stages``: Apollo's default contact, account and deal stages; ``add_default_stages`` (new
  teams, from auth.admin.create_team), ``ensure_default_stages`` (teams older than the CRM, on
  first use), ``default_stage_id``, ``stage_for``.
- ``lookups``: team-scoped lookups (another team's id is "not found"), ``invalid_id`` (Apollo's
  "Parameters misconfigured. <id> is not a valid ID" 422), ``validate_owner``.
- ``labels``: lists by name (``label_names`` creates missing ones), memberships, counts, and
  Apollo's list object.
- ``fields``: typed custom field values checked by type (``validate_values``, ``merge_values``).
- ``events``: ``record_event`` (the append-only event log) and the signed event-webhook
  deliveries (job ``crm.events.deliver``).
- ``idempotency``: the ``Idempotency-Key`` dependency for writes.
- ``render``: Apollo's contact and account objects (embedded by tasks, deals and calls too).
- ``linking``: contacts and accounts linked to repository people and organizations.
- ``writer``: ``Writer`` (team, user, clock reading) carried by every write.
"""

from perilune.crm.events import EVENT_TYPES, event_body, record_event, subscribes_to
from perilune.crm.events import job_handlers as job_handlers
from perilune.crm.lookups import (
    find_in_team,
    find_many_in_team,
    invalid_id,
    require_in_team,
    team_user_ids,
    validate_owner,
)
from perilune.crm.stages import add_default_stages, default_stage_id, ensure_default_stages, stage_for

__all__ = [
    "EVENT_TYPES",
    "add_default_stages",
    "default_stage_id",
    "ensure_default_stages",
    "event_body",
    "find_in_team",
    "find_many_in_team",
    "invalid_id",
    "job_handlers",
    "record_event",
    "require_in_team",
    "stage_for",
    "subscribes_to",
    "team_user_ids",
    "validate_owner",
]
