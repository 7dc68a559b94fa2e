"""Person lines -> ``PersonRecord``: the ``people`` columns, Apollo's person object, and the
rows of employment history, phone numbers and personal emails derived from it."""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson

from perilune.db.ids import is_valid_id
from perilune.repository.normalize import (
    classify_title,
    linkedin_slug,
    linkedin_url,
    name_key,
    normalize_email,
    phonetic_key,
    resolve_location,
    split_name,
    to_e164,
)
from perilune.repository.normalize.titles import SENIORITIES
from perilune.repository.records.organizations import (
    OrganizationRecord,
    organization_key,
    organization_record,
)
from perilune.repository.records.values import (
    LONG,
    NAME,
    SHORT,
    TEXT,
    Raw,
    RecordError,
    bool_field,
    derived_id,
    float_field,
    id_field,
    is_id,
    list_field,
    objects_field,
    quote,
    read_texts,
    text_field,
)

# Apollo shows this in place of an email a team has not unlocked; it is no address.
LOCKED_EMAIL = "email_not_unlocked@domain.com"
MISSING_PERSON_NAME = "a person needs a name (first_name, last_name or name)"


@dataclass(slots=True)
class PersonRecord:
    """A person's columns, Apollo-shaped ``data`` and child rows (employment history, phones,
    personal emails, all derived from ``data``). ``organization`` is a nested employer to
    upsert; ``complete`` is False for a line that may only update an existing person."""

    id: str | None
    organization_id: str | None
    organization: OrganizationRecord | None
    first_name: str | None
    last_name: str | None
    name: str | None
    first_name_key: str | None
    last_name_key: str | None
    last_name_phonetic: str | None
    title: str | None
    seniority: str | None
    email: str | None
    email_md5: str | None
    email_sha256: str | None
    email_status: str | None
    linkedin_slug: str | None
    city: str | None
    state: str | None
    country: str | None
    country_code: str | None
    time_zone: str | None
    data: dict[str, Any]
    personal_emails: list[str] = field(default_factory=list)
    complete: bool = True
    headline_given: bool = False
    # The nested employer as the line gave it (merging an update needs the raw fields), and a
    # fingerprint of it: people at one employer repeat it, and it is resolved once per import.
    organization_raw: Raw | None = None
    organization_fingerprint: bytes | None = None

    def columns(self) -> dict[str, Any]:
        """Column values of the ``people`` table, without id and timestamps."""
        return {
            "organization_id": self.organization_id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "name": self.name,
            "first_name_key": self.first_name_key,
            "last_name_key": self.last_name_key,
            "last_name_phonetic": self.last_name_phonetic,
            "title": self.title,
            "seniority": self.seniority,
            "email": self.email,
            "email_md5": self.email_md5,
            "email_sha256": self.email_sha256,
            "email_status": self.email_status,
            "linkedin_slug": self.linkedin_slug,
            "city": self.city,
            "state": self.state,
            "country": self.country,
            "country_code": self.country_code,
            "time_zone": self.time_zone,
            "data": self.data,
        }

    def bind(self, person_id: str, organization_id: str | None, organization_name: str | None) -> None:
        """Fix the person's id and employer: ids of employment history items that had none
        are derived from the person id (so re-importing the same line yields the same data),
        the headline defaults to "<title> at <organization>", and history items at the
        employer by name gain its id."""
        self.id = person_id
        self.organization_id = organization_id
        data = self.data
        data["id"] = person_id
        data["organization_id"] = organization_id
        if not self.headline_given and self.title:
            data["headline"] = f"{self.title} at {organization_name}" if organization_name else self.title
        employer_key = organization_key(organization_name) if organization_name else None
        for position, item in enumerate(data["employment_history"]):
            if item["_id"] is None:
                item_id = derived_id(person_id, "employment", position)
                item["_id"] = item["id"] = item["key"] = item_id
            if (
                organization_id
                and item["organization_id"] is None
                and employer_key
                and item["current"]
                and organization_key(item["organization_name"]) == employer_key
            ):
                item["organization_id"] = organization_id

    def employment_rows(self) -> list[dict[str, Any]]:
        """Rows of ``employment_history`` for this person (after ``bind``)."""
        return [
            {
                "id": item["_id"],
                "person_id": self.id,
                "organization_id": item["organization_id"],
                "organization_name": item["organization_name"],
                "organization_name_key": organization_key(item["organization_name"]) or None,
                "title": item["title"],
                "start_date": item["start_date"],
                "end_date": item["end_date"],
                "current": item["current"],
            }
            for item in self.data["employment_history"]
        ]

    def phone_rows(self) -> list[dict[str, Any]]:
        """Rows of ``person_phone_numbers`` for this person (after ``bind``)."""
        assert self.id is not None
        return [
            {
                "id": derived_id(self.id, "phone", position),
                "person_id": self.id,
                "raw_number": phone["raw_number"],
                "sanitized_number": phone["sanitized_number"],
                "type": phone["type"],
                "status": phone["status"],
                "position": phone["position"],
            }
            for position, phone in enumerate(self.data["phone_numbers"])
        ]

    def personal_email_rows(self) -> list[dict[str, Any]]:
        """Rows of ``personal_emails`` for this person (after ``bind``)."""
        assert self.id is not None
        rows = []
        for position, email in enumerate(self.personal_emails):
            md5, sha256 = _hashes(email)
            rows.append(
                {
                    "id": derived_id(self.id, "personal_email", position),
                    "person_id": self.id,
                    "email": email,
                    "email_md5": md5,
                    "email_sha256": sha256,
                }
            )
        return rows


