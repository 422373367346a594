"""Articles and search records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update

from carepath.domain.contacts import Channel
from carepath.ids import TenantId
from carepath.knowledge.articles import Article, ArticleStatus
from carepath.knowledge.gaps import SearchOutcome, SearchRecord
from carepath.storage.repositories.base import Page, Repository
from carepath.storage.tables import articles, kb_searches


@dataclass(frozen=True)
class ArticleFilter:
    status: ArticleStatus | None = None
    category: str | None = None
    intent: str | None = None
    tag: str | None = None
    locale: str | None = None
    channel: Channel | None = None


@dataclass(frozen=True)
class GapGroup:
    words: str
    intent: str | None
    count: int
    no_hit: int
    weak: int
    not_helpful: int
    example: str
    last_at: datetime


class ArticleRepository(Repository):
    async def get(self, tenant_id: TenantId, article_id: str) -> Article | None:
        query = select(Article).where(
            articles.c.tenant_id == tenant_id, articles.c.id == article_id
        )
        return (await self.session.scalars(query)).first()

    async def by_slug(self, tenant_id: TenantId, slug: str) -> Article | None:
        query = select(Article).where(articles.c.tenant_id == tenant_id, articles.c.slug == slug)
        return (await self.session.scalars(query)).first()

    async def list(
        self, tenant_id: TenantId, filters: ArticleFilter, *, limit: int, cursor: str | None
    ) -> Page[Article]:
        query = select(Article).where(articles.c.tenant_id == tenant_id)
        if filters.status is not None:
            query = query.where(articles.c.status == filters.status)
        if filters.category is not None:
            query = query.where(articles.c.category == filters.category)
        if filters.locale is not None:
            query = query.where(articles.c.locale == filters.locale)
        page = await self.page(query, articles.c.id, limit=limit, cursor=cursor)
        # JSON list membership differs by dialect; a page is small, so it is filtered here.
        if filters.intent is None and filters.tag is None and filters.channel is None:
            return page
        return Page(
            items=[a for a in page.items if _matches(a, filters)], next_cursor=page.next_cursor
        )

    async def published(
        self, tenant_id: TenantId, *, channel: Channel, limit: int = 500
    ) -> Sequence[Article]:
        """What a help centre lists, by category then title."""
        query = (
            select(Article)
            .where(articles.c.tenant_id == tenant_id, articles.c.status == ArticleStatus.PUBLISHED)
            .order_by(articles.c.category, articles.c.title)
            .limit(limit)
        )
        return [a for a in (await self.session.scalars(query)).all() if a.visible_on(channel)]

    async def for_intent(
        self, tenant_id: TenantId, intent: str, *, channel: Channel, locale: str | None = None
    ) -> Sequence[Article]:
        """Published articles answering an intent on a channel, the most helpful first."""
        query = select(Article).where(
            articles.c.tenant_id == tenant_id, articles.c.status == ArticleStatus.PUBLISHED
        )
        if locale is not None:
            query = query.where(articles.c.locale == locale)
        found = [
            a
            for a in (await self.session.scalars(query)).all()
            if intent in a.intents and a.visible_on(channel)
        ]
        return sorted(found, key=lambda a: (a.not_helpful_count - a.helpful_count, a.id))

    async def count_feedback(self, tenant_id: TenantId, article_id: str, *, helpful: bool) -> None:
        """An atomic increment: concurrent votes never overwrite each other."""
        column = articles.c.helpful_count if helpful else articles.c.not_helpful_count
        await self.session.execute(
            update(articles)
            .where(articles.c.tenant_id == tenant_id, articles.c.id == article_id)
            .values({column: column + 1})
            .execution_options(synchronize_session=False)
        )

    async def delete(self, article: Article) -> None:
        await self.session.delete(article)


class SearchRecordRepository(Repository):
    async def get(self, tenant_id: TenantId, record_id: str) -> SearchRecord | None:
        query = select(SearchRecord).where(
            kb_searches.c.tenant_id == tenant_id, kb_searches.c.id == record_id
        )
        return (await self.session.scalars(query)).first()

    async def gaps(
        self, tenant_id: TenantId, *, since: datetime | None, limit: int
    ) -> list[GapGroup]:
        """Records that found no good answer, grouped by their words and intent, biggest first."""
        outcome = kb_searches.c.outcome
        count = func.count()
        query: Select[Any] = (
            select(
                kb_searches.c.words,
                kb_searches.c.intent,
                count,
                _count_of(outcome, SearchOutcome.NO_HIT),
                _count_of(outcome, SearchOutcome.WEAK),
                _count_of(outcome, SearchOutcome.NOT_HELPFUL),
                func.min(kb_searches.c.query),
                func.max(kb_searches.c.created_at),
            )
            .where(
                kb_searches.c.tenant_id == tenant_id,
                outcome != SearchOutcome.ANSWERED,
                # An erased person's search has no words left to group or show.
                kb_searches.c.query != "",
            )
            .group_by(kb_searches.c.words, kb_searches.c.intent)
            .order_by(count.desc(), kb_searches.c.words)
            .limit(limit)
        )
        if since is not None:
            query = query.where(kb_searches.c.created_at >= since)
        rows = (await self.session.execute(query)).all()
        return [
            GapGroup(
                words=row[0],
                intent=row[1],
                count=int(row[2]),
                no_hit=int(row[3]),
                weak=int(row[4]),
                not_helpful=int(row[5]),
                example=row[6],
                last_at=row[7],
            )
            for row in rows
        ]


def _count_of(column: Any, value: SearchOutcome) -> Any:
    return func.count().filter(column == value.value)


def _matches(article: Article, filters: ArticleFilter) -> bool:
    if filters.intent is not None and filters.intent not in article.intents:
        return False
    if filters.tag is not None and filters.tag not in article.tags:
        return False
    return filters.channel is None or article.visible_on(filters.channel)
