"""GET /people/{id} against a real database (SQLite and PostgreSQL): the person object with its
organization, history and phones; the locked email until the team has revealed the person, the
direct numbers and personal emails only once those kinds were revealed; one credit per person
returned."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import bindparam, func, select, text

from perilune.clock import FrozenClock
from perilune.models import CreditLedgerEntry, Organization, Person, PersonReveal
from perilune.resources.people.schemas import LOCKED_EMAIL
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_scoped_key, make_tenant, spend_credits
from tests.search.rows import OrgSpec, PersonSpec, add_organization, add_person

PREFIXES = ("/api/v1", "/v1")
ENDPOINT = "api/v1/people/show"


async def seed_person(runtime: Runtime, spec: PersonSpec | None = None, *, with_org: bool = True) -> Person:
    async with runtime.sessions() as session, session.begin():
        org = await add_organization(session, OrgSpec()) if with_org else None
        return await add_person(session, spec or PersonSpec(), org)


async def reveal(
    runtime: Runtime,
    team_id: str,
    person_id: str,
    *,
    phone_numbers: bool = False,
    personal_emails: bool = False,
) -> None:
    """Store the team's reveal of the person: the email, and exactly the kinds named."""
    async with runtime.sessions() as session, session.begin():
        stored = await session.get(PersonReveal, (team_id, person_id))
        if stored is None:
            stored = PersonReveal(team_id=team_id, person_id=person_id)
            session.add(stored)
        stored.phone_numbers = phone_numbers
        stored.personal_emails = personal_emails


async def show(
    client: httpx.AsyncClient, key: str, person_id: str, prefix: str = "/api/v1"
) -> httpx.Response:
    return await client.get(f"{prefix}/people/{person_id}", headers={"x-api-key": key})


async def shown(
    client: httpx.AsyncClient, key: str, person_id: str, prefix: str = "/api/v1"
) -> dict[str, Any]:
    response = await show(client, key, person_id, prefix)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"person"}
    person: dict[str, Any] = body["person"]
    return person


async def charges(runtime: Runtime, team_id: str) -> list[tuple[str, int, str | None]]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(CreditLedgerEntry.credit_type, CreditLedgerEntry.amount, CreditLedgerEntry.endpoint)
            .where(CreditLedgerEntry.team_id == team_id, CreditLedgerEntry.amount < 0)
            .order_by(CreditLedgerEntry.created_at)
        )
        return [(kind, amount, endpoint) for kind, amount, endpoint in rows]


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_person_shape(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, prefix: str) -> None:
    person = await seed_person(runtime)
    body = await shown(client, tenant.master_key, person.id, prefix)
    assert body["id"] == person.id
    assert (body["first_name"], body["last_name"], body["name"]) == ("Ava", "Ruiz", "Ava Ruiz")
    assert body["title"] == "VP of Sales"
    assert body["headline"] == "VP of Sales at Sumware Software"
    assert body["linkedin_url"] == "http://www.linkedin.com/in/ava-ruiz-1a2b3c"
    assert (body["city"], body["state"], body["country"]) == ("San Francisco", "California", "United States")
    assert body["time_zone"] == "America/Los_Angeles"
    assert body["seniority"] == "vp"
    assert (body["departments"], body["subdepartments"], body["functions"]) == (["sales"], [], ["sales"])
    for field in ("departments", "subdepartments", "functions", "employment_history", "phone_numbers"):
        assert isinstance(body[field], list), field
    org = body["organization"]
    assert body["organization_id"] == org["id"]
    assert org["name"] == "Sumware Software"
    assert org["primary_domain"] == "sumware.com"
    assert org["estimated_num_employees"] == 250
    assert org["keywords"] == ["sales engagement", "b2b", "saas"]
    assert org["suborganizations"] == []  # stored as null: never null on the wire
    assert "account" not in org and "account_id" not in org  # another team's CRM data
    history = body["employment_history"]
    assert [(job["organization_name"], job["current"]) for job in history] == [
        ("Sumware Software", True),
        ("Braingenie", False),
    ]
    job = history[0]
    assert job["organization_id"] == org["id"]
    assert job["id"] == job["_id"] == job["key"]
    assert (job["start_date"], job["end_date"], job["title"]) == ("2020-01-01", None, "VP of Sales")
    assert history[1]["organization_id"] is None


