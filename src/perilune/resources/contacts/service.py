"""Contacts: create (with run_dedupe), view, update, search, stage and owner changes, bulk
create and bulk update. Every change is recorded as a ``contact.*`` event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.envelopes import pagination
from perilune.api.errors import Unprocessable
from perilune.auth.context import Caller
from perilune.crm import labels as crm_labels
from perilune.crm.events import record_event
from perilune.crm.linking import link_contact, organization_for_domain
from perilune.crm.lookups import find_in_team, find_many_in_team, invalid_id
from perilune.crm.render import contact_objects
from perilune.crm.search_text import refresh_keywords
from perilune.crm.stages import default_stage_id, ensure_default_stages, stage_for, stages_session
from perilune.crm.writer import Writer
from perilune.db.ids import is_valid_id, new_id
from perilune.db.sessions import Sessions
from perilune.models import Contact, ContactStage, Label
from perilune.repository.normalize import email_domain, fold, is_personal_domain
from perilune.resources.contacts import repository
from perilune.resources.contacts.changes import (
    ContactInput,
    apply_input,
    check_input,
    contact_input,
)
from perilune.resources.contacts.schemas import (
    CONTACT_NOT_FOUND,
    INVALID_SEARCH,
    INVALID_SORT,
    MISSING_CONTACT_IDS,
    MISSING_OWNER_ID,
    MISSING_STAGE_ID,
    SORT_FIELDS,
    ContactCreateParams,
    ContactFields,
    ContactSearchParams,
    UpdateOwnersParams,
    UpdateStagesParams,
    stage_object,
)

CREATED = "contact.created"
UPDATED = "contact.updated"
LABEL_MODALITY = "contacts"
ENTITY = "contact"


# -- reading ----------------------------------------------------------------------------------


async def list_stages(sessions: Sessions, caller: Caller) -> dict[str, Any]:
    session = await stages_session(sessions, caller.team_id)
    return {
        "contact_stages": [stage_object(stage) for stage in await repository.stages(session, caller.team_id)]
    }


async def get_contact(session: AsyncSession, caller: Caller, contact_id: str) -> dict[str, Any]:
    contact = await _existing(session, caller.team_id, contact_id)
    return await contact_answer(session, caller.team_id, contact)


async def _existing(session: AsyncSession, team_id: str, contact_id: str) -> Contact:
    contact = await find_in_team(session, Contact, team_id, contact_id)
    if contact is None:
        raise Unprocessable(CONTACT_NOT_FOUND)
    return contact


async def contact_answer(session: AsyncSession, team_id: str, contact: Contact) -> dict[str, Any]:
    """``{"contact": ..., "labels": [...]}``: the contact and the lists it is on."""
    body = (await contact_objects(session, team_id, [contact]))[0]
    lists = await find_many_in_team(session, Label, team_id, body["label_ids"])
    return {"contact": body, "labels": await crm_labels.label_objects(session, team_id, lists)}


# -- writing ----------------------------------------------------------------------------------


async def new_contact(session: AsyncSession, writer: Writer, given: ContactInput) -> Contact:
    """A contact from checked input: default stage and owner, repository link, account by
    domain, lists and custom fields."""
    contact = Contact(
        id=new_id(writer.now.timestamp()),
        team_id=writer.team_id,
        owner_id=writer.user_id,
        creator_id=writer.user_id,
        source="api",
        original_source="api",
        phone_numbers=[],
        typed_custom_fields={},
        data={},
        keywords="",
        created_at=writer.now,
        updated_at=writer.now,
    )
    apply_input(contact, given, writer.now)
    if contact.contact_stage_id is None:
        contact.contact_stage_id = await default_stage_id(session, ContactStage, writer.team_id)
    await _link(session, contact, given)
    session.add(contact)
    await session.flush()
    await _set_labels(session, writer, contact, given, replace=False)
    return contact


async def _link(session: AsyncSession, contact: Contact, given: ContactInput) -> None:
    """Repository person (email or LinkedIn URL), then the company: the team's account on the
    contact's company domain, and the repository organization on it."""
    await link_contact(session, contact)
    domain = _company_domain(contact, given)
    if domain and contact.account_id is None and not given.has("account_id"):
        account = await repository.account_for_domain(session, contact.team_id, domain)
        if account is not None:
            contact.account_id = account.id
            contact.organization_id = contact.organization_id or account.organization_id
    if domain and contact.organization_id is None:
        org = await organization_for_domain(session, domain)
        if org is not None:
            contact.organization_id = org.id
            contact.organization_name = contact.organization_name or org.name
    refresh_keywords(contact)


