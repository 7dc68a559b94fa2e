"""Apollo's default stages, created with every team (auth.admin.create_team) and, for a team
that existed before the CRM did, on first use (``ensure_default_stages``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.db.ids import new_id
from perilune.db.sessions import Sessions
from perilune.models import AccountStage, ContactStage, OpportunityPipeline, OpportunityStage
from perilune.models.base import utcnow

# (name, category, ignore_trigger_override): the nine stages Apollo gives a new team.
DEFAULT_CONTACT_STAGES: tuple[tuple[str, str | None, bool | None], ...] = (
    ("New", "in_progress", None),
    ("Approaching", "in_progress", None),
    ("Replied", "in_progress", None),
    ("Interested", "succeeded", True),
    ("Not Interested", "failed", True),
    ("Unresponsive", "failed", None),
    ("Do Not Contact", "failed", True),
    ("Bad Data", None, None),
    ("Changed Job", None, True),
)
# (name, category, default_exclude_for_leadgen)
DEFAULT_ACCOUNT_STAGES: tuple[tuple[str, str | None, bool], ...] = (
    ("Cold", "in_progress", False),
    ("Current Client", "succeeded", True),
    ("Active Opportunity", "succeeded", True),
    ("Dead Opportunity", "failed", False),
    ("Do Not Prospect", "failed", True),
)
DEFAULT_PIPELINE_NAME = "Default Pipeline"


@dataclass(frozen=True)
class DealStageDefault:
    name: str
    forecast_category_cd: str
    probability: float
    type: str  # Open | Closed/Won | Closed/Lost
    description: str | None = None

    @property
    def is_closed(self) -> bool:
        return self.type != "Open"

    @property
    def is_won(self) -> bool:
        return self.type == "Closed/Won"


DEFAULT_OPPORTUNITY_STAGES: tuple[DealStageDefault, ...] = (
    DealStageDefault("Qualify", "Pipeline", 10, "Open", "First conversation: confirm the need and fit."),
    DealStageDefault("Educate", "Pipeline", 20, "Open", "Show the buyer how the product meets the need."),
    DealStageDefault("Validate", "Best Case", 40, "Open", "The buyer has seen a demo and checks the fit."),
    DealStageDefault("Proposal", "Best Case", 70, "Open", "A proposal is with the buyer."),
    DealStageDefault("Commit", "Committed", 90, "Open", "The buyer has committed verbally."),
    DealStageDefault("Closed Won", "Closed", 100, "Closed/Won"),
    DealStageDefault("Closed Lost", "Omitted", 0, "Closed/Lost"),
    DealStageDefault("Omitted", "Omitted", 0, "Open", "Not a qualified opportunity for the forecast."),
)
# The stage a new contact, account or deal gets when the caller names none.
DEFAULT_CONTACT_STAGE = DEFAULT_CONTACT_STAGES[0][0]
DEFAULT_ACCOUNT_STAGE = DEFAULT_ACCOUNT_STAGES[0][0]
DEFAULT_OPPORTUNITY_STAGE = DEFAULT_OPPORTUNITY_STAGES[0].name


def _ids(now: datetime, count: int) -> list[str]:
    return [new_id(now.timestamp()) for _ in range(count)]


def add_default_stages(session: AsyncSession, team_id: str, now: datetime) -> None:
    """Add every default stage (and the default pipeline) to the session, unconditionally."""
    _add_contact_stages(session, team_id, now)
    _add_account_stages(session, team_id, now)
    _add_opportunity_stages(session, team_id, now)


# Adds one kind of default stage for a team (in the session, at the time).
AddStages = Callable[[AsyncSession, str, datetime], None]


def _add_contact_stages(session: AsyncSession, team_id: str, now: datetime) -> None:
    for order, ((name, category, ignore), stage_id) in enumerate(
        zip(DEFAULT_CONTACT_STAGES, _ids(now, len(DEFAULT_CONTACT_STAGES)), strict=True)
    ):
        session.add(
            ContactStage(
                id=stage_id,
                team_id=team_id,
                name=name,
                display_order=order,
                category=category,
                ignore_trigger_override=ignore,
                created_at=now,
            )
        )


def _add_account_stages(session: AsyncSession, team_id: str, now: datetime) -> None:
    for order, ((name, category, exclude), stage_id) in enumerate(
        zip(DEFAULT_ACCOUNT_STAGES, _ids(now, len(DEFAULT_ACCOUNT_STAGES)), strict=True)
    ):
        session.add(
            AccountStage(
                id=stage_id,
                team_id=team_id,
                name=name,
                display_order=order,
                category=category,
                default_exclude_for_leadgen=exclude,
                created_at=now,
            )
        )


def _add_opportunity_stages(session: AsyncSession, team_id: str, now: datetime) -> None:
    pipeline = OpportunityPipeline(
        id=new_id(now.timestamp()),
        team_id=team_id,
        name=DEFAULT_PIPELINE_NAME,
        is_default=True,
        created_at=now,
    )
    session.add(pipeline)
    for order, stage in enumerate(DEFAULT_OPPORTUNITY_STAGES):
        session.add(
            OpportunityStage(
                id=new_id(now.timestamp()),
                team_id=team_id,
                opportunity_pipeline_id=pipeline.id,
                name=stage.name,
                display_order=float(order),
                forecast_category_cd=stage.forecast_category_cd,
                probability=stage.probability,
                description=stage.description,
                type=stage.type,
                is_won=stage.is_won,
                is_closed=stage.is_closed,
                created_at=now,
            )
        )


async def _has_any(
    session: AsyncSession, model: type[ContactStage | AccountStage | OpportunityStage], team_id: str
) -> bool:
    found = await session.scalar(select(exists().where(model.team_id == team_id)))
    return bool(found)


async def ensure_default_stages(session: AsyncSession, team_id: str, now: datetime | None = None) -> None:
    """Give the team Apollo's default contact, account and deal stages for each kind it has none
    of. Cheap when the stages exist (three indexed EXISTS). Two requests racing to create them
    for the same team: the loser's insert hits the (team, name) unique constraint inside a
    savepoint, which is rolled back, leaving the winner's stages."""
    now = now or utcnow()
    missing = await _missing_kinds(session, team_id)
    if not missing:
        return
    try:
        async with session.begin_nested():
            for add in missing:
                add(session, team_id, now)
    except IntegrityError:
        pass  # another transaction created them first