PERSON_FIELDS: tuple[str, ...] = (
    "id", "first_name", "last_name", "name", "linkedin_url", "title", "email_status", "photo_url",
    "twitter_url", "github_url", "facebook_url", "extrapolated_email_confidence", "headline",
    "email", "organization_id", "employment_history", "state", "city", "country", "street_address",
    "postal_code", "formatted_address", "time_zone", "phone_numbers", "sanitized_phone",
    "intent_strength", "show_intent", "personal_emails", "departments", "subdepartments",
    "functions", "seniority",
)  # fmt: skip

_PERSON_LOCATION = (
    "city", "state", "country", "street_address", "postal_code", "formatted_address", "time_zone",
    "present_raw_address", "raw_address",
)  # fmt: skip
PERSON_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"first_name", "last_name", "name"}),
    frozenset({"title", "headline", "seniority", "departments", "subdepartments", "functions"}),
    frozenset({"email", "email_status"}),
    frozenset(_PERSON_LOCATION),
    frozenset({"phone_numbers", "sanitized_phone", "phone"}),
    frozenset({"organization_id", "organization", "organization_name", "headline"}),
)

_PERSON_EMPTY: dict[str, Any] = dict.fromkeys(PERSON_FIELDS)
# Fields kept as given (text), with their longest accepted length.
_PERSON_TEXT: dict[str, int] = {
    "photo_url": TEXT, "twitter_url": TEXT, "github_url": TEXT, "facebook_url": TEXT,
    "street_address": TEXT, "postal_code": 32, "formatted_address": TEXT, "intent_strength": SHORT,
}  # fmt: skip

EMPLOYMENT_FIELDS: tuple[str, ...] = (
    "_id", "created_at", "current", "degree", "description", "emails", "end_date", "grade_level",
    "kind", "major", "organization_id", "organization_name", "raw_address", "start_date", "title",
    "updated_at", "id", "key",
)  # fmt: skip
_SENIORITIES = frozenset(SENIORITIES)
_CLASSES = ("departments", "subdepartments", "functions")


def person_record(raw: Raw, *, partial: bool = False) -> PersonRecord:
    """The record for one person line (see ``perilune.repository.records``). With ``partial``, a line
    with an id, email or LinkedIn URL but no name is accepted as an update-only record
    (``complete`` False)."""
    record_id = id_field(raw)
    first, last, full = _names(raw)
    email, email_md5, email_sha256 = _email(raw)
    slug = _person_slug(raw)
    complete = bool(first or last or full)
    if not complete and not (partial and (record_id or email or slug)):
        raise RecordError(MISSING_PERSON_NAME)
    title = text_field(raw, "title", NAME)
    headline = text_field(raw, "headline", TEXT)
    seniority, departments, subdepartments, functions = _classification(raw, title)
    location = resolve_location(
        text_field(raw, "city", SHORT),
        text_field(raw, "state", SHORT),
        text_field(raw, "country", SHORT),
        text_field(raw, "present_raw_address", TEXT) or text_field(raw, "raw_address", TEXT),
    )
    time_zone = location.time_zone or text_field(raw, "time_zone", 64)
    phones = _phones(raw, location.country_code)
    personal = _personal_emails(raw, email)
    status = text_field(raw, "email_status", 32)
    status = status.lower() if status else ("unverified" if email else "unavailable")
    organization, nested, fingerprint, organization_id = _employer(raw)
    data = dict(_PERSON_EMPTY)  # Apollo's key order
    read_texts(raw, _PERSON_TEXT, data)
    data.update(
        id=record_id,
        first_name=first,
        last_name=last,
        name=full,
        linkedin_url=linkedin_url(slug) if slug else None,
        title=title,
        email_status=status,
        extrapolated_email_confidence=float_field(raw, "extrapolated_email_confidence"),
        headline=headline or title,
        email=email,
        organization_id=organization_id,
        employment_history=_employment_history(raw),
        state=location.state,
        city=location.city,
        country=location.country,
        time_zone=time_zone,
        phone_numbers=phones,
        sanitized_phone=next((p["sanitized_number"] for p in phones if p["sanitized_number"]), None),
        show_intent=bool_field(raw, "show_intent") or False,
        personal_emails=personal,
        departments=departments,
        subdepartments=subdepartments,
        functions=functions,
        seniority=seniority,
    )
    return PersonRecord(
        id=record_id,
        organization_id=organization_id,
        organization=organization,
        first_name=first,
        last_name=last,
        name=full,
        first_name_key=name_key(first) or None,
        last_name_key=name_key(last) or None,
        last_name_phonetic=phonetic_key(last) or None,
        title=title,
        seniority=seniority,
        email=email,
        email_md5=email_md5,
        email_sha256=email_sha256,
        email_status=status,
        linkedin_slug=slug,
        city=location.city,
        state=location.state,
        country=location.country,
        country_code=location.country_code,
        time_zone=time_zone,
        data=data,
        personal_emails=personal,
        complete=complete,
        headline_given=headline is not None,
        organization_raw=nested,
        organization_fingerprint=fingerprint,
    )


