"""Knowledge articles of the caller's tenant: list, search (drafts included), read, write,
publish, delete, and the content-gap report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from carepath.access import Permission, authorize, scoped
from carepath.actions.article_feedback import record_search
from carepath.actions.articles import (
    do_create_article,
    do_delete_article,
    do_set_article_published,
    do_update_article,
)
from carepath.domain.contacts import Channel
from carepath.knowledge.articles import ArticleStatus
from carepath.knowledge.gaps import SearchSource
from carepath.knowledge.search import search
from carepath.storage.repositories.articles import ArticleFilter
from carepath.web.deps import DB, CurrentPrincipal, Cursor, Limit
from carepath.web.schemas import PageOut
from carepath.web.schemas_articles import (
    ArticleDetailOut,
    ArticleIn,
    ArticleOut,
    ArticleUpdateIn,
    GapOut,
    GapsOut,
    HitOut,
    SearchOut,
)

router = APIRouter(prefix="/v1/articles", tags=["knowledge"])

Label = Annotated[str | None, Query(max_length=80)]


@router.get("", summary="List articles", response_model=PageOut[ArticleOut])
async def list_articles(
    principal: CurrentPrincipal,
    db: DB,
    status: ArticleStatus | None = None,
    category: Label = None,
    intent: Label = None,
    tag: Label = None,
    locale: Annotated[str | None, Query(max_length=20)] = None,
    channel: Channel | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[ArticleOut]:
    """Filters on intent, tag and channel apply within each page, so a page may hold fewer
    than `limit`; follow `next_cursor` until it is null."""
    authorize(principal, Permission.READ_ARTICLES)
    filters = ArticleFilter(
        status=status, category=category, intent=intent, tag=tag, locale=locale, channel=channel
    )
    async with db.uow(write=False) as uow:
        page = await uow.articles.list(principal.tenant_id, filters, limit=limit, cursor=cursor)
    return PageOut[ArticleOut](
        items=[ArticleOut.of(a) for a in page.items], next_cursor=page.next_cursor
    )


@router.get("/search", summary="Search articles, drafts included", response_model=SearchOut)
async def search_articles(
    principal: CurrentPrincipal,
    db: DB,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    channel: Annotated[
        Channel | None, Query(description="Only what customers see on this channel.")
    ] = None,
    locale: Annotated[str | None, Query(max_length=20)] = None,
    published_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SearchOut:
    authorize(principal, Permission.READ_ARTICLES)
    async with db.uow() as uow:
        hits = await search(
            uow,
            principal.tenant_id,
            q,
            locale=locale,
            channel=channel,
            limit=limit,
            include_drafts=not published_only and channel is None,
        )
        # An agent who cannot find an answer is a content gap as much as a customer.
        await record_search(uow, principal.tenant_id, q, hits, source=SearchSource.AGENT)
    return SearchOut(items=[HitOut.of(h) for h in hits])


@router.get("/gaps", summary="The content-gap report", response_model=GapsOut)
async def content_gaps(
    principal: CurrentPrincipal,
    db: DB,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> GapsOut:
    """Searches and assistant turns that found no good answer (nothing, only weak matches, or
    an article the reader said did not help), grouped by their normalised words and intent."""
    authorize(principal, Permission.MANAGE_ARTICLES)
    async with db.uow(write=False) as uow:
        groups = await uow.kb_searches.gaps(principal.tenant_id, since=since, limit=limit)
    return GapsOut(items=[GapOut.of(g) for g in groups])


@router.post("", status_code=201, summary="Create an article", response_model=ArticleDetailOut)
async def create_article(body: ArticleIn, principal: CurrentPrincipal, db: DB) -> ArticleDetailOut:
    article = await do_create_article(db, principal, body.fields(), publish=body.publish)
    return ArticleDetailOut.of_article(article)


@router.get("/{article_id}", summary="An article, with its sanitised HTML")
async def get_article(article_id: str, principal: CurrentPrincipal, db: DB) -> ArticleDetailOut:
    authorize(principal, Permission.READ_ARTICLES)
    async with db.uow(write=False) as uow:
        article = scoped(
            principal, await uow.articles.get(principal.tenant_id, article_id), "article"
        )
    return ArticleDetailOut.of_article(article)


@router.patch("/{article_id}", summary="Edit an article")
async def update_article(
    article_id: str, body: ArticleUpdateIn, principal: CurrentPrincipal, db: DB
) -> ArticleDetailOut:
    article = await do_update_article(
        db, principal, article_id, body.changes(), expected_version=body.version
    )
    return ArticleDetailOut.of_article(article)


@router.post("/{article_id}/publish", summary="Publish an article")
async def publish_article(article_id: str, principal: CurrentPrincipal, db: DB) -> ArticleOut:
    return ArticleOut.of(await do_set_article_published(db, principal, article_id, published=True))


@router.post("/{article_id}/unpublish", summary="Take an article back to draft")
async def unpublish_article(article_id: str, principal: CurrentPrincipal, db: DB) -> ArticleOut:
    article = await do_set_article_published(db, principal, article_id, published=False)
    return ArticleOut.of(article)


@router.delete("/{article_id}", status_code=204, summary="Delete an article")
async def delete_article(article_id: str, principal: CurrentPrincipal, db: DB) -> None:
    await do_delete_article(db, principal, article_id)
