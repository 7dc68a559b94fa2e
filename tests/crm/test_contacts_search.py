"""POST /contacts/search, /contacts/update_stages and /contacts/update_owners on records whose
right answers are known: keyword, stage and list filters, the five sorts, pagination,
breadcrumbs, Apollo's errors and team isolation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from perilune.clock import FrozenClock
from perilune.models import Contact, ContactStage, User
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_tenant
from tests.crm.crm_client import DIALECTS, PREFIXES, call, events, ok

PEOPLE = (
    # first, last, title, company, email
    ("Tim", "Zheng", "Founder & CEO", "Apollo", "tim@apollo.io"),
    ("Ava", "Ruiz", "VP of Sales", "Sumware Software", "ava@sumware.com"),
    ("Matthew", "Helm", "CEO", "Helm Industries", "matt@helm.example"),
    ("Olive", "Apolloni", "Engineer", "Braingenie", "olive@braingenie.example"),
)


async def seed(client: httpx.AsyncClient, clock: FrozenClock, key: str) -> list[dict[str, Any]]:
    """The four people, created a minute apart (so creation order is known)."""
    created = []
    for first, last, title, company, email in PEOPLE:
        clock.advance(60)
        params = {
            "first_name": first,
            "last_name": last,
            "title": title,
            "organization_name": company,
            "email": email,
        }
        body = await ok(await call(client, "POST", "/api/v1/contacts", key, params))
        created.append(body["contact"])
    return created


async def search(client: httpx.AsyncClient, key: str, dialect: str = "json", **params: Any) -> dict[str, Any]:
    result: dict[str, Any] = await ok(
        await call(client, "POST", "/api/v1/contacts/search", key, params, dialect=dialect)
    )
    return result


def names(body: dict[str, Any]) -> list[str]:
    return [contact["first_name"] for contact in body["contacts"]]


async def stages(runtime: Runtime, team_id: str) -> dict[str, str]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(ContactStage.name, ContactStage.id).where(ContactStage.team_id == team_id)
        )
        return {str(name): str(stage_id) for name, stage_id in rows}


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("prefix", PREFIXES)
async def test_the_legacy_search_example(
    client: httpx.AsyncClient, clock: FrozenClock, tenant: Tenant, prefix: str, dialect: str
) -> None:
    await seed(client, clock, tenant.master_key)
    params = {
        "q_keywords": "Tim Zheng, CEO, Apollo",
        "sort_by_field": "contact_last_activity_date",
        "sort_ascending": False,
    }
    body = await ok(
        await call(client, "POST", f"{prefix}/contacts/search", tenant.master_key, params, dialect=dialect)
    )
    assert set(body) >= {"contacts", "breadcrumbs", "partial_results_only", "disable_eu_prospecting",
                         "partial_results_limit", "pagination", "num_fetch_result"}  # fmt: skip
    assert names(body) == ["Tim"]
    assert body["pagination"] == {"page": 1, "per_page": 25, "total_entries": 1, "total_pages": 1}
    assert body["breadcrumbs"] == [
        {
            "label": "Contains Keywords",
            "signal_field_name": "q_keywords",
            "value": "Tim Zheng, CEO, Apollo",
            "display_name": "Tim Zheng, CEO, Apollo",
        }
    ]
    assert (body["partial_results_only"], body["partial_results_limit"], body["num_fetch_result"]) == (
        False,
        10000,
        None,
    )


@pytest.mark.parametrize(
    ("q_keywords", "expected"),
    [
        ("ceo", ["Matthew", "Tim"]),  # titles
        ("apollo", ["Olive", "Tim"]),  # a company, a last name that starts with it
        ("sumware.com", ["Ava"]),  # an email domain
        ("VP sales", ["Ava"]),  # every word must match
        ("matt", ["Matthew"]),  # a word's beginning
        ("ollo", []),  # not the middle of a word
        ("", ["Olive", "Matthew", "Ava", "Tim"]),
    ],
)
async def test_q_keywords_searches_name_title_company_and_email(
    client: httpx.AsyncClient, clock: FrozenClock, tenant: Tenant, q_keywords: str, expected: list[str]
) -> None:
    await seed(client, clock, tenant.master_key)
    assert names(await search(client, tenant.master_key, q_keywords=q_keywords)) == expected


async def test_stage_and_list_filters(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    tim, ava, matt, olive = await seed(client, clock, tenant.master_key)
    ids = await stages(runtime, tenant.team_id)
    await ok(
        await call(
            client, "POST", "/api/v1/contacts/update_stages", tenant.master_key,
            {"contact_ids": [tim["id"], ava["id"]], "contact_stage_id": ids["Interested"]},
        )
    )  # fmt: skip
    for contact in (ava, matt):
        patched = await call(
            client, "PATCH", f"/api/v1/contacts/{contact['id']}", tenant.master_key, {"label_names": ["hot"]}
        )
        hot = (await ok(patched))["contact"]["label_ids"]
    await call(
        client, "PATCH", f"/api/v1/contacts/{olive['id']}", tenant.master_key, {"label_names": ["cold"]}
    )
    body = await search(client, tenant.master_key, contact_stage_ids=[ids["Interested"]])
    assert names(body) == ["Ava", "Tim"]
    assert body["breadcrumbs"] == [
        {"label": "Contact Stage", "signal_field_name": "contact_stage_ids", "value": ids["Interested"],
         "display_name": "Interested"}
    ]  # fmt: skip
    either = await search(client, tenant.master_key, contact_stage_ids=[ids["Interested"], ids["New"]])
    assert names(either) == ["Olive", "Matthew", "Ava", "Tim"]
    body = await search(client, tenant.master_key, contact_label_ids=hot, dialect="query")
    assert names(body) == ["Matthew", "Ava"]
    both = await search(
        client,
        tenant.master_key,
        contact_label_ids=hot,
        contact_stage_ids=[ids["Interested"]],
        dialect="form",
    )
    assert names(both) == ["Ava"]


async def test_malformed_filter_ids_and_unknown_sorts_are_apollos_422(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await call(
        client, "POST", "/api/v1/contacts/search", tenant.master_key, {"contact_stage_ids": ["2342432"]}
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": "Your search parameters are entered incorrectly. Did you try to edit the URL directly?"
    }
    response = await call(
        client, "POST", "/api/v1/contacts/search", tenant.master_key, {"sort_by_field": "name"}
    )
    assert response.status_code == 422
    assert response.json() == {"error": "Invalid sort criteria", "skip_alert_dialog": True}


@pytest.mark.parametrize(
    ("field", "column"),
    [
        ("contact_created_at", "created_at"),
        ("contact_updated_at", "updated_at"),
        ("contact_last_activity_date", "last_activity_date"),
        ("contact_email_last_opened_at", "email_last_opened_at"),
        ("contact_email_last_clicked_at", "email_last_clicked_at"),
    ],
)
async def test_each_sort_field_most_recent_first_or_ascending(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, field: str, column: str
) -> None:
    contacts = await seed(client, clock, tenant.master_key)
    # A known order unlike creation order: Ava newest, then Olive, then Tim; Matthew has none
    # (for the dates a contact may lack) and so comes last both ways.
    base = clock.now()
    when = {
        "Ava": base + timedelta(days=3),
        "Olive": base + timedelta(days=2),
        "Tim": base + timedelta(days=1),
    }
    async with runtime.sessions() as session, session.begin():
        for contact in contacts:
            value = when.get(contact["first_name"])
            if column in ("created_at", "updated_at") and value is None:
                value = base - timedelta(days=1)
            await session.execute(update(Contact).where(Contact.id == contact["id"]).values({column: value}))
    descending = names(await search(client, tenant.master_key, sort_by_field=field))
    ascending = names(await search(client, tenant.master_key, sort_by_field=field, sort_ascending=True))
    assert descending == ["Ava", "Olive", "Tim", "Matthew"]
    if column in ("created_at", "updated_at"):
        assert ascending == ["Matthew", "Tim", "Olive", "Ava"]
    else:
        assert ascending == ["Tim", "Olive", "Ava", "Matthew"]


async def test_pagination(client: httpx.AsyncClient, clock: FrozenClock, tenant: Tenant) -> None:
    await seed(client, clock, tenant.master_key)
    pages = [
        await search(
            client,
            tenant.master_key,
            per_page=3,
            page=page,
            sort_by_field="contact_created_at",
            sort_ascending=True,
        )
        for page in (1, 2, 3)
    ]
    assert [names(page) for page in pages] == [["Tim", "Ava", "Matthew"], ["Olive"], []]
    assert pages[0]["pagination"] == {"page": 1, "per_page": 3, "total_entries": 4, "total_pages": 2}
    assert (await search(client, tenant.master_key, per_page=500))["pagination"]["per_page"] == 100


async def test_search_results_embed_the_account(
    client: httpx.AsyncClient, clock: FrozenClock, tenant: Tenant
) -> None:
    account = await ok(
        await call(
            client, "POST", "/api/v1/accounts", tenant.master_key, {"name": "Apollo", "domain": "apollo.io"}
        )
    )
    await seed(client, clock, tenant.master_key)
    [tim] = (await search(client, tenant.master_key, q_keywords="tim"))["contacts"]
    assert tim["account_id"] == account["account"]["id"]
    assert tim["account"]["id"] == account["account"]["id"]
    assert tim["account"]["num_contacts"] == 1


async def test_search_is_for_paid_plans(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    free = await make_tenant(runtime, clock, name="Free", plan="free")
    response = await call(client, "POST", "/api/v1/contacts/search", free.master_key, {})
    assert response.status_code == 403
    assert response.json() == {"message": "This endpoint is only available to Apollo users on paid plans."}


async def test_search_sees_only_the_callers_team(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    mine = await seed(client, clock, tenant.master_key)
    other = await make_tenant(runtime, clock, name="Other")
    assert (await search(client, other.master_key))["contacts"] == []
    hot = await ok(
        await call(
            client, "PATCH", f"/api/v1/contacts/{mine[0]['id']}", tenant.master_key, {"label_names": ["hot"]}
        )
    )
    body = await search(
        client,
        other.master_key,
        contact_label_ids=hot["contact"]["label_ids"],
        contact_stage_ids=[mine[0]["contact_stage_id"]],
    )
    assert body["contacts"] == [] and body["pagination"]["total_entries"] == 0
    # The other team's breadcrumbs do not name this team's stage.
    assert body["breadcrumbs"][0]["display_name"] == "[Deleted Stage]"


# ---------------------------------------------------------------------------------------------
# update_stages and update_owners


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_update_stages_example(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, dialect: str
) -> None:
    tim, ava, *_ = await seed(client, clock, tenant.master_key)
    stage = (await stages(runtime, tenant.team_id))["Replied"]
    clock.advance(5)
    params = {"contact_ids": [tim["id"], ava["id"]], "contact_stage_id": stage}
    body = await ok(
        await call(client, "POST", "/v1/contacts/update_stages", tenant.master_key, params, dialect=dialect)
    )
    assert sorted(c["id"] for c in body["contacts"]) == sorted([tim["id"], ava["id"]])
    assert all(c["contact_stage_id"] == stage for c in body["contacts"])
    assert all(c["updated_at"] != c["created_at"] for c in body["contacts"])
    assert len(await events(runtime, tenant.team_id, "contact.updated")) == 2


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_update_owners_example(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, dialect: str
) -> None:
    tim, ava, *_ = await seed(client, clock, tenant.master_key)
    async with runtime.sessions() as session, session.begin():
        colleague = User(
            team_id=tenant.team_id, email="sam@acme.test", first_name="Sam", created_at=clock.now()
        )
        session.add(colleague)
    params = {"contact_ids": [tim["id"], ava["id"]], "owner_id": colleague.id}
    body = await ok(
        await call(client, "POST", "/v1/contacts/update_owners", tenant.master_key, params, dialect=dialect)
    )
    assert [(c["id"], c["owner_id"], c["crm_owner_id"]) for c in body["contacts"]] == [
        (tim["id"], colleague.id, None),
        (ava["id"], colleague.id, None),
    ]


@pytest.mark.parametrize(
    ("path", "params", "error"),
    [
        (
            "update_stages",
            {"contact_stage_id": "66e34b81740c50074e3d1bd4"},
            "Required parameter 'contact_ids' missing",
        ),
        (
            "update_stages",
            {"contact_ids": ["66e34b81740c50074e3d1bd4"]},
            "Required parameter 'contact_stage_id' missing",
        ),
        (
            "update_owners",
            {"owner_id": "66e34b81740c50074e3d1bd4"},
            "Required parameter 'contact_ids' missing",
        ),
        (
            "update_owners",
            {"contact_ids": ["66e34b81740c50074e3d1bd4"]},
            "Required parameter 'owner_id' missing",
        ),
        (
            "update_stages",
            {"contact_ids": ["x"], "contact_stage_id": "2342432"},
            "Parameters misconfigured. 2342432 is not a valid ID",
        ),
        (
            "update_owners",
            {"contact_ids": ["x"], "owner_id": "2342432"},
            "Parameters misconfigured. 2342432 is not a valid ID",
        ),
    ],
)
async def test_stage_and_owner_errors(
    client: httpx.AsyncClient, tenant: Tenant, path: str, params: dict[str, Any], error: str
) -> None:
    response = await call(client, "POST", f"/api/v1/contacts/{path}", tenant.master_key, params)
    assert response.status_code == 422
    assert response.json() == {"error": error}


async def test_stage_and_owner_changes_leave_other_teams_alone(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    mine = await seed(client, clock, tenant.master_key)
    other = await make_tenant(runtime, clock, name="Other")
    their_stage = (await stages(runtime, other.team_id))["Replied"]
    ids = [contact["id"] for contact in mine]
    body = await ok(
        await call(
            client,
            "POST",
            "/api/v1/contacts/update_stages",
            other.master_key,
            {"contact_ids": ids, "contact_stage_id": their_stage},
        )
    )
    assert body == {"contacts": []}
    body = await ok(
        await call(
            client,
            "POST",
            "/api/v1/contacts/update_owners",
            other.master_key,
            {"contact_ids": ids, "owner_id": other.user_id},
        )
    )
    assert body == {"contacts": []}
    # Nor can this team use the other team's stage or user on its own contacts.
    for params in ({"contact_stage_id": their_stage}, {"owner_id": other.user_id}):
        path = "update_stages" if "contact_stage_id" in params else "update_owners"
        response = await call(
            client, "POST", f"/api/v1/contacts/{path}", tenant.master_key, {"contact_ids": ids, **params}
        )
        assert response.status_code == 422
    async with runtime.sessions() as session:
        rows = (
            await session.execute(
                select(Contact.owner_id, Contact.contact_stage_id).where(Contact.id.in_(ids))
            )
        ).all()
    assert {row[0] for row in rows} == {tenant.user_id}
    assert {row[1] for row in rows} == {(await stages(runtime, tenant.team_id))["New"]}
    assert await events(runtime, other.team_id) == []
