"""POST /people/match against a repository imported through the importer (SQLite and
PostgreSQL): the reference docs' example, noisy queries, misses, the confidence extension, the
reveal seen by GET /people/{id}, GDPR and the parameter dialects."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from perilune.clock import FrozenClock
from perilune.resources.people.schemas import LOCKED_EMAIL
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_scoped_key, make_tenant
from tests.enrichment.conftest import APOLLO, CATHERINE, MARIA, ROBERT, ROY, TIM
from tests.enrichment.support import (
    EMPLOYMENT_KEYS,
    PREFIXES,
    answer,
    call,
    ledger,
    matched,
    md5,
    reveals,
    sha256,
)

pytestmark = pytest.mark.usefixtures("repository")

# The person fields of the reference docs' example answer (the team's CRM account and contact
# aside: Perilune has no CRM record of these people).
DOCUMENTED_PERSON_KEYS = {
    "id", "first_name", "last_name", "name", "linkedin_url", "title", "email_status", "photo_url",
    "twitter_url", "github_url", "facebook_url", "extrapolated_email_confidence", "headline",
    "email", "organization_id", "employment_history", "state", "city", "country", "organization",
    "phone_numbers", "intent_strength", "show_intent", "revealed_for_current_team", "hashed_email",
    "personal_emails", "departments", "subdepartments", "functions", "seniority",
}  # fmt: skip

# The legacy docs' People Enrichment request: an id that is no id ("XXXX") and an email that is
# not Tim's, beside a name, an employer, his email's MD5 and his LinkedIn URL.
LEGACY_EXAMPLE = {
    "id": "583f2f7ed9ced98ab5bfXXXX",
    "first_name": "Tim",
    "last_name": "Zheng",
    "organization_name": "Apollo",
    "email": "name@domain.io",
    "hashed_email": "8d935115b9ff4489f2d1f9249503cadf",
    "domain": "apollo.io",
    "linkedin_url": "http://www.linkedin.com/in/tim-zheng-677ba010",
}


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_the_reference_example_answers_with_the_documented_shape(
    client: httpx.AsyncClient, tenant: Tenant, prefix: str
) -> None:
    body = await answer(client, tenant.master_key, "/people/match", LEGACY_EXAMPLE, prefix=prefix)
    assert set(body) == {"person"}
    person = body["person"]
    assert set(person) >= DOCUMENTED_PERSON_KEYS
    assert person["id"] == TIM
    assert (person["first_name"], person["last_name"], person["name"]) == ("Tim", "Zheng", "Tim Zheng")
    assert person["linkedin_url"] == "http://www.linkedin.com/in/tim-zheng-677ba010"
    assert (person["email"], person["email_status"]) == ("tim@apollo.io", "verified")
    assert person["hashed_email"] == md5("tim@apollo.io")
    assert person["revealed_for_current_team"] is True
    assert person["personal_emails"] == []  # not asked for
    assert (person["city"], person["state"], person["country"]) == (
        "San Francisco",
        "California",
        "United States",
    )
    organization = person["organization"]
    assert organization["id"] == person["organization_id"] == APOLLO
    assert (organization["name"], organization["primary_domain"]) == ("Apollo.io", "apollo.io")
    history = person["employment_history"]
    assert [(job["organization_name"], job["current"]) for job in history] == [
        ("Apollo", True),
        ("Braingenie", False),
    ]
    assert all(set(job) == EMPLOYMENT_KEYS for job in history)
    # Only the switchboard: the mobile is a phone reveal, delivered to a webhook.
    assert [phone["type"] for phone in person["phone_numbers"]] == ["work_hq"]
    # The extensions, beside Apollo's fields.
    assert 0.9 <= person["match_confidence"] <= 1
    assert {"linkedin_url", "hashed_email", "first_name", "last_name"} <= set(person["match_reasons"])


async def test_the_current_specs_example(client: httpx.AsyncClient, tenant: Tenant) -> None:
    person = await matched(
        client, tenant.master_key, {"first_name": "tim", "last_name": "zheng", "domain": "apollo.io"}
    )
    assert person["id"] == TIM


NOISY: dict[str, tuple[dict[str, Any], str]] = {
    "nickname": ({"first_name": "Bob", "last_name": "Mueller", "domain": "stonebridge-logistics.de"}, ROBERT),
    "typo in the first name": (
        {"first_name": "Catherien", "last_name": "Kowalski", "domain": "apollo.io"},
        CATHERINE,
    ),
    "typo in the last name": (
        {"first_name": "Robert", "last_name": "Muelelr", "organization_name": "Stonebridge Logistics"},
        ROBERT,
    ),
    "md5 of the work email": ({"hashed_email": md5("roy@apollo.io")}, ROY),
    "sha256 of the work email, upper-case": ({"hashed_email": sha256("tim@apollo.io").upper()}, TIM),
    "sha256 of a personal email": ({"hashed_email": sha256("royychung@gmail.com")}, ROY),
    "padded upper-case email": ({"email": "  Catherine@APOLLO.io "}, CATHERINE),
    "full name and company name with a legal form": (
        {"name": "Zheng, Tim", "organization_name": "Apollo Inc."},
        TIM,
    ),
    "a former employer's domain": (
        {"first_name": "Tim", "last_name": "Zheng", "domain": "braingenie.com"},
        TIM,
    ),
    "a LinkedIn URL in another form": ({"linkedin_url": "https://uk.linkedin.com/in/RoyyChung/?trk=x"}, ROY),
    "the company's website as domain": (
        {"first_name": "Maria", "last_name": "Sanchez", "domain": "https://www.braingenie.com/team"},
        MARIA,
    ),
    "an id from a search": ({"id": CATHERINE}, CATHERINE),
}


@pytest.mark.parametrize("query", NOISY.values(), ids=NOISY.keys())
async def test_noisy_queries_find_the_person(
    client: httpx.AsyncClient, tenant: Tenant, query: tuple[dict[str, Any], str]
) -> None:
    params, expected = query
    person = await matched(client, tenant.master_key, params)
    assert person.get("id") == expected
    assert person["match_reasons"]


MISSES: dict[str, dict[str, Any]] = {
    "nobody by that name there": {"first_name": "Nadia", "last_name": "Petrova", "domain": "apollo.io"},
    "a first name alone": {"first_name": "Tim"},
    "an unknown email": {"email": "someone@nowhere.example"},
    "an unknown hash": {"hashed_email": md5("nobody@apollo.io")},
    "nothing at all": {},
}


@pytest.mark.parametrize("params", MISSES.values(), ids=MISSES.keys())
async def test_a_miss_is_an_empty_person_and_free(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, params: dict[str, Any]
) -> None:
    assert await answer(client, tenant.master_key, "/people/match", params) == {"person": {}}
    assert await ledger(runtime, tenant.team_id) == []
    assert await reveals(runtime, tenant.team_id) == set()


async def test_min_confidence_raises_the_bar_for_one_request(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    typo = {"first_name": "Catherien", "last_name": "Kowalski", "domain": "apollo.io"}
    found = await matched(client, tenant.master_key, typo)
    assert found["id"] == CATHERINE
    confidence = found["match_confidence"]
    assert confidence < 1
    # The reported confidence is rounded down: given back as the bar, it still passes.
    same_bar = {**typo, "min_confidence": confidence}
    assert (await matched(client, tenant.master_key, same_bar))["id"] == CATHERINE
    assert await matched(client, tenant.master_key, {**typo, "min_confidence": "1"}) == {}
    # A bar under the server's default does not lower it: a first name alone stays a miss.
    assert await matched(client, tenant.master_key, {"first_name": "Catherine", "min_confidence": 0}) == {}


@pytest.mark.parametrize("value", ["1.5", "-0.1", "very"])
async def test_min_confidence_out_of_range_is_a_422(
    client: httpx.AsyncClient, tenant: Tenant, value: str
) -> None:
    response = await call(
        client, tenant.master_key, "/people/match", {"email": "tim@apollo.io", "min_confidence": value}
    )
    assert response.status_code == 422
    assert "min_confidence" in response.json()["error"]


async def test_a_match_reveals_the_email_to_the_team_only(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Globex")
    before = (await answer(client, tenant.master_key, f"/people/{ROY}", method="GET"))["person"]
    assert (before["email"], before["revealed_for_current_team"]) == (LOCKED_EMAIL, False)

    await matched(client, tenant.master_key, {"email": "roy@apollo.io"})

    after = (await answer(client, tenant.master_key, f"/people/{ROY}", method="GET"))["person"]
    assert (after["email"], after["revealed_for_current_team"]) == ("roy@apollo.io", True)
    theirs = (await answer(client, other.master_key, f"/people/{ROY}", method="GET"))["person"]
    assert (theirs["email"], theirs["revealed_for_current_team"]) == (LOCKED_EMAIL, False)
    assert await reveals(runtime, other.team_id) == set()


async def test_matching_a_revealed_person_again_keeps_one_reveal(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    for _ in range(2):
        assert (await matched(client, tenant.master_key, {"email": "roy@apollo.io"}))[
            "email"
        ] == "roy@apollo.io"
    assert await reveals(runtime, tenant.team_id) == {ROY}


PERSONAL = {
    "outside a GDPR region": ({"email": "tim@apollo.io"}, ["tim.zheng@gmail.com"]),
    "in Germany": ({"email": "robert.mueller@stonebridge-logistics.de"}, []),
    "country unknown": ({"email": "maria@braingenie.com"}, []),
}


@pytest.mark.parametrize("case", PERSONAL.values(), ids=PERSONAL.keys())
async def test_personal_emails_are_revealed_outside_gdpr_regions_only(
    client: httpx.AsyncClient, tenant: Tenant, case: tuple[dict[str, Any], list[str]]
) -> None:
    params, expected = case
    asked = await matched(client, tenant.master_key, {**params, "reveal_personal_emails": True})
    assert asked["personal_emails"] == expected
    assert (await matched(client, tenant.master_key, params))["personal_emails"] == []


DIALECTS: dict[str, dict[str, Any]] = {
    "json body": {
        "json": {"first_name": "Tim", "last_name": "Zheng", "domain": "apollo.io", "min_confidence": 0.5}
    },
    "query string": {
        "params": {"first_name": "Tim", "last_name": "Zheng", "domain": "apollo.io", "min_confidence": "0.5"}
    },
    "form body": {
        "data": {
            "first_name": "Tim",
            "last_name": "Zheng",
            "domain": "apollo.io",
            "reveal_personal_emails": "true",
        }
    },
    "api_key in the body": {
        "json": {"first_name": "Tim", "last_name": "Zheng", "domain": "apollo.io"},
        "key_in_body": True,
    },
}


@pytest.mark.parametrize("dialect", DIALECTS.values(), ids=DIALECTS.keys())
async def test_parameter_dialects(client: httpx.AsyncClient, tenant: Tenant, dialect: dict[str, Any]) -> None:
    kwargs = {k: v for k, v in dialect.items() if k != "key_in_body"}
    headers = {"x-api-key": tenant.master_key}
    if dialect.get("key_in_body"):
        kwargs["json"] = {**kwargs["json"], "api_key": tenant.master_key}
        headers = {}
    response = await client.post("/v1/people/match", headers=headers, **kwargs)
    assert response.status_code == 200, response.text
    person = response.json()["person"]
    assert person["id"] == TIM
    expected = ["tim.zheng@gmail.com"] if "reveal_personal_emails" in str(kwargs) else []
    assert person["personal_emails"] == expected


async def test_waterfall_requests_say_no_waterfall_runs(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = await answer(
        client, tenant.master_key, "/people/match", {"email": "tim@apollo.io", "run_waterfall_email": "true"}
    )
    assert body["person"]["id"] == TIM
    assert body["waterfall"]["status"] == "not_accepted"
    assert "no waterfall webhook will be sent" in body["waterfall"]["message"]


async def test_keys_and_scopes(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    params = {"email": "tim@apollo.io"}
    missing = await client.post("/api/v1/people/match", json=params)
    assert missing.status_code == 401
    assert missing.text.startswith("Invalid API key.")
    bulk_only = await make_scoped_key(runtime, clock, tenant, "api/v1/people/bulk_match")
    refused = await call(client, bulk_only, "/people/match", params)
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "This API key is not authorized to access api/v1/people/match. Request an API key from "
        "your administrator that includes this endpoint in its configured scope.",
        "error_code": "API_INACCESSIBLE",
    }
    scoped = await make_scoped_key(runtime, clock, tenant, "api/v1/people/match")
    assert (await matched(client, scoped, params))["id"] == TIM


async def test_rate_limit_headers_are_the_enrichment_class(client: httpx.AsyncClient, tenant: Tenant) -> None:
    single = await call(client, tenant.master_key, "/people/match", {"email": "tim@apollo.io"})
    bulk = await call(
        client, tenant.master_key, "/people/bulk_match", {"details": [{"email": "tim@apollo.io"}]}
    )
    # Professional: enrichment 1,000 a minute; the bulk endpoints a tenth of it.
    assert (single.headers["x-rate-limit-minute"], single.headers["x-minute-usage"]) == ("1000", "1")
    assert (bulk.headers["x-rate-limit-minute"], bulk.headers["x-minute-usage"]) == ("100", "1")
