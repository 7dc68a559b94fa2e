"""The team CRM: a team's own contacts, accounts, deals, tasks, lists, custom fields, notes and
calls, with the stages that classify them, the event log of their changes, event-webhook
subscriptions and Idempotency-Key records (see perilune.crm).

Every table carries ``team_id``: every query filters on it, so another team's id is simply not
found. Columns exist for what is filtered, sorted or matched on; the rest of Apollo's many fields
live in a ``data`` JSON object and are rendered with Apollo's defaults."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from perilune.db.ids import new_id
from perilune.models.base import Base, CreatedAtMixin, IdMixin, utcnow

TEAM_FK = "teams.id"
USER_FK = "users.id"

# Apollo's label (list) modalities.
LABEL_MODALITIES = ("contacts", "accounts", "emailer_campaigns")
# Apollo's custom field modalities.
FIELD_MODALITIES = ("contact", "account", "opportunity")
# Delivery states of one event to one subscription.
DELIVERY_PENDING = "pending"
DELIVERY_SUCCESS = "success"
DELIVERY_FAILED = "failed"
DELIVERY_STATUSES = (DELIVERY_PENDING, DELIVERY_SUCCESS, DELIVERY_FAILED)


def _team_id() -> Mapped[str]:
    return mapped_column(ForeignKey(TEAM_FK, ondelete="CASCADE"), index=True)


def _user_ref() -> Mapped[str | None]:
    return mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"))


class TimestampsMixin(CreatedAtMixin):
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContactStage(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "contact_stages"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    team_id: Mapped[str] = _team_id()
    name: Mapped[str] = mapped_column(String(200))
    display_order: Mapped[int] = mapped_column(Integer, default=0)
    category: Mapped[str | None] = mapped_column(String(32))  # in_progress | succeeded | failed
    ignore_trigger_override: Mapped[bool | None] = mapped_column(Boolean)
    is_meeting_set: Mapped[bool | None] = mapped_column(Boolean)


class AccountStage(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "account_stages"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    team_id: Mapped[str] = _team_id()
    name: Mapped[str] = mapped_column(String(200))
    display_order: Mapped[int] = mapped_column(Integer, default=0)
    category: Mapped[str | None] = mapped_column(String(32))
    default_exclude_for_leadgen: Mapped[bool | None] = mapped_column(Boolean)
    is_meeting_set: Mapped[bool | None] = mapped_column(Boolean)


class OpportunityPipeline(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "opportunity_pipelines"

    team_id: Mapped[str] = _team_id()
    name: Mapped[str] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(default=False)


class OpportunityStage(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "opportunity_stages"
    __table_args__ = (UniqueConstraint("team_id", "opportunity_pipeline_id", "name"),)

    team_id: Mapped[str] = _team_id()
    opportunity_pipeline_id: Mapped[str | None] = mapped_column(
        ForeignKey("opportunity_pipelines.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    display_order: Mapped[float] = mapped_column(Float, default=0.0)
    forecast_category_cd: Mapped[str | None] = mapped_column(String(32))
    probability: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str | None] = mapped_column(Text)
    # Apollo's stage type: Open | Closed/Won | Closed/Lost (is_closed and is_won follow from it).
    type: Mapped[str] = mapped_column(String(16), default="Open")
    is_won: Mapped[bool] = mapped_column(default=False)
    is_closed: Mapped[bool] = mapped_column(default=False)
    is_meeting_set: Mapped[bool | None] = mapped_column(Boolean)
    is_editable: Mapped[bool | None] = mapped_column(Boolean)


class Account(IdMixin, TimestampsMixin, Base):
    """A company the team works (Apollo's account), linked to a repository organization when its
    domain matches one."""

    __tablename__ = "accounts"
    __table_args__ = (
        Index("ix_accounts_team_domain", "team_id", "domain"),
        Index("ix_accounts_team_name_key", "team_id", "name_key"),
        Index("ix_accounts_team_created", "team_id", "created_at"),
        Index("ix_accounts_team_updated", "team_id", "updated_at"),
        Index("ix_accounts_team_activity", "team_id", "last_activity_date"),
    )

    team_id: Mapped[str] = _team_id()
    owner_id: Mapped[str | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"), index=True)
    creator_id: Mapped[str | None] = _user_ref()
    organization_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    account_stage_id: Mapped[str | None] = mapped_column(
        ForeignKey("account_stages.id", ondelete="SET NULL"), index=True
    )
    parent_account_id: Mapped[str | None] = mapped_column(String(24))
    name: Mapped[str | None] = mapped_column(String(500))
    # fold(name): what q_organization_name and name dedupe compare against.
    name_key: Mapped[str | None] = mapped_column(String(500))
    # The registrable domain, lower-case (perilune.repository.normalize.registrable_domain).
    domain: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(64))
    sanitized_phone: Mapped[str | None] = mapped_column(String(32))
    raw_address: Mapped[str | None] = mapped_column(String(500))
    city: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str | None] = mapped_column(String(255))
    country: Mapped[str | None] = mapped_column(String(255))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(32), default="api")
    original_source: Mapped[str] = mapped_column(String(32), default="api")
    # CRM identifiers that bulk_create dedupes on.
    salesforce_id: Mapped[str | None] = mapped_column(String(64))
    hubspot_id: Mapped[str | None] = mapped_column(String(64))
    # {custom field id: value}, values checked against the field's type (perilune.crm.fields).
    typed_custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_activity_date: Mapped[datetime | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Contact(IdMixin, TimestampsMixin, Base):
    """A person the team works (Apollo's contact), linked to a repository person when its email
    or LinkedIn URL matches one."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_team_email", "team_id", "email"),
        Index("ix_contacts_team_linkedin", "team_id", "linkedin_slug"),
        Index("ix_contacts_team_created", "team_id", "created_at"),
        Index("ix_contacts_team_updated", "team_id", "updated_at"),
        Index("ix_contacts_team_activity", "team_id", "last_activity_date"),
    )

    team_id: Mapped[str] = _team_id()
    owner_id: Mapped[str | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"), index=True)
    creator_id: Mapped[str | None] = _user_ref()
    person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    organization_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    contact_stage_id: Mapped[str | None] = mapped_column(
        ForeignKey("contact_stages.id", ondelete="SET NULL"), index=True
    )
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(500))
    title: Mapped[str | None] = mapped_column(String(500))
    organization_name: Mapped[str | None] = mapped_column(String(500))
    # Lower-case (perilune.repository.normalize.normalize_email); null when invalid or absent.
    email: Mapped[str | None] = mapped_column(String(320))
    email_status: Mapped[str | None] = mapped_column(String(32))
    linkedin_url: Mapped[str | None] = mapped_column(String(500))
    linkedin_slug: Mapped[str | None] = mapped_column(String(255))
    present_raw_address: Mapped[str | None] = mapped_column(String(500))
    city: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str | None] = mapped_column(String(255))
    country: Mapped[str | None] = mapped_column(String(255))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # The folded words of name, title, company and email: what q_keywords searches.
    keywords: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(32), default="api")
    original_source: Mapped[str] = mapped_column(String(32), default="api")
    # CRM identifiers that run_dedupe matches on (second in Apollo's match order).
    salesforce_lead_id: Mapped[str | None] = mapped_column(String(64))
    salesforce_contact_id: Mapped[str | None] = mapped_column(String(64))
    hubspot_vid: Mapped[str | None] = mapped_column(String(64))
    # [{"raw_number", "sanitized_number", "type", "position", "status"}], Apollo's shape.
    phone_numbers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    typed_custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_activity_date: Mapped[datetime | None]
    email_last_opened_at: Mapped[datetime | None]
    email_last_clicked_at: Mapped[datetime | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Opportunity(IdMixin, TimestampsMixin, Base):
    """A deal."""

    __tablename__ = "opportunities"
    __table_args__ = (
        Index("ix_opportunities_team_created", "team_id", "created_at"),
        Index("ix_opportunities_team_amount", "team_id", "amount"),
    )

    team_id: Mapped[str] = _team_id()
    owner_id: Mapped[str | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"), index=True)
    creator_id: Mapped[str | None] = _user_ref()
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    opportunity_stage_id: Mapped[str | None] = mapped_column(
        ForeignKey("opportunity_stages.id", ondelete="SET NULL"), index=True
    )
    opportunity_pipeline_id: Mapped[str | None] = mapped_column(
        ForeignKey("opportunity_pipelines.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(500))
    amount: Mapped[float | None] = mapped_column(Float)
    closed_date: Mapped[date | None]
    description: Mapped[str | None] = mapped_column(Text)
    is_closed: Mapped[bool] = mapped_column(default=False)
    is_won: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(32), default="api")
    typed_custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stage_updated_at: Mapped[datetime | None]
    last_activity_date: Mapped[datetime | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OpportunityContactRole(IdMixin, CreatedAtMixin, Base):
    """A contact's part in a deal (Apollo's ``opportunity_contact_roles``)."""

    __tablename__ = "opportunity_contact_roles"
    __table_args__ = (UniqueConstraint("opportunity_id", "contact_id"),)

    team_id: Mapped[str] = _team_id()
    opportunity_id: Mapped[str] = mapped_column(ForeignKey("opportunities.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    role: Mapped[str | None] = mapped_column(String(200))


class Task(IdMixin, TimestampsMixin, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_team_due", "team_id", "due_at"),
        Index("ix_tasks_team_created", "team_id", "created_at"),
    )

    team_id: Mapped[str] = _team_id()
    user_id: Mapped[str | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"), index=True)
    creator_id: Mapped[str | None] = _user_ref()
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    opportunity_id: Mapped[str | None] = mapped_column(ForeignKey("opportunities.id", ondelete="SET NULL"))
    person_id: Mapped[str | None] = mapped_column(String(24))
    organization_id: Mapped[str | None] = mapped_column(String(24))
    # A sequence's id once sequences exist (no foreign key until then).
    emailer_campaign_id: Mapped[str | None] = mapped_column(String(24))
    type: Mapped[str] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(16), default="medium")
    status: Mapped[str] = mapped_column(String(32), default="scheduled")
    title: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    skipped_at: Mapped[datetime | None]
    created_from: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Label(IdMixin, TimestampsMixin, Base):
    """A list (Apollo calls them labels): named sets of contacts, accounts or sequences."""

    __tablename__ = "labels"
    __table_args__ = (
        UniqueConstraint("team_id", "modality", "name"),
        CheckConstraint(f"modality IN ({', '.join(repr(m) for m in LABEL_MODALITIES)})", name="modality"),
    )

    team_id: Mapped[str] = _team_id()
    user_id: Mapped[str | None] = _user_ref()
    name: Mapped[str] = mapped_column(String(500))
    modality: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class LabelMembership(CreatedAtMixin, Base):
    """One record on one list. ``entity_type`` is the label's modality in the singular
    (``contact``, ``account``, ``emailer_campaign``)."""

    __tablename__ = "label_memberships"
    __table_args__ = (Index("ix_label_memberships_team_entity", "team_id", "entity_id"),)

    label_id: Mapped[str] = mapped_column(ForeignKey("labels.id", ondelete="CASCADE"), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    team_id: Mapped[str] = _team_id()
    entity_type: Mapped[str] = mapped_column(String(32))


class CustomField(IdMixin, TimestampsMixin, Base):
    """A typed custom field definition (``GET /typed_custom_fields``, ``/fields``). Values live
    on the records' ``typed_custom_fields`` columns, keyed by this id."""

    __tablename__ = "custom_fields"
    __table_args__ = (
        UniqueConstraint("team_id", "modality", "name"),
        CheckConstraint(f"modality IN ({', '.join(repr(m) for m in FIELD_MODALITIES)})", name="modality"),
    )

    team_id: Mapped[str] = _team_id()
    modality: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(500))
    # string | textarea | number | date | datetime | boolean | picklist | multi_picklist | ...
    type: Mapped[str] = mapped_column(String(32))
    # [{"id", "name"}] for picklists, [] otherwise.
    picklist_values: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Note(IdMixin, TimestampsMixin, Base):
    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_team_created", "team_id", "created_at"),)

    team_id: Mapped[str] = _team_id()
    user_id: Mapped[str | None] = _user_ref()
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    opportunity_id: Mapped[str | None] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    content: Mapped[str] = mapped_column(Text, default="")
    pinned_to_top: Mapped[bool] = mapped_column(default=False)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PhoneCall(IdMixin, TimestampsMixin, Base):
    __tablename__ = "phone_calls"
    __table_args__ = (Index("ix_phone_calls_team_start", "team_id", "start_time"),)

    team_id: Mapped[str] = _team_id()
    user_id: Mapped[str | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"), index=True)
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    opportunity_id: Mapped[str | None] = mapped_column(ForeignKey("opportunities.id", ondelete="SET NULL"))
    inbound: Mapped[bool] = mapped_column(default=False)
    from_number: Mapped[str | None] = mapped_column(String(64))
    to_number: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(32))
    start_time: Mapped[datetime | None]
    end_time: Mapped[datetime | None]
    duration: Mapped[int | None] = mapped_column(Integer)
    phone_call_purpose_id: Mapped[str | None] = mapped_column(String(24))
    phone_call_outcome_id: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    logged: Mapped[bool] = mapped_column(default=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CrmEvent(CreatedAtMixin, Base):
    """Append-only log of changes to a team's records (``contact.created``, ``account.updated``
    ...), the source of signed event-webhook deliveries. ``seq`` orders the log exactly (many
    events share a timestamp); ``id`` is the event's public id."""

    __tablename__ = "crm_events"
    __table_args__ = (Index("ix_crm_events_team_seq", "team_id", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(24), unique=True, default=new_id)
    team_id: Mapped[str] = _team_id()
    type: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(24), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class EventWebhookSubscription(IdMixin, TimestampsMixin, Base):
    """A team's event-webhook endpoint: ``event_types`` holds exact types (``contact.created``),
    prefixes (``account.*``) or ``*``."""

    __tablename__ = "event_webhook_subscriptions"

    team_id: Mapped[str] = _team_id()
    url: Mapped[str] = mapped_column(Text)
    event_types: Mapped[list[str]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str | None] = mapped_column(String(500))


class EventDelivery(IdMixin, CreatedAtMixin, Base):
    """One event to one subscription, sent by the ``crm.events.deliver`` job."""

    __tablename__ = "event_deliveries"
    __table_args__ = (
        Index("ix_event_deliveries_subscription", "subscription_id", "created_at"),
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in DELIVERY_STATUSES)})", name="status"),
    )

    team_id: Mapped[str] = _team_id()
    event_id: Mapped[str] = mapped_column(ForeignKey("crm_events.id", ondelete="CASCADE"), index=True)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("event_webhook_subscriptions.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16), default=DELIVERY_PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failure_reason: Mapped[str | None] = mapped_column(Text)


class IdempotencyRecord(IdMixin, CreatedAtMixin, Base):
    """The first answer to a write sent with an ``Idempotency-Key``: a repeat of the same request
    within 24 hours gets it again and changes nothing."""

    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("team_id", "key"),
        Index("ix_idempotency_records_created", "created_at"),
    )

    team_id: Mapped[str] = _team_id()
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the method, path and canonical parameters.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # Null while the first request is still running.
    status_code: Mapped[int | None] = mapped_column(Integer)
    # The JSON body answered (an object, an array or ``true``).
    response: Mapped[Any] = mapped_column(JSON, nullable=True)
