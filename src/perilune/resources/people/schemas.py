"""Wire shape of Apollo's person object (``GET /people/{id}``).

The person's ``data`` holds the Apollo-shaped object as imported; columns are authoritative for
what they hold, and the employment history, phone numbers and personal emails come from their
own tables. What a team may see depends on what it has revealed: the work email with any
reveal, the direct phone numbers and the personal emails only once revealed themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from perilune.models import EmploymentHistory, Organization, Person, PersonPhoneNumber
from perilune.repository.normalize import is_gdpr_country
from perilune.resources.organizations.schemas import organization_object
from perilune.search.documents import email_status

# Apollo's placeholder for an address the team has not unlocked: the same for every person.
LOCKED_EMAIL = "email_not_unlocked@domain.com"
# Phone numbers anyone may see (the company switchboard); the rest need a reveal.
PUBLIC_PHONE_TYPES = frozenset({"work_hq"})
PERSON_LIST_FIELDS = ("departments", "subdepartments", "functions")
# Never taken from the stored object: they are rendered from tables and the team's reveal, or
# are team-specific (the team's contact record).
RENDERED_FIELDS = (
    "email",
    "email_status",
    "hashed_email",
    "personal_emails",
    "phone_numbers",
    "employment_history",
    "organization",
    "revealed_for_current_team",
    "contact",
    "contact_id",
)


@dataclass(frozen=True)
class PersonView:
    """A person and everything the response shows about them, for one team."""

    person: Person
    organization: Organization | None = None
    employment_history: list[EmploymentHistory] = field(default_factory=list)
    phone_numbers: list[PersonPhoneNumber] = field(default_factory=list)
    personal_emails: list[str] = field(default_factory=list)
    # The team has a reveal of the person: the work email shows.
    revealed: bool = False
    # The kinds of the reveal beyond the email (PersonReveal's flags). Search builds views
    # without them, and so shows neither, as Apollo's search does.
    revealed_phone_numbers: bool = False
    revealed_personal_emails: bool = False

    @property
    def shows_personal_emails(self) -> bool:
        # Checked again at render time: a person who has moved into a GDPR region since the
        # reveal has their personal emails withheld from then on.
        return self.revealed and self.revealed_personal_emails and outside_gdpr(self.person)

    def shows_phone(self, phone: PersonPhoneNumber) -> bool:
        """The switchboard to anyone; the other numbers once the team revealed them."""
        if (phone.type or "") in PUBLIC_PHONE_TYPES:
            return True
        return self.revealed and self.revealed_phone_numbers


def outside_gdpr(person: Person) -> bool:
    """Whether the person is known to live outside GDPR regions (EU/EEA, UK, Switzerland). A
    person whose country is unknown may live in one, so counts as inside."""
    country = person.country_code or person.country
    return bool(country) and not is_gdpr_country(country)


def person_object(view: PersonView) -> dict[str, Any]:
    person = view.person
    body: dict[str, Any] = {k: v for k, v in (person.data or {}).items() if k not in RENDERED_FIELDS}
    body.update(
        {
            "id": person.id,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "name": person.name,
            "title": person.title,
            "organization_id": person.organization_id,
            "city": person.city,
            "state": person.state,
            "country": person.country,
        }
    )
    if person.seniority is not None:
        body["seniority"] = person.seniority
    if person.time_zone is not None:
        body["time_zone"] = person.time_zone
    for name in PERSON_LIST_FIELDS:
        body[name] = body[name] if isinstance(body.get(name), list) else []
    body["email"], body["email_status"] = email_fields(person, view.revealed)
    body["hashed_email"] = person.email_md5 if view.revealed else None
    body["personal_emails"] = list(view.personal_emails) if view.shows_personal_emails else []
    body["revealed_for_current_team"] = view.revealed
    body["employment_history"] = [employment_object(job) for job in view.employment_history]
    body["phone_numbers"] = [phone_object(phone) for phone in view.phone_numbers if view.shows_phone(phone)]
    body["organization"] = organization_object(view.organization, embedded=True) if view.organization else {}
    return body


def email_fields(person: Person, revealed: bool) -> tuple[str | None, str]:
    """(email, email_status) as Apollo shows them to a team: a verified address only once
    revealed (the placeholder before), an extrapolated one as it is, none (or a bounced one)
    as null."""
    status = email_status(person.email, person.email_status)
    if status == "verified":
        return (person.email if revealed else LOCKED_EMAIL), status
    if status == "extrapolated":
        return person.email, status
    return None, status


def employment_object(job: EmploymentHistory) -> dict[str, Any]:
    return {
        "_id": job.id,
        "created_at": None,
        "current": job.current,
        "degree": None,
        "description": None,
        "emails": None,
        "end_date": job.end_date,
        "grade_level": None,
        "kind": None,
        "major": None,
        "organization_id": job.organization_id,
        "organization_name": job.organization_name,
        "raw_address": None,
        "start_date": job.start_date,
        "title": job.title,
        "updated_at": None,
        "id": job.id,
        "key": job.id,
    }


def phone_object(phone: PersonPhoneNumber) -> dict[str, Any]:
    return {
        "raw_number": phone.raw_number,
        "sanitized_number": phone.sanitized_number,
        "type": phone.type,
        "position": phone.position,
        "status": phone.status or "no_status",
        "dnc_status": None,
        "dnc_other_info": None,
    }
