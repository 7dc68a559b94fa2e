"""Request parameters of the call-record endpoints (``/phone_calls``, master keys only) and the
wire shape of Apollo's phone call object.

The spec names its parameters as query keys (``user_id[]``, ``date_range[min]``); they are read
from the query string, a form or a JSON body alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from perilune.api.params import ApolloParams
from perilune.crm.render import activity_timestamp
from perilune.models import PhoneCall
from perilune.resources.mixed_companies.schemas import NumberRange, SearchPage, SearchParams
from perilune.resources.news_articles.schemas import DateRange

# Apollo's call statuses (its own records spell "no-answer" too).
STATUSES = ("queued", "ringing", "in-progress", "completed", "no_answer", "no-answer", "failed", "busy")
ACTIVE_STATUSES = ("queued", "ringing", "in-progress")
INVALID_STATUS = f"status must be one of: {', '.join(STATUSES)}"
INVALID_DURATION = "duration must be a whole number of seconds"
INVALID_SEARCH = "Your search parameters are entered incorrectly. Did you try to edit the URL directly?"
# inbound in a search: Apollo's words, and booleans.
INBOUND = {"incoming": True, "true": True, "outgoing": False, "false": False}


class PhoneCallFields(ApolloParams):
    """What a call record write may carry; an update changes only what was sent."""

    logged: bool | None = None
    user_id: list[str] | None = Field(default=None, alias="user_id[]")
    contact_id: str | None = None
    account_id: str | None = None
    to_number: str | None = None
    from_number: str | None = None
    status: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    duration: int | str | None = None
    phone_call_purpose_id: str | None = None
    phone_call_outcome_id: str | None = None
    note: str | None = None
    # Extensions: the call's direction and the deal it was about.
    inbound: bool | None = None
    opportunity_id: str | None = None


class PhoneCallSearchParams(SearchParams, SearchPage):
    date_range: DateRange = Field(default_factory=DateRange)
    duration: NumberRange = Field(default_factory=NumberRange)
    inbound: str | None = None
    user_ids: list[str] = Field(default_factory=list)
    contact_label_ids: list[str] = Field(default_factory=list)
    # An extension: calls with any of these contacts.
    contact_ids: list[str] = Field(default_factory=list)
    phone_call_purpose_ids: list[str] = Field(default_factory=list)
    phone_call_outcome_ids: list[str] = Field(default_factory=list)
    q_keywords: str | None = None


def _defaults() -> dict[str, Any]:
    return {
        "voice_setting_id": None,
        "recording_url": None,
        "twilio_call_sid": None,
        "call_identifier": None,
        "agent_call_sid": None,
        "transcription_too_long": None,
        "twilio_recording_sid": None,
        "need_recording_upload": False,
        "outreach_task_id": None,
        "salesforce_id": None,
        "hubspot_id": None,
        "conference_id": None,
        "voicemail_dropped": False,
        "parallel_dial_item_id": None,
        "transcribed": False,
        "transcribing": False,
        "transcription_progress": 0,
    }


def phone_call_object(
    call: PhoneCall, contact: dict[str, Any] | None, account: dict[str, Any] | None
) -> dict[str, Any]:
    body = _defaults()
    body.update(call.data or {})
    body.update(
        {
            "id": call.id,
            "user_id": call.user_id,
            "account_id": call.account_id,
            "contact_id": call.contact_id,
            "opportunity_id": call.opportunity_id,
            "phone_call_outcome_id": call.phone_call_outcome_id,
            "phone_call_purpose_id": call.phone_call_purpose_id,
            "inbound": call.inbound,
            "from_number": call.from_number,
            "to_number": call.to_number,
            "start_time": activity_timestamp(call.start_time),
            "end_time": activity_timestamp(call.end_time),
            "logged": call.logged,
            "note": call.note,
            "note_text": call.note or "",
            "status": call.status,
            "duration": call.duration,
        }
    )
    if contact is not None:
        body["contact"] = contact
    if account is not None:
        body["account"] = account
    return body


def date_crumb(bound: str, day: datetime, today: datetime) -> dict[str, Any]:
    """Apollo's date breadcrumb: ``After Tue, Apr 01`` / ``Before Today``."""
    when = "Today" if day.date() == today.date() else day.strftime("%a, %b %d")
    return {
        "label": "Date",
        "signal_field_name": "date_range",
        "value": day.date().isoformat(),
        "display_name": f"{bound} {when}",
    }
