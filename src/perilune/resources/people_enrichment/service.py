"""People Enrichment: find the person a request describes (``perilune.matching``), charge for
what the answer reveals, unlock the person's email for the team, and send the phone numbers
to the caller's webhook.

Credits follow the spec's rule for enrichment without a waterfall: 1 ``lead_credit`` (the
email and demographics credit) per person found, plus 8 ``direct_dial_credit`` (the mobile
credit) per person found with ``reveal_phone_number`` who has a number other than the company
switchboard; 0 when nobody is found. A person named twice in one bulk request is charged once.
A team without enough credits gets Apollo's insufficient-credits answer, and the request
changes nothing: no charge, no reveal, no webhook (the request's transaction rolls back).

The team's reveal records what it unlocked, for ``GET /people/{id}`` to show: the work email
with every match, the direct numbers when a phone reveal was charged for them, the personal
emails when asked for a person known to live outside GDPR regions. Kinds add up over requests;
none is ever taken back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.auth.context import Caller
from perilune.config import Settings
from perilune.db.sessions import Sessions
from perilune.matching import PersonMatch, PersonQuery, match_person
from perilune.metering.credits import charge
from perilune.resources.people.schemas import PUBLIC_PHONE_TYPES, PersonView, outside_gdpr, person_object
from perilune.resources.people_enrichment import repository
from perilune.resources.people_enrichment.schemas import (
    WATERFALL_NOT_ACCEPTED,
    BulkMatchParams,
    EnrichmentOptions,
    PeopleMatchParams,
    with_match_fields,
)
from perilune.webhooks import (
    RevealedPhones,
    WebhookTarget,
    phone_enrichment_status,
    phone_reveal_result,
    schedule_delivery,
    validate_webhook_url,
)

PEOPLE_MATCH = "api/v1/people/match"
PEOPLE_BULK_MATCH = "api/v1/people/bulk_match"
EMAIL_CREDIT = "lead_credit"
EMAIL_CREDITS = 1
PHONE_CREDIT = "direct_dial_credit"
PHONE_CREDITS = 8


@dataclass(frozen=True)
class Enriched:
    """One request's outcome: per query, the person object to answer with (None for a miss)."""

    people: list[dict[str, Any] | None]
    unique_enriched_records: int
    credits_consumed: int
    request_id: int | None

    @property
    def missing_records(self) -> int:
        return sum(person is None for person in self.people)


async def webhook_target(options: EnrichmentOptions, settings: Settings) -> WebhookTarget | None:
    """The checked ``webhook_url`` of a phone reveal (None without one): checked before any
    work, so a refused URL costs nothing."""
    if not options.reveal_phone_number:
        return None
    allow = settings.webhook_allow_private_networks
    return await validate_webhook_url(options.webhook_url, allow_private_networks=allow)


async def match(
    sessions: Sessions,
    caller: Caller,
    params: PeopleMatchParams,
    target: WebhookTarget | None,
    now: datetime,
) -> dict[str, Any]:
    """``POST /people/match``: ``{"person": {...}}``, or an empty person when nobody fits."""
    enriched = await enrich(sessions, caller, [params.query()], params, target, PEOPLE_MATCH, now)
    body: dict[str, Any] = {"person": enriched.people[0] or {}}
    return _with_async_parts(body, enriched, params)


async def bulk_match(
    sessions: Sessions,
    caller: Caller,
    params: BulkMatchParams,
    target: WebhookTarget | None,
    now: datetime,
) -> dict[str, Any]:
    """``POST /people/bulk_match``: Apollo's bulk envelope, ``matches`` in the order of
    ``details`` (null where nobody fits). ``params.check()`` has refused an empty or
    over-long ``details`` already."""
    queries = [detail.query() for detail in params.details]
    enriched = await enrich(sessions, caller, queries, params, target, PEOPLE_BULK_MATCH, now)
    body: dict[str, Any] = {
        "status": "success",
        "error_code": None,
        "error_message": None,
        "total_requested_enrichments": len(queries),
    }
    # With a waterfall Apollo reports its status instead of the counters (the spec's rule).
    if not params.waterfall:
        body["unique_enriched_records"] = enriched.unique_enriched_records
        body["missing_records"] = enriched.missing_records
        body["credits_consumed"] = enriched.credits_consumed
    body["matches"] = enriched.people
    return _with_async_parts(body, enriched, params)


