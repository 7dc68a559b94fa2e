"""Contacts and accounts linked to the repository: a contact whose email or LinkedIn URL names a
repository person gets person_id and the person's data where it had none (the work email only
if the team revealed the person); an account whose domain names an organization gets
organization_id and the organization's data; a contact joins the team's account on its company
domain."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import update

from perilune.clock import FrozenClock
from perilune.models import Organization, Person, PersonReveal
from perilune.repository.normalize import linkedin_slug
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_tenant
from tests.crm.crm_client import call, ok
from tests.search.rows import OrgSpec, PersonSpec, add_organization, add_person

AVA_LINKEDIN = "https://www.linkedin.com/in/ava-ruiz-1a2b3c"


async def seed_repository(runtime: Runtime) -> tuple[Organization, Person]:
    async with runtime.sessions() as session, session.begin():
        org = await add_organization(session, OrgSpec())
        person = await add_person(session, PersonSpec(), org)
        await session.execute(
            update(Person).where(Person.id == person.id).values(linkedin_slug=linkedin_slug(AVA_LINKEDIN))
        )
        return org, person


async def create_contact(client: httpx.AsyncClient, key: str, **params: Any) -> dict[str, Any]:
    body = await ok(await call(client, "POST", "/api/v1/contacts", key, params))
    contact: dict[str, Any] = body["contact"]
    return contact


async def test_a_contact_with_a_known_email_is_linked_and_filled(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    org, person = await seed_repository(runtime)
    contact = await create_contact(
        client, tenant.master_key, email="Ava.Ruiz@sumware.com", title="Head of Sales"
    )
    assert contact["person_id"] == person.id
    assert contact["organization_id"] == org.id
    # Empty fields come from the repository; what the caller gave is kept.
    assert (contact["first_name"], contact["last_name"], contact["name"]) == ("Ava", "Ruiz", "Ava Ruiz")
    assert contact["title"] == "Head of Sales"
    assert contact["organization_name"] == "Sumware Software"
    assert (contact["city"], contact["state"], contact["country"], contact["time_zone"]) == (
        "San Francisco",
        "California",
        "United States",
        "America/Los_Angeles",
    )
    assert contact["headline"] == "VP of Sales at Sumware Software"
    assert contact["email"] == "ava.ruiz@sumware.com"
    # The person's phone numbers are never copied: the team has not paid for them.
    assert contact["phone_numbers"] == []


async def test_a_linkedin_match_fills_the_email_only_once_revealed(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    _, person = await seed_repository(runtime)
    hidden = await create_contact(client, tenant.master_key, linkedin_url=AVA_LINKEDIN)
    assert hidden["person_id"] == person.id
    assert hidden["first_name"] == "Ava"
    assert hidden["email"] is None
    async with runtime.sessions() as session, session.begin():
        session.add(PersonReveal(team_id=tenant.team_id, person_id=person.id, revealed_at=clock.now()))
    revealed = await create_contact(client, tenant.master_key, linkedin_url=AVA_LINKEDIN)
    assert (revealed["email"], revealed["email_status"]) == ("ava.ruiz@sumware.com", "verified")


async def test_an_update_that_adds_an_email_links_the_contact(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    _, person = await seed_repository(runtime)
    contact = await create_contact(client, tenant.master_key, first_name="A.")
    assert contact["person_id"] is None
    body = await ok(
        await call(
            client,
            "PATCH",
            f"/api/v1/contacts/{contact['id']}",
            tenant.master_key,
            {"email": "ava.ruiz@sumware.com"},
        )
    )
    assert body["contact"]["person_id"] == person.id
    assert body["contact"]["first_name"] == "A."  # kept: only empty fields are filled


async def test_the_website_gives_the_organization_unless_an_email_does(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    org, _ = await seed_repository(runtime)
    by_site = await create_contact(
        client, tenant.master_key, first_name="Kim", website_url="https://www.sumware.com/about"
    )
    assert (by_site["organization_id"], by_site["organization_name"]) == (org.id, "Sumware Software")
    # A valid email wins over website_url, and a free mailbox names no company.
    by_mail = await create_contact(
        client,
        tenant.master_key,
        first_name="Kim",
        email="kim@gmail.com",
        website_url="https://www.sumware.com",
    )
    assert by_mail["organization_id"] is None


async def test_a_contact_joins_the_teams_account_on_its_domain(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Other")
    await ok(await call(client, "POST", "/api/v1/accounts", other.master_key, {"domain": "westeros.com"}))
    account = (
        await ok(
            await call(client, "POST", "/api/v1/accounts", tenant.master_key, {"domain": "westeros.com"})
        )
    )["account"]
    contact = await create_contact(client, tenant.master_key, first_name="Jon", email="jon@westeros.com")
    assert contact["account_id"] == account["id"]
    # Another team's account on the same domain is never used.
    theirs = await create_contact(client, other.master_key, first_name="Jon", email="jon@westeros.com")
    assert theirs["account_id"] not in (None, account["id"])


async def test_an_account_on_a_known_domain_is_linked_and_filled(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    org, _ = await seed_repository(runtime)
    body = await ok(
        await call(client, "POST", "/api/v1/accounts", tenant.master_key, {"domain": "https://sumware.com"})
    )
    account = body["account"]
    assert (account["organization_id"], account["domain"], account["name"]) == (
        org.id,
        "sumware.com",
        "Sumware Software",
    )
    assert (account["city"], account["state"], account["country"]) == (
        "San Francisco",
        "California",
        "United States",
    )
    assert account["website_url"] == "http://www.sumware.com"
    assert account["phone"] == "+1 415-555-0100"
    # A name the caller gives is kept.
    named = await ok(
        await call(
            client,
            "POST",
            "/api/v1/accounts",
            tenant.master_key,
            {"domain": "sumware.com", "name": "Sumware EMEA"},
        )
    )
    assert (named["account"]["name"], named["account"]["organization_id"]) == ("Sumware EMEA", org.id)