def _company_domain(contact: Contact, given: ContactInput) -> str | None:
    """The company's domain: the email's (unless a free mailbox), else website_url's (which
    Apollo ignores when a valid email is given)."""
    if contact.email:
        domain = email_domain(contact.email)
        return domain if domain and not is_personal_domain(domain) else None
    return given.website_domain


async def _set_labels(
    session: AsyncSession, writer: Writer, contact: Contact, given: ContactInput, *, replace: bool
) -> None:
    if given.label_names is None:
        return
    lists = await crm_labels.labels_named(
        session, writer.team_id, LABEL_MODALITY, given.label_names, user_id=writer.user_id, now=writer.now
    )
    if replace:
        await crm_labels.replace_members(session, writer.team_id, ENTITY, contact.id, lists, writer.now)
    else:
        await crm_labels.add_members(session, writer.team_id, ENTITY, [contact.id], lists, writer.now)


async def update_contact_in_place(
    session: AsyncSession, writer: Writer, contact: Contact, given: ContactInput, *, protect: bool = False
) -> Contact:
    """Apply checked input to an existing contact (PUT/PATCH, a dedupe match, bulk update)."""
    relink = given.has("email") or given.has("linkedin_url")
    apply_input(contact, given, writer.now, protect=protect)
    if relink or given.website_domain:
        await _link(session, contact, given)
    await _set_labels(session, writer, contact, given, replace=True)
    await session.flush()
    return contact


async def _checked_input(session: AsyncSession, team_id: str, params: ContactFields) -> ContactInput:
    given = contact_input(params)
    await check_input(session, team_id, given)
    return given


async def emit(
    session: AsyncSession, writer: Writer, event: str, contacts: Sequence[Contact]
) -> list[dict[str, Any]]:
    """Render the contacts and record one event each; returns the rendered objects."""
    bodies = await contact_objects(session, writer.team_id, contacts)
    for contact, body in zip(contacts, bodies, strict=True):
        await record_event(session, writer.team_id, event, contact.id, body, writer.now)
    return bodies


async def create_contact(
    session: AsyncSession, caller: Caller, params: ContactCreateParams, now: datetime
) -> dict[str, Any]:
    writer = Writer.of(caller, now)
    await ensure_default_stages(session, writer.team_id, now)
    given = await _checked_input(session, writer.team_id, params)
    match = await find_duplicate(session, writer.team_id, params, given) if params.run_dedupe else None
    if match is not None:
        contact = match[0]
        await update_contact_in_place(session, writer, contact, given, protect=True)
        await emit(session, writer, UPDATED, [contact])
    else:
        contact = await new_contact(session, writer, given)
        await emit(session, writer, CREATED, [contact])
    answer = await contact_answer(session, writer.team_id, contact)
    answer["team"] = {"id": writer.team_id, "contacts_finder_empty": False}
    if params.run_dedupe:
        answer["dedupe_result"] = {
            "found_existing": match is not None,
            "match_reason": match[1] if match else None,
            "existing_contact_id": contact.id if match else None,
        }
    return answer


async def find_duplicate(
    session: AsyncSession, team_id: str, params: ContactFields, given: ContactInput
) -> tuple[Contact, str] | None:
    """Apollo's match order, first hit wins: id, CRM ids, person_id, email, then name plus
    company (email domain, organization_id or organization_name)."""
    values = given.values
    record_id = getattr(params, "id", None)
    found: Contact | None = await find_in_team(session, Contact, team_id, record_id) if record_id else None
    if found is not None:
        return found, "id_match"
    found = await repository.by_crm_ids(
        session,
        team_id,
        values.get("salesforce_lead_id"),
        values.get("salesforce_contact_id"),
        values.get("hubspot_vid"),
    )
    if found is not None:
        return found, "crm_id_match"
    if values.get("person_id") and (
        found := await repository.by_person(session, team_id, values["person_id"])
    ):
        return found, "person_id_match"
    if values.get("email") and (found := await repository.by_email(session, team_id, values["email"])):
        return found, "email_match"
    found = await _name_and_company(session, team_id, given)
    return (found, "name_and_company_match") if found is not None else None


async def _name_and_company(session: AsyncSession, team_id: str, given: ContactInput) -> Contact | None:
    first, last = given.values.get("first_name"), given.values.get("last_name")
    if not first or not last:
        return None
    domain = email_domain(given.values.get("email"))
    company = fold(given.values.get("organization_name"))
    org_id = given.values.get("organization_id")
    for candidate in await repository.by_name(session, team_id, first, last):
        if domain and not is_personal_domain(domain) and email_domain(candidate.email) == domain:
            return candidate
        if org_id and candidate.organization_id == org_id:
            return candidate
        if company and fold(candidate.organization_name) == company:
            return candidate
    return None