def _with_async_parts(body: dict[str, Any], enriched: Enriched, options: EnrichmentOptions) -> dict[str, Any]:
    if enriched.request_id is not None:
        body["request_id"] = enriched.request_id
        body["phone_enrichment"] = phone_enrichment_status(enriched.request_id)
    if options.waterfall:
        body["waterfall"] = dict(WATERFALL_NOT_ACCEPTED)
    return body


async def enrich(
    sessions: Sessions,
    caller: Caller,
    queries: Sequence[PersonQuery],
    options: EnrichmentOptions,
    target: WebhookTarget | None,
    endpoint: str,
    now: datetime,
) -> Enriched:
    reads = sessions.reads
    matches = [await match_person(reads, query, min_confidence=options.min_confidence) for query in queries]
    views = await repository.matched_views(reads, caller.team_id, _found_ids(matches))
    if not views:
        return Enriched([None] * len(matches), 0, 0, request_id=None)
    session = await sessions.writes()
    found = list(views)
    reveals = _reveals(views, options)
    phones = sum(item.phone_numbers for item in reveals)
    credits = await _charge(session, caller, now, endpoint, people=len(found), phones=phones)
    await repository.reveal(session, caller.team_id, reveals, now)
    personal = await repository.personal_emails(session, [r.person_id for r in reveals if r.personal_emails])
    shown = {
        r.person_id: _revealed_object(views[r.person_id], r, personal.get(r.person_id, [])) for r in reveals
    }
    enriched = Enriched([_answer(shown, m) for m in matches], len(found), credits, request_id=None)
    if target is None:
        return enriched
    request_id = await _send_phones(session, caller, target, [views[i] for i in found], enriched, now)
    return replace(enriched, request_id=request_id)


async def _send_phones(
    session: AsyncSession,
    caller: Caller,
    target: WebhookTarget,
    views: Sequence[PersonView],
    enriched: Enriched,
    now: datetime,
) -> int:
    """Schedule the webhook with the phone numbers of everyone found (it commits with the
    request); Apollo's ``request_id``."""
    payload = phone_reveal_result(
        [RevealedPhones(view.person.id, view.phone_numbers) for view in views],
        total_requested_enrichments=len(enriched.people),
        missing_records=enriched.missing_records,
        credits_consumed=enriched.credits_consumed,
    )
    return await schedule_delivery(session, team_id=caller.team_id, target=target, payload=payload, now=now)


def _found_ids(matches: Sequence[PersonMatch | None]) -> list[str]:
    return list(dict.fromkeys(m.person_id for m in matches if m is not None))


def _answer(shown: dict[str, dict[str, Any]], found: PersonMatch | None) -> dict[str, Any] | None:
    if found is None or found.person_id not in shown:
        return None
    return with_match_fields(dict(shown[found.person_id]), found)


def _reveals(views: dict[str, PersonView], options: EnrichmentOptions) -> list[repository.Reveal]:
    """What the request reveals of each person found: the email always; the direct numbers
    when asked and the person has some (what the mobile credit is charged for); the personal
    emails when asked and the person is known to live outside GDPR regions (EU/EEA, UK,
    Switzerland; an unknown country may be one of them, so counts as inside)."""
    return [
        repository.Reveal(
            person_id,
            phone_numbers=options.reveal_phone_number and _has_direct_phone(view),
            personal_emails=options.reveal_personal_emails and outside_gdpr(view.person),
        )
        for person_id, view in views.items()
    ]


def _has_direct_phone(view: PersonView) -> bool:
    """A number the mobile credit pays for: anything but the company switchboard."""
    return any((phone.type or "") not in PUBLIC_PHONE_TYPES for phone in view.phone_numbers)


async def _charge(
    session: AsyncSession, caller: Caller, now: datetime, endpoint: str, *, people: int, phones: int
) -> int:
    if people:
        await charge(session, caller, now, endpoint, credit_type=EMAIL_CREDIT, amount=people * EMAIL_CREDITS)
    if phones:
        await charge(session, caller, now, endpoint, credit_type=PHONE_CREDIT, amount=phones * PHONE_CREDITS)
    return people * EMAIL_CREDITS + phones * PHONE_CREDITS


def _revealed_object(
    view: PersonView, reveal: repository.Reveal, personal_emails: list[str]
) -> dict[str, Any]:
    """The person as this request reveals them: the email unlocked, the personal emails if
    this request revealed them, and only the switchboard among the phones: a phone reveal's
    numbers go to the webhook (``GET /people/{id}`` shows them from now on)."""
    shown = replace(
        view,
        revealed=True,
        personal_emails=personal_emails,
        revealed_personal_emails=reveal.personal_emails,
        revealed_phone_numbers=False,
    )
    return person_object(shown)
