"""People from the shared repository: ``GET /people/{id}``, 1 credit per person returned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.errors import Unprocessable
from perilune.auth.context import Caller
from perilune.db.ids import is_valid_id
from perilune.metering.credits import charge
from perilune.resources.people import repository
from perilune.resources.people.schemas import PersonView, person_object

PEOPLE_SHOW = "api/v1/people/show"


class PersonDoesNotExist(Unprocessable):
    """Apollo answers an unknown (or malformed) person id with a 422, not a 404."""

    def __init__(self) -> None:
        super().__init__("Person does not exist.")


async def show(session: AsyncSession, caller: Caller, person_id: str, now: datetime) -> dict[str, Any]:
    view = await load_view(session, caller.team_id, person_id)
    if view is None:
        raise PersonDoesNotExist()
    await charge(session, caller, now, PEOPLE_SHOW)
    return {"person": person_object(view)}


async def load_view(session: AsyncSession, team_id: str, person_id: str) -> PersonView | None:
    if not is_valid_id(person_id):
        return None
    person = await repository.get_person(session, person_id)
    if person is None:
        return None
    organization = (
        await repository.get_organization(session, person.organization_id) if person.organization_id else None
    )
    reveal = await repository.team_reveal(session, team_id, person.id)
    personal_emails = reveal is not None and reveal.personal_emails
    return PersonView(
        person=person,
        organization=organization,
        employment_history=list(await repository.employment_history(session, person.id)),
        phone_numbers=list(await repository.phone_numbers(session, person.id)),
        # Read only when the team may see them: what the response cannot show is never loaded.
        personal_emails=await repository.personal_emails(session, person.id) if personal_emails else [],
        revealed=reveal is not None,
        revealed_phone_numbers=reveal is not None and reveal.phone_numbers,
        revealed_personal_emails=personal_emails,
    )
