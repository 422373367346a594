"""Request and response bodies of the knowledge-base API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from carepath.domain.contacts import Channel
from carepath.knowledge.articles import MAX_BODY, MAX_TITLE, Article, ArticleStatus
from carepath.knowledge.render import render_html
from carepath.knowledge.search import Hit
from carepath.storage.repositories.articles import GapGroup
from carepath.web.schemas import Request

Labels = list[str]


class ArticleIn(Request):
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    body: str = Field(min_length=1, max_length=MAX_BODY, description="Markdown.")
    slug: str | None = Field(
        default=None, max_length=80, description="URL name; made from the title when absent."
    )
    category: str | None = Field(default=None, max_length=80)
    intents: Labels = Field(default_factory=list, max_length=30)
    tags: Labels = Field(default_factory=list, max_length=30)
    locale: str = Field(default="en", max_length=20)
    channels: list[Channel] = Field(
        default_factory=lambda: list(Channel),
        description="Where customers may read it; empty makes an internal (agents only) article.",
    )
    publish: bool = Field(default=False, description="Publish at once instead of a draft.")

    def fields(self) -> dict[str, Any]:
        data = self.model_dump(exclude={"publish"}, exclude_none=True)
        data["channels"] = [c.value for c in self.channels]
        return data


class ArticleUpdateIn(Request):
    title: str | None = Field(default=None, min_length=1, max_length=MAX_TITLE)
    body: str | None = Field(default=None, min_length=1, max_length=MAX_BODY)
    slug: str | None = Field(default=None, max_length=80)
    category: str | None = Field(default=None, max_length=80, description="null removes it.")
    intents: Labels | None = Field(default=None, max_length=30)
    tags: Labels | None = Field(default=None, max_length=30)
    locale: str | None = Field(default=None, max_length=20)
    channels: list[Channel] | None = None
    version: int | None = Field(
        default=None, description="The version you edited; refused (409) if it changed since."
    )

    def changes(self) -> dict[str, Any]:
        """Only what the body named; null clears `category` and is ignored elsewhere."""
        changes: dict[str, Any] = {}
        for name in self.model_fields_set - {"version"}:
            value = getattr(self, name)
            if value is None and name != "category":
                continue
            changes[name] = [c.value for c in value] if name == "channels" else value
        return changes


class ArticleOut(BaseModel):
    id: str
    slug: str
    title: str
    body: str = Field(description="Markdown, with card numbers masked.")
    category: str | None
    intents: list[str]
    tags: list[str]
    locale: str
    channels: list[str]
    status: ArticleStatus
    helpful_count: int
    not_helpful_count: int
    version: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None

    @classmethod
    def of(cls, article: Article) -> ArticleOut:
        return cls(
            id=article.id,
            slug=article.slug,
            title=article.title,
            body=article.body,
            category=article.category,
            intents=list(article.intents),
            tags=list(article.tags),
            locale=article.locale,
            channels=list(article.channels),
            status=article.status,
            helpful_count=article.helpful_count,
            not_helpful_count=article.not_helpful_count,
            version=article.version,
            created_at=article.created_at,
            updated_at=article.updated_at,
            published_at=article.published_at,
        )


class ArticleDetailOut(ArticleOut):
    html: str = Field(description="The body rendered and sanitised, safe to insert in a page.")

    @classmethod
    def of_article(cls, article: Article) -> ArticleDetailOut:
        return cls(**ArticleOut.of(article).model_dump(), html=render_html(article.body))


class HitOut(BaseModel):
    article_id: str
    slug: str
    title: str
    snippet: str = Field(description="HTML: escaped text, the matched words in <mark>.")
    score: float = Field(description="Higher is better; comparable within one result list.")

    @classmethod
    def of(cls, hit: Hit) -> HitOut:
        return cls(
            article_id=hit.article_id,
            slug=hit.slug,
            title=hit.title,
            snippet=hit.snippet,
            score=hit.score,
        )


class SearchOut(BaseModel):
    items: list[HitOut]


class GapOut(BaseModel):
    words: str = Field(description="The normalised words the searches share.")
    intent: str | None
    count: int
    no_hit: int
    weak: int
    not_helpful: int
    example: str = Field(description="One of the searches as written (card numbers masked).")
    last_at: datetime

    @classmethod
    def of(cls, group: GapGroup) -> GapOut:
        return cls(
            words=group.words,
            intent=group.intent,
            count=group.count,
            no_hit=group.no_hit,
            weak=group.weak,
            not_helpful=group.not_helpful,
            example=group.example,
            last_at=group.last_at,
        )


class GapsOut(BaseModel):
    items: list[GapOut]
