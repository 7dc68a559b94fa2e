"""Wire shapes of Apollo's user objects. Fields Apollo shows that Perilune has no notion of
(Salesforce links, Chrome-extension settings) keep Apollo's neutral defaults."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from perilune.api.envelopes import PageParams, timestamp
from perilune.api.params import ApolloParams
from perilune.models import User

OPT_OUT_TEMPLATE = "No longer interested in these messages? <%Unsubscribe%>"


class UsersSearchParams(PageParams):
    per_page: int = Field(default=25, ge=1)


class ApiProfileParams(ApolloParams):
    include_credit_usage: bool = False


def identity(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "team_id": user.team_id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "title": user.title,
        "email": user.email,
    }


def user_object(user: User) -> dict[str, Any]:
    return {
        **identity(user),
        "created_at": timestamp(user.created_at),
        "credit_limit": None,
        "direct_dial_credit_limit": None,
        "export_credit_limit": None,
        "ai_credit_limit": None,
        "salesforce_account": None,
        "deleted": user.deleted,
        "opt_out_html_template": OPT_OUT_TEMPLATE,
        "name": user.name,
        "password_needs_reset": False,
        "salesforce_id": None,
        "default_cockpit_layout": None,
        "default_finder_view_ids": {},
        "bridge_calls": False,
        "bridge_phone_number": None,
        "bridge_incoming_calls": False,
        "bridge_incoming_phone_number": None,
        "current_email_verified": True,
        "record_calls": False,
        "salesforce_instance_url": None,
        "permission_set_id": None,
        "typed_custom_fields": {},
        "default_use_local_numbers": False,
        "disable_email_linking": None,
        "sync_salesforce_id": None,
        "sync_crm_id": None,
        "zp_contact_id": None,
        "chrome_extension_downloaded": False,
        "user_roles": [user.role] if user.role == "admin" else [],
        "email_oauth_signin_only": False,
        "notification_last_created_at": None,
        "crm_requested_to_integrate": None,
        "has_invited_user": False,
        "notification_last_read_at": None,
        "daily_data_request_email": False,
        "data_request_emails": True,
        "daily_task_email": True,
        "free_data_credits_email": True,
        "dismiss_new_team_suggestion": None,
        "request_email_change_to": None,
        "self_identified_persona": None,
        "territory_is_active": True,
        "fields_fully_loaded": True,
        "enable_click_tracking": False,
        "enable_open_tracking": True,
        "should_include_unsubscribe_link": False,
        "subteam_ids": [],
        "prospect_territory_ids": [],
        "toggled_on_territory_ids": [],
        "triggered_referral_campaigns": [],
        "linked_salesforce": None,
        "linked_hubspot": False,
        "linked_salesloft": False,
        "linked_crm_name": None,
        "assistant_setting": _assistant_setting(user),
    }


def _assistant_setting(user: User) -> dict[str, Any]:
    return {
        "deal_size_metric": "amount",
        "inactive_account_stage_ids": [],
        "inactive_contact_stage_ids": [],
        "insight_deal_size_signals": {},
        "insight_sale_cycle_signals": {},
        "insight_win_rate_signals": {},
        "job_posting_locations": [],
        "job_posting_titles": [],
        "latest_funding_days": 90,
        "max_num_active_accounts": 100,
        "max_people_in_sequence_per_account": 5,
        "num_inactive_days_to_re_engage": 180,
        "persona_ids": [],
        "success_case_account_stage_ids": [],
        "team_id": user.team_id,
        "technology_uids": [],
        "territory_company_size_ranges": [],
        "territory_location_override": False,
        "territory_locations": [],
        "territory_person_locations": [],
        "user_id": user.id,
    }