def _names(raw: Raw) -> tuple[str | None, str | None, str | None]:
    first = text_field(raw, "first_name", SHORT)
    last = text_field(raw, "last_name", SHORT)
    full = text_field(raw, "name", NAME)
    if first or last:
        return first, last, full or " ".join(p for p in (first, last) if p)
    if not full:
        return None, None, None
    parts = split_name(full)
    if len(parts.first) > SHORT or len(parts.last) > SHORT:
        raise RecordError(f"name is longer than {SHORT} characters")
    return parts.first or None, parts.last or None, parts.full or full


def _email(raw: Raw) -> tuple[str | None, str | None, str | None]:
    value = text_field(raw, "email", TEXT)
    if value is None or value.lower() == LOCKED_EMAIL:
        return None, None, None
    email = normalize_email(value)
    if email is None:
        raise RecordError(f"email {quote(value)} is not a valid address")
    md5, sha256 = _hashes(email)
    return email, md5, sha256


def _hashes(email: str) -> tuple[str, str]:
    data = email.encode()
    return hashlib.md5(data, usedforsecurity=False).hexdigest(), hashlib.sha256(data).hexdigest()


def _person_slug(raw: Raw) -> str | None:
    value = text_field(raw, "linkedin_url", TEXT)
    if value is None:
        return None
    slug = linkedin_slug(value)
    if slug is None or len(slug) > SHORT:
        raise RecordError(f"linkedin_url {quote(value)} is not a LinkedIn profile")
    return slug


def _classification(raw: Raw, title: str | None) -> tuple[str | None, list[str], list[str], list[str]]:
    """Seniority, departments, subdepartments and functions: each as the line gives it (an
    explicit ``[]`` included), else as ``classify_title`` reads the title."""
    seniority = text_field(raw, "seniority", 32)
    if seniority is not None and seniority not in _SENIORITIES:
        raise RecordError(f"seniority {quote(seniority)} is not one of {', '.join(SENIORITIES)}")
    departments = list_field(raw, "departments")
    subdepartments = list_field(raw, "subdepartments")
    functions = list_field(raw, "functions")
    absent = {key for key in _CLASSES if raw.get(key) in (None, "")}
    if title and (seniority is None or absent):
        derived = classify_title(title)
        seniority = seniority or derived.seniority
        if "departments" in absent:
            departments = list(derived.departments)
        if "subdepartments" in absent:
            subdepartments = list(derived.subdepartments)
        if "functions" in absent:
            functions = list(derived.functions)
    return seniority, departments, subdepartments, functions


