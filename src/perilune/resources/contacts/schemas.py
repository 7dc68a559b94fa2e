"""Request parameters of the contacts endpoints and the wire shape of contact stages. The
contact object itself is perilune.crm.render's (tasks, deals and calls embed it too)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from perilune.api.envelopes import PageParams
from perilune.api.params import ApolloParams
from perilune.models import ContactStage

CONTACT_NOT_FOUND = "Oops! This contact does not exist in Apollo."
MISSING_CONTACT_IDS = "Required parameter 'contact_ids' missing"
MISSING_STAGE_ID = "Required parameter 'contact_stage_id' missing"
MISSING_OWNER_ID = "Required parameter 'owner_id' missing"
BULK_CREATE_MISSING = 'Please provide an array of contact attributes in the "contact_attributes" parameter.'
BULK_CREATE_LIMIT = 100
BULK_CREATE_TOO_MANY = "Please limit your array to 100 contacts or fewer."
BULK_UPDATE_MISSING = "Please provide either contact_ids or contact_attributes"
BULK_UPDATE_LIMIT = 1000
BULK_UPDATE_TOO_MANY = "Please limit your array to fewer than 1000."
# Above this many contacts bulk_update answers at once with a job and works in the background.
BULK_UPDATE_SYNC_LIMIT = 100
INVALID_SORT = "Invalid sort criteria"
INVALID_SEARCH = "Your search parameters are entered incorrectly. Did you try to edit the URL directly?"

# sort_by_field -> the column it sorts on (most recent first unless sort_ascending).
SORT_FIELDS = {
    "contact_last_activity_date": "last_activity_date",
    "contact_email_last_opened_at": "email_last_opened_at",
    "contact_email_last_clicked_at": "email_last_clicked_at",
    "contact_created_at": "created_at",
    "contact_updated_at": "updated_at",
}


class ContactFields(ApolloParams):
    """The fields a contact write may carry (create, update, dedupe, bulk items). Which were
    sent matters: omitted fields are left alone, an empty value clears (``model_fields_set``)."""

    first_name: str | None = None
    last_name: str | None = None
    # A full name, split into first and last when those are not given.
    name: str | None = None
    title: str | None = None
    # Bulk create: takes precedence over title.
    primary_title: str | None = None
    organization_name: str | None = None
    email: str | None = None
    website_url: str | None = None
    linkedin_url: str | None = None
    present_raw_address: str | None = None
    account_id: str | None = None
    organization_id: str | None = None
    person_id: str | None = None
    contact_stage_id: str | None = None
    owner_id: str | None = None
    label_names: list[str] = Field(default_factory=list)
    typed_custom_fields: dict[str, Any] | None = None
    direct_phone: str | None = None
    corporate_phone: str | None = None
    mobile_phone: str | None = None
    home_phone: str | None = None
    other_phone: str | None = None
    # Bulk create: a phone of unknown type, and a list of {raw_number, position}.
    phone: str | None = None
    phone_numbers: list[dict[str, Any]] = Field(default_factory=list)
    contact_emails: list[dict[str, Any]] = Field(default_factory=list)
    salesforce_id: str | None = None
    salesforce_lead_id: str | None = None
    salesforce_contact_id: str | None = None
    salesforce_account_id: str | None = None
    hubspot_vid: str | None = None
    hubspot_id: str | None = None
    photo_url: str | None = None
    twitter_url: str | None = None
    facebook_url: str | None = None
    headline: str | None = None


class ContactCreateParams(ContactFields):
    run_dedupe: bool = False
    # Only used to find the contact to update when run_dedupe is on.
    id: str | None = None


class ContactSearchParams(PageParams):
    q_keywords: str | None = None
    contact_stage_ids: list[str] = Field(default_factory=list)
    contact_label_ids: list[str] = Field(default_factory=list)
    sort_by_field: str | None = None
    sort_ascending: bool = False


class UpdateStagesParams(ApolloParams):
    contact_ids: list[str] = Field(default_factory=list)
    contact_stage_id: str | None = None


class UpdateOwnersParams(ApolloParams):
    contact_ids: list[str] = Field(default_factory=list)
    owner_id: str | None = None


class BulkCreateParams(ApolloParams):
    # Raw items: each is validated as ContactFields (so "which fields were sent" is per item).
    contacts: list[Any] | None = None
    contact_attributes: list[Any] | None = None
    append_label_names: list[str] = Field(default_factory=list)
    owner_id: str | None = None
    run_dedupe: bool = False


class BulkUpdateParams(ContactFields):
    contact_ids: list[str] = Field(default_factory=list)
    contact_attributes: list[Any] = Field(default_factory=list)
    run_async: bool = Field(default=False, alias="async")
    visible_entity_ids: list[str] = Field(default_factory=list)


def stage_object(stage: ContactStage) -> dict[str, Any]:
    return {
        "id": stage.id,
        "team_id": stage.team_id,
        "display_name": stage.name,
        "name": stage.name,
        "display_order": stage.display_order,
        "ignore_trigger_override": stage.ignore_trigger_override,
        "category": stage.category,
        "is_meeting_set": stage.is_meeting_set,
    }
