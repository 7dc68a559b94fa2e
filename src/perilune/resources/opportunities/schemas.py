"""Request parameters of the deal endpoints (Apollo calls deals opportunities) and the wire shape
of deal stages. Amounts and close dates arrive as text in every dialect; they are read here, with
Apollo's rules (an amount with commas or a currency sign is left blank)."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from pydantic import Field, field_validator

from perilune.api.errors import Unprocessable
from perilune.api.params import ApolloParams
from perilune.models import OpportunityStage
from perilune.resources.mixed_companies.schemas import SearchPage, SearchParams

NAME_REQUIRED = "Name is required"
# PATCH of a deal the team does not have.
OPPORTUNITY_NOT_FOUND = "Opportunity does not exist."
INVALID_SORT = "Invalid sort criteria"
INVALID_SEARCH = "Your search parameters are entered incorrectly. Did you try to edit the URL directly?"
INVALID_CLOSED_DATE = "closed_date must be a date formatted as YYYY-MM-DD"
# Contacts one deal may name (the contact_ids extension).
MAX_CONTACTS = 100
TOO_MANY_CONTACTS = f"Please limit contact_ids to {MAX_CONTACTS} contacts or fewer."

# sort_by_field -> (column, the order Apollo lists first): largest amounts, closed deals, won deals.
SORT_FIELDS = {"amount": "amount", "is_closed": "is_closed", "is_won": "is_won"}

_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class OpportunityFields(ApolloParams):
    """What a deal write may carry. Which fields were sent matters (``model_fields_set``): an
    update leaves the others alone."""

    name: str | None = None
    owner_id: str | None = None
    account_id: str | None = None
    amount: str | float | None = None
    opportunity_stage_id: str | None = None
    closed_date: str | None = None
    description: str | None = None
    typed_custom_fields: dict[str, Any] | None = None
    # An extension Apollo's API lacks: the team's contacts on the deal (opportunity_contact_roles).
    contact_ids: list[str] | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def _no_boolean_amounts(cls, value: object) -> object:
        # true/false are no amounts (pydantic would read them as 1 and 0): left blank.
        return None if isinstance(value, bool) else value


class OpportunitySearchParams(SearchParams, SearchPage):
    sort_by_field: str | None = None
    sort_ascending: bool = False
    # Filters beyond the spec's sort (extensions): any of the stages, owners or accounts given.
    opportunity_stage_ids: list[str] = Field(default_factory=list)
    owner_ids: list[str] = Field(default_factory=list)
    account_ids: list[str] = Field(default_factory=list)


def amount_value(raw: str | float | None) -> float | None:
    """A deal amount: a plain number, else blank (Apollo leaves "1,000" or "$5" blank rather
    than refusing the deal)."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        number = float(raw)
    else:
        text = raw.strip()
        if not _PLAIN_NUMBER.match(text):
            return None
        number = float(text)
    return number if math.isfinite(number) else None


def closed_date_value(raw: str | None) -> date | None:
    """``YYYY-MM-DD`` (a date-time's date part is accepted); empty clears."""
    if raw is None or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip()[:10])
    except ValueError as exc:
        raise Unprocessable(INVALID_CLOSED_DATE) from exc


def stage_object(stage: OpportunityStage) -> dict[str, Any]:
    return {
        "id": stage.id,
        "team_id": stage.team_id,
        "name": stage.name,
        "display_order": stage.display_order,
        "forecast_category_cd": stage.forecast_category_cd,
        "is_won": stage.is_won,
        "is_closed": stage.is_closed,
        "probability": stage.probability,
        "description": stage.description,
        "salesforce_id": None,
        "is_meeting_set": stage.is_meeting_set,
        "opportunity_pipeline_id": stage.opportunity_pipeline_id,
        "is_editable": stage.is_editable,
        "type": stage.type,
    }