def _employer(raw: Raw) -> tuple[OrganizationRecord | None, Raw | None, bytes | None, str | None]:
    """The nested employer (record, raw object, fingerprint) and ``organization_id``."""
    organization_id = text_field(raw, "organization_id", 64)
    if organization_id is not None and not is_valid_id(organization_id):
        raise RecordError(f"organization_id {quote(organization_id)} is not a 24-hex-digit id")
    nested = raw.get("organization")
    if nested is None and raw.get("organization_name") is not None:
        nested = {"name": raw["organization_name"]}
    if nested is None or nested == {}:
        return None, None, None, organization_id
    if not isinstance(nested, dict):
        raise RecordError("organization must be an object")
    try:
        fingerprint = orjson.dumps(nested, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        raise RecordError("organization must be a JSON object") from None
    try:
        template = _nested_organization(fingerprint)
    except RecordError as exc:
        raise RecordError(f"organization: {exc.reason}") from None
    organization = template.copy()
    if organization_id is not None:
        if organization.id is not None and organization.id != organization_id:
            raise RecordError("organization_id and organization.id differ")
        organization.bind(organization_id)
    return organization, nested, fingerprint, organization_id


# People at one employer repeat its nested object line after line: normalise it once. Records
# handed out are copies (``bind`` writes the id into ``data``).
@functools.lru_cache(maxsize=4096)
def _nested_organization(fingerprint: bytes) -> OrganizationRecord:
    return organization_record(orjson.loads(fingerprint), partial=True)


_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def _employment_history(raw: Raw) -> list[dict[str, Any]]:
    items = objects_field(raw, "employment_history")
    history = []
    for position, item in enumerate(items):
        try:
            history.append(_employment_item(item))
        except RecordError as exc:
            raise RecordError(f"employment_history[{position}]: {exc.reason}") from None
    return history


_EMPLOYMENT_TEXT: dict[str, int] = {
    "created_at": 64, "degree": SHORT, "description": LONG, "grade_level": SHORT, "kind": SHORT,
    "major": SHORT, "organization_name": NAME, "raw_address": TEXT, "title": NAME,
    "updated_at": 64,
}  # fmt: skip
_EMPLOYMENT_EMPTY: dict[str, Any] = dict.fromkeys(EMPLOYMENT_FIELDS)


def _employment_item(item: Raw) -> dict[str, Any]:
    result = dict(_EMPLOYMENT_EMPTY)
    read_texts(item, _EMPLOYMENT_TEXT, result)
    item_id = next((v for v in (item.get("_id"), item.get("id"), item.get("key")) if is_id(v)), None)
    result["_id"] = result["id"] = result["key"] = item_id
    organization_id = text_field(item, "organization_id", 64)
    if organization_id is not None and not is_valid_id(organization_id):
        raise RecordError(f"organization_id {quote(organization_id)} is not a 24-hex-digit id")
    result["organization_id"] = organization_id
    result["start_date"] = _date(item, "start_date")
    end_date = result["end_date"] = _date(item, "end_date")
    current = bool_field(item, "current")
    result["current"] = current if current is not None else end_date is None
    emails = item.get("emails")
    result["emails"] = emails if isinstance(emails, list) else None
    return result


def _date(item: Raw, key: str) -> str | None:
    """A date as Apollo writes it, YYYY-MM-DD; a year or a month stands for its first day,
    and a timestamp for its date."""
    value = text_field(item, key, 64)
    if value is None:
        return None
    normalized = _normalized_date(value)
    if normalized is None:
        raise RecordError(f"{key} {quote(value)} is not a date (YYYY-MM-DD)")
    return normalized


@functools.lru_cache(maxsize=16384)
def _normalized_date(value: str) -> str | None:
    match = _DATE.match(value)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2] or 1), int(match[3] or 1)).isoformat()
    except ValueError:
        return None


def _phones(raw: Raw, country_code: str | None) -> list[dict[str, Any]]:
    items: list[Any] = objects_field(raw, "phone_numbers", allow_text=True)
    if not items:
        single = text_field(raw, "phone", 64) or text_field(raw, "sanitized_phone", 64)
        items = [single] if single else []
    phones: list[dict[str, Any]] = []
    for item in items:
        given: Raw = item if isinstance(item, dict) else {"raw_number": item}
        raw_number = text_field(given, "raw_number", 64)
        sanitized = text_field(given, "sanitized_number", 32)
        number = raw_number or sanitized
        if number is None:
            continue
        phones.append(
            {
                "raw_number": number,
                "sanitized_number": _e164(sanitized, number, country_code),
                "type": text_field(given, "type", 32),
                "position": len(phones),
                "status": text_field(given, "status", 32) or "no_status",
            }
        )
    return phones


_SEPARATORS = str.maketrans("", "", " -.\u00a0")


def _e164(sanitized: str | None, number: str, country_code: str | None) -> str | None:
    """The E.164 form of a phone. An international number needs only validating, which costs
    a tenth of parsing its formatted text: so the given sanitized form is tried first, then the
    raw text without spaces, dashes and dots (parsing ignores them); parsing decides the rest."""
    if sanitized and sanitized[0] == "+":
        e164 = to_e164(sanitized)
        if e164 is not None:
            return e164
    if number[0] == "+":
        e164 = to_e164(number.translate(_SEPARATORS))
        if e164 is not None:
            return e164
    return to_e164(number, country_code)


def _personal_emails(raw: Raw, work_email: str | None) -> list[str]:
    emails: list[str] = []
    for value in list_field(raw, "personal_emails"):
        email = normalize_email(value)
        if email is None:
            raise RecordError(f"personal email {quote(value)} is not a valid address")
        if email != work_email and email not in emails:
            emails.append(email)
    return emails
