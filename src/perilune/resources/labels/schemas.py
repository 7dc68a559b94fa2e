"""Request parameters, Apollo's error texts and the list object the write endpoints answer with."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from perilune.api.errors import NotFound, Unprocessable
from perilune.api.params import ApolloParams
from perilune.crm.labels import label_object
from perilune.models import Label

NAME_MISSING = "Please enter a non-empty name!"
MODALITY_MISSING = "Please enter a non-empty modality!"
MODALITY_INVALID = "Please enter a valid modality!"
NOTHING_TO_CHANGE = "No Models or Lists provided"
MAX_NAME_LENGTH = 500
# The modalities the API creates lists of and puts records on (Apollo's emailer_campaigns
# lists are its sequences' own).
MEMBER_MODALITIES = ("contacts", "accounts")
# Ids per add or remove request: each is looked up, and databases cap the ids one query takes.
MAX_ENTITY_IDS = 10_000
TOO_MANY_ENTITY_IDS = f"Please send at most {MAX_ENTITY_IDS:,} entity_ids per request."
ADD_JOB_TYPE = "add_entities_to_labels"
REMOVE_JOB_TYPE = "remove_entities_from_labels"


class LabelCreateParams(ApolloParams):
    name: str | None = None
    modality: str | None = None
    book_of_business: bool | None = None


class LabelUpdateParams(ApolloParams):
    name: str | None = None
    book_of_business: bool | None = None


class LabelMembersParams(ApolloParams):
    entity_ids: list[str] = Field(default_factory=list)
    label_names: list[str] = Field(default_factory=list)
    modality: str | None = None
    run_async: bool = Field(default=False, alias="async")


class LabelNotFound(NotFound):
    """Apollo's 404 for a list id the team does not have."""

    def __init__(self, label_id: str) -> None:
        super().__init__()
        self.label_id = label_id

    def body(self) -> dict[str, str]:
        return {"message": f"Could not find label with id {self.label_id}", "error": "Record not found."}


def already_exists(name: str) -> Unprocessable:
    return Unprocessable(f"{name} already exists", skip_alert_dialog=True)


def checked_name(raw: str | None) -> str:
    name = (raw or "").strip()
    if not name:
        raise Unprocessable(NAME_MISSING)
    if len(name) > MAX_NAME_LENGTH:
        raise Unprocessable(f"List names are at most {MAX_NAME_LENGTH} characters.")
    return name


def checked_modality(raw: str | None) -> str:
    modality = (raw or "").strip()
    if not modality:
        raise Unprocessable(MODALITY_MISSING)
    if modality not in MEMBER_MODALITIES:
        raise Unprocessable(MODALITY_INVALID)
    return modality


def member_modality(raw: str | None) -> str:
    """The add/remove endpoints' modality check (their 422 text differs from create's)."""
    modality = (raw or "").strip()
    if modality not in MEMBER_MODALITIES:
        raise Unprocessable(f"Invalid modality: {modality}.")
    return modality


def label_answer(label: Label, cached_count: int) -> dict[str, Any]:
    """The list as the create, update, add and remove answers show it: Apollo's list object
    with ``book_of_business`` (null unless set on an account list)."""
    body = label_object(label, cached_count)
    body.setdefault("book_of_business", None)
    return body
