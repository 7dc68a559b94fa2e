"""Wire shapes of Apollo's contact and account objects, shared by every resource that shows them
(contacts, accounts, and the contacts and accounts embedded in tasks, deals and calls).

Apollo's fields that Perilune has no notion of (Salesforce sync, arcgate requests, playbooks)
keep Apollo's neutral defaults; ``data`` overlays them; the columns are authoritative."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.envelopes import timestamp
from perilune.crm.labels import label_ids_of
from perilune.models import Account, Contact, Organization

# The create/update parameters naming a phone, and the type Apollo gives the number.
PHONE_TYPES = {
    "direct_phone": "work_direct",
    "corporate_phone": "work_hq",
    "mobile_phone": "mobile",
    "home_phone": "home",
    "other_phone": "other",
}
SOURCE_DISPLAY_NAMES = {
    "api": "Created from API",
    "csv_import": "Uploaded from CSV",
    "deployment": "Requested from Apollo",
    "search": "Added from Apollo search",
    "crm": "Synced from CRM",
}
# Fields of a repository organization shown on the accounts and contacts linked to it.
ORGANIZATION_BRIEF_FIELDS = (
    "website_url",
    "blog_url",
    "angellist_url",
    "linkedin_url",
    "twitter_url",
    "facebook_url",
    "primary_phone",
    "languages",
    "alexa_ranking",
    "phone",
    "linkedin_uid",
    "founded_year",
    "publicly_traded_symbol",
    "publicly_traded_exchange",
    "logo_url",
    "crunchbase_url",
    "primary_domain",
)


def activity_timestamp(value: datetime | None) -> str | None:
    """Activity dates as Apollo writes them: ``2018-06-26T16:30:35.000+00:00``."""
    return timestamp(value, zone="+00:00")


def _contact_defaults() -> dict[str, Any]:
    return {
        "contact_roles": [],
        "email_needs_tickling": None,
        "headline": None,
        "photo_url": None,
        "linkedin_uid": None,
        "extrapolated_email_confidence": None,
        "salesforce_id": None,
        "salesforce_account_id": None,
        "salesforce_owner_id": None,
        "crm_owner_id": None,
        "lead_request_id": None,
        "test_predictive_score": None,
        "emailer_campaign_ids": [],
        "email_manually_changed": False,
        "direct_dial_status": None,
        "direct_dial_enrichment_failed_at": None,
        "email_source": None,
        "hubspot_company_id": None,
        "crm_id": None,
        "merged_crm_ids": [],
        "queued_for_crm_push": False,
        "starred_by_user_ids": [],
        "suggested_from_rule_engine_config_id": None,
        "email_unsubscribed": None,
        "has_pending_email_arcgate_request": False,
        "has_email_arcgate_request": False,
        "existence_level": "full",
        "custom_field_errors": {},
        "crm_record_url": None,
        "email_status_unavailable_reason": None,
        "contact_rule_config_statuses": [],
        "twitter_url": None,
        "contact_campaign_statuses": [],
        "contact_emails": [],
        "next_contact_id": None,
        "show_intent": False,
        "account_phone_note": None,
        "is_likely_to_engage": False,
        "email_domain_catchall": False,
    }


def contact_object(contact: Contact, label_ids: Sequence[str]) -> dict[str, Any]:
    body = _contact_defaults()
    body.update(contact.data or {})
    body.update(
        {
            "id": contact.id,
            "team_id": contact.team_id,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "name": contact.name,
            "linkedin_url": contact.linkedin_url,
            "title": contact.title,
            "contact_stage_id": contact.contact_stage_id,
            "owner_id": contact.owner_id,
            "creator_id": contact.creator_id,
            "person_id": contact.person_id,
            "organization_name": contact.organization_name,
            "source": contact.source,
            "original_source": contact.original_source,
            "source_display_name": SOURCE_DISPLAY_NAMES.get(contact.source, contact.source),
            "organization_id": contact.organization_id,
            "account_id": contact.account_id,
            "present_raw_address": contact.present_raw_address,
            "city": contact.city,
            "state": contact.state,
            "country": contact.country,
            "time_zone": contact.time_zone,
            "salesforce_lead_id": contact.salesforce_lead_id,
            "salesforce_contact_id": contact.salesforce_contact_id,
            "hubspot_vid": contact.hubspot_vid,
            "email": contact.email,
            "email_status": contact.email_status,
            "email_from_customer": bool(body.get("email_from_customer")) if contact.email else None,
            "email_true_status": "User Managed"
            if body.get("email_from_customer") and contact.email
            else None,
            "updated_email_true_status": bool(body.get("email_from_customer") and contact.email),
            "free_domain": bool(body.get("free_domain")),
            "phone_numbers": list(contact.phone_numbers or []),
            "sanitized_phone": _first_sanitized(contact.phone_numbers),
            "typed_custom_fields": dict(contact.typed_custom_fields or {}),
            "label_ids": list(label_ids),
            "last_activity_date": activity_timestamp(contact.last_activity_date),
            "created_at": timestamp(contact.created_at),
            "updated_at": timestamp(contact.updated_at),
        }
    )
    return body


def _first_sanitized(phones: list[dict[str, Any]] | None) -> str | None:
    for phone in phones or []:
        if phone.get("sanitized_number"):
            return str(phone["sanitized_number"])
    return None


def account_object(account: Account, label_ids: Sequence[str], *, num_contacts: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = {
        "linkedin_url": None,
        "crm_owner_id": None,
        "crm_record_url": None,
        "phone_status": "no_status",
        "test_predictive_score": None,
        "account_playbook_statuses": [],
        "account_rule_config_statuses": [],
        "existence_level": "full",
        "custom_field_errors": {},
        "modality": "account",
        "persona_counts": {},
        "contact_emailer_campaign_ids": [],
        "contact_campaign_status_tally": {},
        "show_intent": False,
        "has_intent_signal_account": False,
        "intent_signal_account": None,
    }
    body.update(account.data or {})
    body.update(
        {
            "id": account.id,
            "name": account.name,
            "domain": account.domain,
            "team_id": account.team_id,
            "organization_id": account.organization_id,
            "account_stage_id": account.account_stage_id,
            "source": account.source,
            "original_source": account.original_source,
            "source_display_name": SOURCE_DISPLAY_NAMES.get(account.source, account.source),
            "creator_id": account.creator_id,
            "owner_id": account.owner_id,
            "parent_account_id": account.parent_account_id,
            "phone": account.phone,
            "sanitized_phone": account.sanitized_phone,
            "hubspot_id": account.hubspot_id,
            "salesforce_id": account.salesforce_id,
            "raw_address": account.raw_address,
            "city": account.city,
            "state": account.state,
            "country": account.country,
            "time_zone": account.time_zone,
            "label_ids": list(label_ids),
            "typed_custom_fields": dict(account.typed_custom_fields or {}),
            "num_contacts": num_contacts,
            "last_activity_date": activity_timestamp(account.last_activity_date),
            "created_at": timestamp(account.created_at),
            "updated_at": timestamp(account.updated_at),
        }
    )
    return body


def organization_brief(org: Organization) -> dict[str, Any]:
    """The repository organization as a contact's ``organization`` shows it."""
    data = org.data or {}
    body: dict[str, Any] = {name: data.get(name) for name in ORGANIZATION_BRIEF_FIELDS}
    body.update({"id": org.id, "name": org.name, "primary_domain": org.primary_domain})
    body["languages"] = data.get("languages") if isinstance(data.get("languages"), list) else []
    body["primary_phone"] = data.get("primary_phone") if isinstance(data.get("primary_phone"), dict) else {}
    body["founded_year"] = org.founded_year
    return body


