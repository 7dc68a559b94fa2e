"""The wire shape of Apollo's deal (``opportunity``) object. Forecast figures follow from the
deal's stage (its probability and forecast category); Apollo's fields Perilune has no notion of
(Salesforce sync, rule configs, exchange rates) keep Apollo's neutral values, overlaid by ``data``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from perilune.api.envelopes import timestamp
from perilune.crm.render import activity_timestamp
from perilune.models import Contact, Opportunity, OpportunityContactRole, OpportunityStage

CURRENCY = {"name": "US Dollar", "iso_code": "USD", "symbol": "$"}


@dataclass(frozen=True)
class DealContext:
    """What a deal's object shows beyond its own row: its stage, its contacts and its account."""

    stage: OpportunityStage | None = None
    roles: Sequence[tuple[OpportunityContactRole, Contact]] = ()
    account: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _defaults() -> dict[str, Any]:
    return {
        "salesforce_owner_id": None,
        "salesforce_id": None,
        "next_step": None,
        "next_step_date": None,
        "closed_lost_reason": None,
        "closed_won_reason": None,
        "current_solutions": None,
        "deal_source": None,
        "manually_updated_probability": None,
        "manually_updated_forecast": None,
        "crm_id": None,
        "crm_record_url": None,
        "crm_owner_id": None,
        "probability": None,
        "next_step_last_updated_at": None,
        "exchange_rate_code": CURRENCY["iso_code"],
        "exchange_rate_value": 1,
        "existence_level": "full",
        "opportunity_rule_config_statuses": [],
    }


def number(value: float | None) -> int | float | None:
    """Whole amounts as integers (``200``), others as they are (``9999999.9``)."""
    if value is None:
        return None
    return int(value) if value.is_integer() else value


def forecast_category(stage: OpportunityStage | None) -> str | None:
    """Apollo's ``forecast_category``: the stage's category in snake case (``Best Case`` ->
    ``best_case``)."""
    if stage is None or not stage.forecast_category_cd:
        return None
    return "_".join(stage.forecast_category_cd.lower().split())


def forecasted_revenue(amount: float | None, probability: float | None) -> int | float | None:
    if amount is None or probability is None:
        return None
    return number(round(amount * probability / 100, 2))


def closed_date(deal: Opportunity) -> str | None:
    if deal.closed_date is None:
        return None
    return activity_timestamp(datetime.combine(deal.closed_date, time.min, tzinfo=UTC))


def contact_role_object(role: OpportunityContactRole, contact: Contact, *, primary: bool) -> dict[str, Any]:
    return {
        "id": role.id,
        "contact_id": contact.id,
        "role": role.role,
        "is_primary": primary,
        "created_at": timestamp(role.created_at),
        "contact": {
            "id": contact.id,
            "name": contact.name,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
        },
    }


def opportunity_object(deal: Opportunity, context: DealContext) -> dict[str, Any]:
    stage = context.stage
    probability = stage.probability if stage is not None else None
    body = _defaults()
    body.update(deal.data or {})
    body.update(
        {
            "id": deal.id,
            "team_id": deal.team_id,
            "owner_id": deal.owner_id,
            "amount": number(deal.amount),
            "closed_date": closed_date(deal),
            "account_id": deal.account_id,
            "description": deal.description,
            "is_closed": deal.is_closed,
            "is_won": deal.is_won,
            "name": deal.name,
            "stage_name": stage.name if stage is not None else None,
            "opportunity_stage_id": deal.opportunity_stage_id,
            "opportunity_pipeline_id": deal.opportunity_pipeline_id,
            "source": deal.source,
            "created_at": timestamp(deal.created_at),
            "updated_at": timestamp(deal.updated_at),
            "created_by_id": deal.creator_id,
            # A closed deal closed when it reached its closed stage.
            "actual_close_date": activity_timestamp(deal.stage_updated_at) if deal.is_closed else None,
            "forecast_category": forecast_category(stage),
            "deal_probability": number(probability),
            "stage_updated_at": activity_timestamp(deal.stage_updated_at),
            "amount_in_team_currency": number(deal.amount),
            "forecasted_revenue": forecasted_revenue(deal.amount, probability),
            "last_activity_date": timestamp(deal.last_activity_date),
            "typed_custom_fields": dict(deal.typed_custom_fields or {}),
            "opportunity_contact_roles": [
                contact_role_object(role, contact, primary=index == 0)
                for index, (role, contact) in enumerate(context.roles)
            ],
            "currency": dict(CURRENCY),
        }
    )
    body.update(context.extra)
    if context.account is not None:
        body["account"] = context.account
    return body
