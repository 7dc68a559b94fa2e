from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from perilune.api.deps import ClockDep, ParamsDep, WriteSessionDep, apollo_endpoint
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.resources.news_articles import service
from perilune.resources.news_articles.schemas import NewsSearchParams

router = APIRouter(tags=["News"])


@router.post("/news_articles/search", summary="News Articles Search")
async def news_articles_search(
    caller: Annotated[Caller, apollo_endpoint(service.NEWS_ARTICLES_SEARCH)],
    params: ParamsDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(NewsSearchParams)
    return ApolloJSON(await service.search(session, caller, parsed, clock.now()))
