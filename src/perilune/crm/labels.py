"""Lists (Apollo's labels) and their members, shared by every endpoint that names lists: contacts
and accounts (``label_names``, ``append_label_names``) and the labels endpoints themselves."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.envelopes import timestamp
from perilune.db.ids import new_id
from perilune.models import Label, LabelMembership

# A record type (as label memberships and events name it) and the modality of its lists.
MODALITY_OF = {"contact": "contacts", "account": "accounts", "emailer_campaign": "emailer_campaigns"}
ENTITY_OF = {modality: entity for entity, modality in MODALITY_OF.items()}


def clean_names(names: Iterable[object]) -> list[str]:
    """Names as given, trimmed, blanks dropped, each once (first spelling kept)."""
    seen: dict[str, None] = {}
    for name in names:
        text = str(name).strip() if name is not None else ""
        if text:
            seen.setdefault(text, None)
    return list(seen)


async def _existing(session: AsyncSession, team_id: str, modality: str, names: list[str]) -> dict[str, Label]:
    rows = await session.execute(
        select(Label).where(Label.team_id == team_id, Label.modality == modality, Label.name.in_(names))
    )
    return {label.name: label for label in rows.scalars()}


async def labels_named(
    session: AsyncSession,
    team_id: str,
    modality: str,
    names: Iterable[object],
    *,
    user_id: str | None,
    now: datetime,
    create: bool = True,
) -> list[Label]:
    """The team's lists of ``modality`` with these names, in the order named; with ``create``
    (Apollo's label_names behaviour) the missing ones are created, owned by ``user_id``."""
    wanted = clean_names(names)
    if not wanted:
        return []
    found = await _existing(session, team_id, modality, wanted)
    missing = [name for name in wanted if name not in found]
    if create and missing:
        found.update(await _create(session, team_id, modality, missing, user_id=user_id, now=now))
    return [found[name] for name in wanted if name in found]


async def _create(
    session: AsyncSession,
    team_id: str,
    modality: str,
    names: list[str],
    *,
    user_id: str | None,
    now: datetime,
) -> dict[str, Label]:
    labels = [
        Label(
            id=new_id(now.timestamp()),
            team_id=team_id,
            user_id=user_id,
            name=name,
            modality=modality,
            data={},
            created_at=now,
            updated_at=now,
        )
        for name in names
    ]
    try:
        async with session.begin_nested():
            session.add_all(labels)
    except IntegrityError:
        # Another request created one of these names meanwhile: use its list.
        return await _existing(session, team_id, modality, names)
    return {label.name: label for label in labels}


async def add_members(
    session: AsyncSession,
    team_id: str,
    entity_type: str,
    entity_ids: Collection[str],
    labels: Collection[Label],
    now: datetime,
) -> None:
    """Put the records on the lists (records already on a list stay, once)."""
    if not entity_ids or not labels:
        return
    label_ids = [label.id for label in labels]
    present = set(
        (
            await session.execute(
                select(LabelMembership.label_id, LabelMembership.entity_id).where(
                    LabelMembership.team_id == team_id,
                    LabelMembership.label_id.in_(label_ids),
                    LabelMembership.entity_id.in_(list(entity_ids)),
                )
            )
        ).all()
    )
    for label_id in label_ids:
        for entity_id in dict.fromkeys(entity_ids):
            if (label_id, entity_id) not in present:
                session.add(
                    LabelMembership(
                        label_id=label_id,
                        entity_id=entity_id,
                        team_id=team_id,
                        entity_type=entity_type,
                        created_at=now,
                    )
                )
    await _touch(session, team_id, label_ids, now)


async def remove_members(
    session: AsyncSession,
    team_id: str,
    entity_ids: Collection[str],
    label_ids: Collection[str],
    now: datetime,
) -> None:
    if not entity_ids or not label_ids:
        return
    await session.execute(
        delete(LabelMembership).where(
            LabelMembership.team_id == team_id,
            LabelMembership.label_id.in_(list(label_ids)),
            LabelMembership.entity_id.in_(list(entity_ids)),
        )
    )
    await _touch(session, team_id, label_ids, now)


async def replace_members(
    session: AsyncSession,
    team_id: str,
    entity_type: str,
    entity_id: str,
    labels: Collection[Label],
    now: datetime,
) -> None:
    """The record is on exactly these lists of its modality afterwards (``label_names`` on an
    update replaces the record's lists)."""
    current = set((await label_ids_of(session, team_id, [entity_id])).get(entity_id, []))
    wanted = {label.id for label in labels}
    await remove_members(session, team_id, [entity_id], current - wanted, now)
    await add_members(
        session,
        team_id,
        entity_type,
        [entity_id],
        [label for label in labels if label.id not in current],
        now,
    )


async def _touch(session: AsyncSession, team_id: str, label_ids: Collection[str], now: datetime) -> None:
    await session.execute(
        update(Label)
        .where(Label.team_id == team_id, Label.id.in_(list(label_ids)))
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def label_ids_of(
    session: AsyncSession, team_id: str, entity_ids: Collection[str]
) -> dict[str, list[str]]:
    """Each record's list ids (oldest membership first); records on no list are absent."""
    if not entity_ids:
        return {}
    rows = await session.execute(
        select(LabelMembership.entity_id, LabelMembership.label_id)
        .where(LabelMembership.team_id == team_id, LabelMembership.entity_id.in_(list(entity_ids)))
        .order_by(LabelMembership.created_at, LabelMembership.label_id)
    )
    out: dict[str, list[str]] = {}
    for entity_id, label_id in rows:
        out.setdefault(entity_id, []).append(label_id)
    return out


async def member_counts(session: AsyncSession, team_id: str, label_ids: Collection[str]) -> dict[str, int]:
    """Apollo's ``cached_count`` of each list (always exact here)."""
    if not label_ids:
        return {}
    rows = await session.execute(
        select(LabelMembership.label_id, func.count())
        .where(LabelMembership.team_id == team_id, LabelMembership.label_id.in_(list(label_ids)))
        .group_by(LabelMembership.label_id)
    )
    counts = dict.fromkeys(label_ids, 0)
    counts.update({label_id: int(count) for label_id, count in rows})
    return counts


def label_object(label: Label, cached_count: int) -> dict[str, Any]:
    """Apollo's list object, as ``GET /labels`` and the ``labels`` of a contact answer show it."""
    return {
        "_id": label.id,
        "id": label.id,
        "key": label.id,
        "team_id": label.team_id,
        "user_id": label.user_id,
        "name": label.name,
        "modality": label.modality,
        "cached_count": cached_count,
        "concurrency_locks": {},
        "need_cached_count_update": False,
        "needs_count_update_at": timestamp(label.updated_at, zone="+00:00"),
        "rule_config_template_id": None,
        "created_at": timestamp(label.created_at),
        "updated_at": timestamp(label.updated_at),
        **label.data,
    }


async def label_objects(
    session: AsyncSession, team_id: str, labels: Collection[Label]
) -> list[dict[str, Any]]:
    counts = await member_counts(session, team_id, [label.id for label in labels])
    return [label_object(label, counts.get(label.id, 0)) for label in labels]
