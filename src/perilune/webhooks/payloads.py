"""The body Apollo POSTs for a phone reveal (its ``webhook_result``): the bulk counters and, per
matched person, only the id, a status and the phone numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from perilune.models.repository import PersonPhoneNumber


@dataclass(frozen=True)
class RevealedPhones:
    """One matched person's phone numbers, as the enrichment endpoint found them."""

    person_id: str
    phone_numbers: Sequence[PersonPhoneNumber]


def phone_number_object(phone: PersonPhoneNumber) -> dict[str, Any]:
    """A phone number as the webhook carries it. Perilune keeps no confidence, source or
    do-not-call data: those fields are null (``dnc_other_info`` an empty object)."""
    return {
        "_id": phone.id,
        "confidence_cd": None,
        "created_at": None,
        "direct_dial_source_cd": None,
        "dnc_other_info": {},
        "dnc_status_cd": None,
        "dnc_status_updated_at": None,
        "position": phone.position,
        "raw_number": phone.raw_number,
        "sanitized_number": phone.sanitized_number,
        "status_cd": phone.status or "no_status",
        "type_cd": phone.type,
        "updated_at": None,
        "id": phone.id,
        "key": phone.id,
    }


def phone_reveal_result(
    people: Sequence[RevealedPhones],
    *,
    total_requested_enrichments: int,
    missing_records: int,
    credits_consumed: float,
) -> dict[str, Any]:
    """The whole webhook body for a phone reveal. ``unique_enriched_records`` counts the people
    with at least one number (Apollo counts people that consumed credits)."""
    ordered = [
        {
            "id": person.person_id,
            "status": "success",
            "phone_numbers": [
                phone_number_object(phone) for phone in sorted(person.phone_numbers, key=_position)
            ],
        }
        for person in people
    ]
    return {
        "status": "success",
        "total_requested_enrichments": total_requested_enrichments,
        "unique_enriched_records": len({person.person_id for person in people if person.phone_numbers}),
        "missing_records": missing_records,
        "credits_consumed": credits_consumed,
        "people": ordered,
    }


def _position(phone: PersonPhoneNumber) -> int:
    return phone.position
