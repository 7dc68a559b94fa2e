"""Linking a team's records to the repository: a contact whose email or LinkedIn URL matches a
repository person gets ``person_id`` and the person's data where the caller left fields empty;
an account whose domain matches an organization gets ``organization_id`` and the organization's
data likewise. Without a repository (no rows), nothing links and everything still works.

A link never gives away what the team has not paid for: the person's work email fills an empty
contact email only if the team has revealed the person; phone numbers are never copied."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.crm.render import ORGANIZATION_BRIEF_FIELDS
from perilune.models import Account, Contact, Organization, Person, PersonReveal

# Person fields (from its Apollo-shaped data) a contact shows, filled when the contact has none.
PERSON_DATA_FIELDS = ("headline", "photo_url", "twitter_url", "facebook_url", "github_url")


async def person_for(session: AsyncSession, email: str | None, linkedin_slug: str | None) -> Person | None:
    """The repository person with this work email, else with this LinkedIn profile."""
    if email:
        found: Person | None = await session.scalar(select(Person).where(Person.email == email).limit(1))
        if found is not None:
            return found
    if linkedin_slug:
        by_slug: Person | None = await session.scalar(
            select(Person).where(Person.linkedin_slug == linkedin_slug).limit(1)
        )
        return by_slug
    return None


async def organization_for_domain(session: AsyncSession, domain: str | None) -> Organization | None:
    if not domain:
        return None
    found: Organization | None = await session.scalar(
        select(Organization).where(Organization.primary_domain == domain).limit(1)
    )
    return found


async def organization(session: AsyncSession, organization_id: str | None) -> Organization | None:
    if not organization_id:
        return None
    return await session.get(Organization, organization_id)


async def _revealed(session: AsyncSession, team_id: str, person_id: str) -> bool:
    found = await session.scalar(
        select(PersonReveal.person_id).where(
            PersonReveal.team_id == team_id, PersonReveal.person_id == person_id
        )
    )
    return found is not None


def _fill(record: Any, name: str, value: Any) -> None:
    if value not in (None, "", []) and getattr(record, name) in (None, ""):
        setattr(record, name, value)


def _fill_data(data: dict[str, Any], source: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    filled = dict(data)
    for name in names:
        value = source.get(name)
        if value not in (None, "", [], {}) and filled.get(name) in (None, ""):
            filled[name] = value
    return filled


async def link_contact(session: AsyncSession, contact: Contact) -> Person | None:
    """Link the contact to the repository person its email or LinkedIn URL names (a contact
    already linked keeps its person: ``person_id`` is protected once set) and fill its empty
    fields from the person and the person's organization. Returns the person linked, if any."""
    if contact.person_id is not None:
        return None
    person = await person_for(session, contact.email, contact.linkedin_slug)
    if person is None:
        return None
    contact.person_id = person.id
    await _fill_from_person(session, contact, person)
    return person


async def _fill_from_person(session: AsyncSession, contact: Contact, person: Person) -> None:
    for name in ("first_name", "last_name", "name", "title"):
        _fill(contact, name, getattr(person, name))
    data = person.data or {}
    _fill(contact, "linkedin_url", data.get("linkedin_url"))
    _fill(contact, "linkedin_slug", person.linkedin_slug)
    if not contact.present_raw_address and not contact.city and not contact.country:
        for name in ("city", "state", "country", "time_zone"):
            _fill(contact, name, getattr(person, name))
        _fill(contact, "present_raw_address", _place(person.city, person.state, person.country))
    contact.data = _fill_data(contact.data or {}, data, PERSON_DATA_FIELDS)
    if person.organization_id:
        _fill(contact, "organization_id", person.organization_id)
        org = await organization(session, person.organization_id)
        if org is not None:
            _fill(contact, "organization_name", org.name)
    if not contact.email and person.email and await _revealed(session, contact.team_id, person.id):
        contact.email = person.email
        contact.email_status = person.email_status


def _place(*parts: str | None) -> str | None:
    text = ", ".join(part for part in parts if part)
    return text or None


async def link_account(session: AsyncSession, account: Account) -> Organization | None:
    """Link the account to the organization its domain names (when it has none yet) and fill its
    empty fields from the organization. Returns the organization linked, if any."""
    org = await organization(session, account.organization_id)
    if org is None:
        org = await organization_for_domain(session, account.domain)
        if org is None:
            return None
        account.organization_id = org.id
    fill_account_from_organization(account, org)
    return org


def fill_account_from_organization(account: Account, org: Organization) -> None:
    data = org.data or {}
    _fill(account, "name", org.name)
    _fill(account, "domain", org.primary_domain)
    if not account.raw_address and not account.city and not account.country:
        for name in ("city", "state", "country"):
            _fill(account, name, getattr(org, name))
        _fill(account, "raw_address", data.get("raw_address") or _place(org.city, org.state, org.country))
    _fill(account, "phone", data.get("phone"))
    _fill(account, "sanitized_phone", data.get("sanitized_phone"))
    names = (
        *(name for name in ORGANIZATION_BRIEF_FIELDS if name != "phone"),
        "industry",
        "estimated_num_employees",
        "keywords",
    )
    source = {**data, "industry": org.industry, "estimated_num_employees": org.estimated_num_employees}
    account.data = _fill_data(account.data or {}, source, names)