async def contact_counts(session: AsyncSession, team_id: str, account_ids: Collection[str]) -> dict[str, int]:
    """How many of the team's contacts each account has."""
    if not account_ids:
        return {}
    rows = await session.execute(
        select(Contact.account_id, func.count())
        .where(Contact.team_id == team_id, Contact.account_id.in_(list(account_ids)))
        .group_by(Contact.account_id)
    )
    return {str(account_id): int(count) for account_id, count in rows}


async def account_objects(
    session: AsyncSession, team_id: str, accounts: Sequence[Account]
) -> list[dict[str, Any]]:
    """Accounts rendered with their list ids and contact counts (two queries for the lot)."""
    ids = [account.id for account in accounts]
    labels = await label_ids_of(session, team_id, ids)
    counts = await contact_counts(session, team_id, ids)
    return [
        account_object(account, labels.get(account.id, []), num_contacts=counts.get(account.id, 0))
        for account in accounts
    ]


async def contact_objects(
    session: AsyncSession, team_id: str, contacts: Sequence[Contact], *, embed: bool = False
) -> list[dict[str, Any]]:
    """Contacts rendered with their list ids; with ``embed`` (search results) also their
    ``account`` and repository ``organization`` objects, as Apollo's search shows them."""
    labels = await label_ids_of(session, team_id, [contact.id for contact in contacts])
    bodies = [contact_object(contact, labels.get(contact.id, [])) for contact in contacts]
    if embed:
        await _embed(session, team_id, contacts, bodies)
    return bodies


async def _embed(
    session: AsyncSession, team_id: str, contacts: Sequence[Contact], bodies: list[dict[str, Any]]
) -> None:
    account_ids = {contact.account_id for contact in contacts if contact.account_id}
    org_ids = {contact.organization_id for contact in contacts if contact.organization_id}
    accounts: dict[str, dict[str, Any]] = {}
    if account_ids:
        rows = (
            await session.execute(
                select(Account).where(Account.team_id == team_id, Account.id.in_(account_ids))
            )
        ).scalars()
        accounts = {body["id"]: body for body in await account_objects(session, team_id, list(rows))}
    orgs: dict[str, dict[str, Any]] = {}
    if org_ids:
        found = (await session.execute(select(Organization).where(Organization.id.in_(org_ids)))).scalars()
        orgs = {org.id: organization_brief(org) for org in found}
    for contact, body in zip(contacts, bodies, strict=True):
        if contact.account_id in accounts:
            body["account"] = accounts[contact.account_id]
        if contact.organization_id in orgs:
            body["organization"] = orgs[contact.organization_id]