async def update_contact(
    session: AsyncSession, caller: Caller, contact_id: str, params: ContactFields, now: datetime
) -> dict[str, Any]:
    writer = Writer.of(caller, now)
    contact = await _existing(session, writer.team_id, contact_id)
    given = await _checked_input(session, writer.team_id, params)
    await update_contact_in_place(session, writer, contact, given)
    await emit(session, writer, UPDATED, [contact])
    return await contact_answer(session, writer.team_id, contact)


async def update_stages(
    session: AsyncSession, caller: Caller, params: UpdateStagesParams, now: datetime
) -> dict[str, Any]:
    if not params.contact_ids:
        raise Unprocessable(MISSING_CONTACT_IDS)
    if not params.contact_stage_id:
        raise Unprocessable(MISSING_STAGE_ID)
    await ensure_default_stages(session, caller.team_id, now)
    if await stage_for(session, ContactStage, caller.team_id, params.contact_stage_id) is None:
        raise invalid_id(params.contact_stage_id)
    return await _set_on_each(
        session, Writer.of(caller, now), params.contact_ids, {"contact_stage_id": params.contact_stage_id}
    )


async def update_owners(
    session: AsyncSession, caller: Caller, params: UpdateOwnersParams, now: datetime
) -> dict[str, Any]:
    if not params.contact_ids:
        raise Unprocessable(MISSING_CONTACT_IDS)
    if not params.owner_id:
        raise Unprocessable(MISSING_OWNER_ID)
    given = ContactInput(values={"owner_id": params.owner_id})
    await check_input(session, caller.team_id, given)
    return await _set_on_each(session, Writer.of(caller, now), params.contact_ids, given.values)


async def _set_on_each(
    session: AsyncSession, writer: Writer, contact_ids: list[str], values: dict[str, Any]
) -> dict[str, Any]:
    """Set the same checked values on the team's contacts among ``contact_ids`` (other ids
    change nothing and are left out of the answer)."""
    contacts = await find_many_in_team(session, Contact, writer.team_id, contact_ids)
    for contact in contacts:
        apply_input(contact, ContactInput(values=dict(values)), writer.now)
    await session.flush()
    return {"contacts": await emit(session, writer, UPDATED, contacts)}


# -- search -----------------------------------------------------------------------------------


async def search_contacts(
    session: AsyncSession, caller: Caller, params: ContactSearchParams
) -> dict[str, Any]:
    where = _filter(caller.team_id, params)
    total = await repository.count(session, where)
    contacts = await repository.search(session, where, offset=params.offset, limit=params.limit)
    return {
        "contacts": await contact_objects(session, caller.team_id, contacts, embed=True),
        "breadcrumbs": await _breadcrumbs(session, caller.team_id, params),
        "partial_results_only": False,
        "has_join": False,
        "disable_eu_prospecting": False,
        "partial_results_limit": 10000,
        "pagination": pagination(params, total),
        "num_fetch_result": None,
    }


def _filter(team_id: str, params: ContactSearchParams) -> repository.ContactFilter:
    sort_column = None
    if params.sort_by_field:
        sort_column = SORT_FIELDS.get(params.sort_by_field)
        if sort_column is None:
            raise Unprocessable(INVALID_SORT, skip_alert_dialog=True)
    if not all(is_valid_id(value) for value in [*params.contact_stage_ids, *params.contact_label_ids]):
        raise Unprocessable(INVALID_SEARCH)
    return repository.ContactFilter(
        team_id=team_id,
        keywords=repository.keyword_words(params.q_keywords),
        stage_ids=params.contact_stage_ids,
        label_ids=params.contact_label_ids,
        sort_column=sort_column,
        ascending=params.sort_ascending,
    )


async def _breadcrumbs(
    session: AsyncSession, team_id: str, params: ContactSearchParams
) -> list[dict[str, Any]]:
    crumbs: list[dict[str, Any]] = []
    if params.q_keywords:
        crumbs.append(_crumb("Contains Keywords", "q_keywords", params.q_keywords, params.q_keywords))
    stages = await repository.stage_names(session, team_id, params.contact_stage_ids)
    for stage_id in params.contact_stage_ids:
        crumbs.append(
            _crumb("Contact Stage", "contact_stage_ids", stage_id, stages.get(stage_id, "[Deleted Stage]"))
        )
    names = await repository.label_names(session, team_id, params.contact_label_ids)
    for label_id in params.contact_label_ids:
        crumbs.append(_crumb("Lists", "contact_label_ids", label_id, names.get(label_id, "[Deleted List]")))
    return crumbs


def _crumb(label: str, field: str, value: str, display_name: str) -> dict[str, Any]:
    return {"label": label, "signal_field_name": field, "value": value, "display_name": display_name}