async def _missing_kinds(session: AsyncSession, team_id: str) -> list[AddStages]:
    return [
        add
        for model, add in (
            (ContactStage, _add_contact_stages),
            (AccountStage, _add_account_stages),
            (OpportunityStage, _add_opportunity_stages),
        )
        if not await _has_any(session, model, team_id)
    ]


async def stages_session(sessions: Sessions, team_id: str) -> AsyncSession:
    """The session to list the team's stages in: the read session when the team has stages of
    every kind; else the write session, once it has created the missing kinds."""
    if not await _missing_kinds(sessions.reads, team_id):
        return sessions.reads
    session = await sessions.writes()
    await ensure_default_stages(session, team_id)
    return session


async def stage_for(
    session: AsyncSession,
    model: type[ContactStage] | type[AccountStage] | type[OpportunityStage],
    team_id: str,
    stage_id: str,
) -> ContactStage | AccountStage | OpportunityStage | None:
    """The team's stage with this id, or None (another team's stage included)."""
    found: ContactStage | AccountStage | OpportunityStage | None = await session.scalar(
        select(model).where(model.team_id == team_id, model.id == stage_id)
    )
    return found


async def default_stage_id(
    session: AsyncSession,
    model: type[ContactStage] | type[AccountStage] | type[OpportunityStage],
    team_id: str,
) -> str | None:
    """The stage a new record gets when none is named: the default's name if the team still has
    it, else the team's first stage by display order."""
    await ensure_default_stages(session, team_id)
    name = {ContactStage: DEFAULT_CONTACT_STAGE, AccountStage: DEFAULT_ACCOUNT_STAGE}.get(
        model, DEFAULT_OPPORTUNITY_STAGE
    )
    rows: Sequence[tuple[str, str]] = (
        await session.execute(
            select(model.id, model.name)
            .where(model.team_id == team_id)
            .order_by(model.display_order, model.created_at, model.id)
        )
    ).all()
    for stage_id, stage_name in rows:
        if stage_name == name:
            return stage_id
    return rows[0][0] if rows else None