async def test_email_is_locked_until_the_team_reveals_the_person(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    person = await seed_person(runtime)
    locked = await shown(client, tenant.master_key, person.id)
    assert locked["email"] == LOCKED_EMAIL == "email_not_unlocked@domain.com"
    assert locked["email_status"] == "verified"
    assert locked["revealed_for_current_team"] is False
    assert locked["hashed_email"] is None
    assert locked["personal_emails"] == []
    assert [p["type"] for p in locked["phone_numbers"]] == ["work_hq"]  # the switchboard only
    assert "ava.ruiz@sumware.com" not in str(locked) and "ava.r@gmail.com" not in str(locked)

    await reveal(runtime, tenant.team_id, person.id)
    revealed = await shown(client, tenant.master_key, person.id)
    assert revealed["email"] == "ava.ruiz@sumware.com"
    assert revealed["email_status"] == "verified"
    assert revealed["revealed_for_current_team"] is True
    assert revealed["hashed_email"] == person.email_md5
    # An email reveal unlocks the email only: the mobile and the personal emails are other kinds.
    assert revealed["personal_emails"] == []
    assert [p["type"] for p in revealed["phone_numbers"]] == ["work_hq"]
    assert "+1 415-555-0199" not in str(revealed) and "ava.r@gmail.com" not in str(revealed)


async def test_each_kind_shows_once_revealed(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    person = await seed_person(runtime)
    await reveal(runtime, tenant.team_id, person.id, phone_numbers=True)
    phoned = await shown(client, tenant.master_key, person.id)
    assert phoned["email"] == "ava.ruiz@sumware.com"
    assert phoned["personal_emails"] == []
    phones = phoned["phone_numbers"]
    assert [(p["raw_number"], p["sanitized_number"], p["type"], p["position"]) for p in phones] == [
        ("+1 415-555-0100", "+14155550100", "work_hq", 0),
        ("+1 415-555-0199", "+14155550199", "mobile", 1),
    ]
    assert phones[0]["status"] == "valid_number" and phones[0]["dnc_status"] is None

    await reveal(runtime, tenant.team_id, person.id, personal_emails=True)
    emailed = await shown(client, tenant.master_key, person.id)
    assert emailed["personal_emails"] == ["ava.r@gmail.com"]
    assert [p["type"] for p in emailed["phone_numbers"]] == ["work_hq"]


async def test_a_reveal_stored_before_reveal_kinds_shows_the_email_only(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    """A row written without the kinds (as before migration 0007) takes the columns' server
    defaults: the email, not the numbers or the personal emails nobody paid for."""
    person = await seed_person(runtime)
    columns = PersonReveal.__table__.c
    statement = text(
        "INSERT INTO person_reveals (team_id, person_id, revealed_at) VALUES (:team, :person, :at)"
    ).bindparams(bindparam("at", type_=columns.revealed_at.type))
    async with runtime.sessions() as session, session.begin():
        await session.execute(statement, {"team": tenant.team_id, "person": person.id, "at": clock.now()})
    body = await shown(client, tenant.master_key, person.id)
    assert (body["email"], body["revealed_for_current_team"]) == ("ava.ruiz@sumware.com", True)
    assert body["personal_emails"] == []
    assert [p["type"] for p in body["phone_numbers"]] == ["work_hq"]


async def test_personal_emails_are_withheld_once_the_person_is_in_a_gdpr_region(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    person = await seed_person(runtime)
    await reveal(runtime, tenant.team_id, person.id, personal_emails=True)
    assert (await shown(client, tenant.master_key, person.id))["personal_emails"] == ["ava.r@gmail.com"]
    # A later import moves her to Berlin: the reveal stays, her personal emails are withheld.
    async with runtime.sessions() as session, session.begin():
        stored = await session.get(Person, person.id)
        assert stored is not None
        stored.city, stored.state, stored.country, stored.country_code = "Berlin", None, "Germany", "DE"
    moved = await shown(client, tenant.master_key, person.id)
    assert moved["personal_emails"] == []
    assert moved["email"] == "ava.ruiz@sumware.com"


async def test_a_reveal_belongs_to_one_team(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Globex")
    person = await seed_person(runtime)
    await reveal(runtime, other.team_id, person.id)
    assert (await shown(client, other.master_key, person.id))["email"] == "ava.ruiz@sumware.com"
    mine = await shown(client, tenant.master_key, person.id)
    assert mine["email"] == LOCKED_EMAIL
    assert mine["revealed_for_current_team"] is False


async def test_extrapolated_and_missing_emails(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    guessed = await seed_person(
        runtime, PersonSpec("Ben", "Okafor", "Engineer", "ben@sumware.com", "extrapolated")
    )
    body = await shown(client, tenant.master_key, guessed.id)
    assert (body["email"], body["email_status"]) == ("ben@sumware.com", "extrapolated")
    nothing = await seed_person(runtime, PersonSpec("Cy", "Twombly", "Painter", None, None))
    body = await shown(client, tenant.master_key, nothing.id)
    assert (body["email"], body["email_status"]) == (None, "unavailable")
    bounced = await seed_person(runtime, PersonSpec("Al", "Bounce", "Clerk", "al@gone.test", "bounced"))
    await reveal(runtime, tenant.team_id, bounced.id)
    body = await shown(client, tenant.master_key, bounced.id)
    assert (body["email"], body["email_status"]) == (None, "unavailable")


async def test_a_person_without_an_organization(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    person = await seed_person(runtime, PersonSpec(past_jobs=[]), with_org=False)
    body = await shown(client, tenant.master_key, person.id)
    assert body["organization_id"] is None
    assert body["organization"] == {}
    assert body["employment_history"] == []


@pytest.mark.parametrize("person_id", ["0" * 24, "abc", "ZZZZZZZZZZZZZZZZZZZZZZZZ", "6" * 25, "%00"])
async def test_an_unknown_person_is_apollos_422(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, person_id: str
) -> None:
    response = await show(client, tenant.master_key, person_id)
    assert response.status_code == 422
    assert response.json() == {"error": "Person does not exist."}
    assert await charges(runtime, tenant.team_id) == []


async def test_each_person_shown_costs_one_credit(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    person = await seed_person(runtime)
    for _ in range(3):
        await shown(client, tenant.master_key, person.id)
    assert await charges(runtime, tenant.team_id) == [("lead_credit", -1, ENDPOINT)] * 3
    response = await client.post(
        "/api/v1/usage_stats/credit_usage_stats", headers={"x-api-key": tenant.master_key}
    )
    lead = response.json()["credit_usage_stats"]["lead_credit"]
    assert lead == {"limit": 10000, "consumed": 3, "left_over": 9997}


async def test_without_credits_nothing_is_shown(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    person = await seed_person(runtime)
    await spend_credits(runtime, clock, tenant.team_id, "lead_credit", 10000)
    response = await show(client, tenant.master_key, person.id)
    assert response.status_code == 422
    assert response.json() == {"error": "Insufficient credits. Please upgrade your plan."}
    assert len(await charges(runtime, tenant.team_id)) == 1  # only the test's own spend


async def test_key_scope_and_key_in_query(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    person = await seed_person(runtime)
    scoped = await make_scoped_key(runtime, clock, tenant, ENDPOINT)
    response = await client.get(f"/v1/people/{person.id}", params={"api_key": scoped})
    assert response.status_code == 200
    elsewhere = await make_scoped_key(runtime, clock, tenant, "api/v1/users/search")
    response = await show(client, elsewhere, person.id)
    assert response.status_code == 403
    assert response.json()["error_code"] == "API_INACCESSIBLE"
    assert ENDPOINT in response.json()["error"]
    response = await client.get(f"/api/v1/people/{person.id}")
    assert response.status_code == 401


async def test_stored_fields_do_not_override_the_columns(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    person = await seed_person(runtime)
    async with runtime.sessions() as session, session.begin():
        stored = await session.get(Person, person.id)
        assert stored is not None
        stored.title = "Chief Revenue Officer"
        stored.data = {**stored.data, "organization": {"name": "stale"}, "contact_id": "x" * 24}
        org = await session.scalar(select(Organization).where(Organization.id == stored.organization_id))
        assert org is not None
        org.name = "Sumware Inc."
        count = await session.scalar(select(func.count()).select_from(Person))
    body = await shown(client, tenant.master_key, person.id)
    assert count == 1
    assert body["title"] == "Chief Revenue Officer"
    assert body["organization"]["name"] == "Sumware Inc."
    assert "contact_id" not in body
