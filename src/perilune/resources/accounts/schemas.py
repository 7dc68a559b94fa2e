"""Request parameters of the accounts endpoints and the wire shape of account stages. The account
object itself is perilune.crm.render's (contacts, deals and tasks embed it too)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from perilune.api.envelopes import PageParams
from perilune.api.params import ApolloParams
from perilune.models import AccountStage

NAME_OR_DOMAIN = "Please specify at least a name or domain."
MISSING_ACCOUNT_IDS = "Required parameter 'account_ids' missing"
MISSING_OWNER_ID = "Required parameter 'owner_id' missing"
BULK_CREATE_MISSING = 'Please provide an array of account attributes in the "accounts" parameter.'
BULK_CREATE_LIMIT = 100
BULK_CREATE_TOO_MANY = "Please limit your array to 100 accounts or fewer."
BULK_UPDATE_MISSING = "Please provide either account_ids or account_attributes"
BULK_UPDATE_LIMIT = 1000
BULK_UPDATE_TOO_MANY = "Please limit your array to fewer than 1000."
ASYNC_NOT_PERMITTED = "Async processing is not permitted."
INVALID_SORT = "Invalid sort criteria"
INVALID_SEARCH = "Your search parameters are entered incorrectly. Did you try to edit the URL directly?"

# sort_by_field -> the column it sorts on (most recent first unless sort_ascending).
SORT_FIELDS = {
    "account_last_activity_date": "last_activity_date",
    "account_created_at": "created_at",
    "account_updated_at": "updated_at",
}


class AccountFields(ApolloParams):
    """What an account write may carry (create, update, bulk items). Omitted fields are left
    alone; an empty value clears (``model_fields_set``)."""

    name: str | None = None
    domain: str | None = None
    owner_id: str | None = None
    account_stage_id: str | None = None
    # The spec says phone; the legacy docs say phone_number.
    phone: str | None = None
    phone_number: str | None = None
    raw_address: str | None = None
    organization_id: str | None = None
    parent_account_id: str | None = None
    label_names: list[str] = Field(default_factory=list)
    typed_custom_fields: dict[str, Any] | None = None
    salesforce_id: str | None = None
    hubspot_id: str | None = None
    merged_crm_ids: list[str] = Field(default_factory=list)
    linkedin_url: str | None = None
    facebook_url: str | None = None
    twitter_url: str | None = None
    phone_status_cd: str | None = None


class AccountSearchParams(PageParams):
    q_organization_name: str | None = None
    account_stage_ids: list[str] = Field(default_factory=list)
    account_label_ids: list[str] = Field(default_factory=list)
    sort_by_field: str | None = None
    sort_ascending: bool = False


class UpdateOwnersParams(ApolloParams):
    account_ids: list[str] = Field(default_factory=list)
    owner_id: str | None = None


class BulkCreateParams(ApolloParams):
    accounts: list[Any] | None = None
    append_label_names: list[str] = Field(default_factory=list)
    run_dedupe: bool = False


class BulkUpdateParams(ApolloParams):
    account_ids: list[str] = Field(default_factory=list)
    account_attributes: list[Any] = Field(default_factory=list)
    name: str | None = None
    owner_id: str | None = None
    account_stage_id: str | None = None
    typed_custom_fields: dict[str, Any] | None = None
    run_async: bool = Field(default=False, alias="async")


def stage_object(stage: AccountStage) -> dict[str, Any]:
    return {
        "id": stage.id,
        "team_id": stage.team_id,
        "display_name": stage.name,
        "name": stage.name,
        "display_order": stage.display_order,
        "default_exclude_for_leadgen": stage.default_exclude_for_leadgen,
        "category": stage.category,
        "is_meeting_set": stage.is_meeting_set,
    }
