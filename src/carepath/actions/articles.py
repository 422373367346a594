"""Knowledge articles: create, edit, publish and unpublish, delete, and create-or-update by slug
(the importer); each in one transaction with its audit entry and event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from carepath.access import Permission, Principal, authorize, scoped
from carepath.domain import AuditEntry
from carepath.domain.clock import utcnow
from carepath.domain.events import EventType
from carepath.errors import Conflict, InvalidInput
from carepath.knowledge.articles import (
    Article,
    ArticleStatus,
    clean_body,
    clean_category,
    clean_channels,
    clean_labels,
    clean_locale,
    clean_slug,
    clean_title,
    slugify,
)
from carepath.knowledge.render import plain_text
from carepath.storage import Database, UnitOfWork

EDITABLE = ("slug", "title", "body", "category", "intents", "tags", "locale", "channels")


@dataclass(frozen=True)
class Upserted:
    article: Article
    created: bool
    changed: bool


async def do_create_article(
    db: Database, actor: Principal, fields: Mapping[str, Any], *, publish: bool = False
) -> Article:
    authorize(actor, Permission.MANAGE_ARTICLES)
    try:
        async with db.uow() as uow:
            article = await _create(uow, actor, fields, publish=publish, now=utcnow())
    except IntegrityError as exc:
        raise _slug_taken(fields) from exc
    return article


async def do_update_article(
    db: Database,
    actor: Principal,
    article_id: str,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None = None,
) -> Article:
    """`expected_version` (optional) refuses to overwrite an edit made since the caller read it."""
    authorize(actor, Permission.MANAGE_ARTICLES)
    try:
        async with db.uow() as uow:
            article = await _get(uow, actor, article_id)
            if expected_version is not None and expected_version != article.version:
                raise Conflict(
                    f"the article changed since version {expected_version} (now "
                    f"{article.version}); reload it and apply your edit again",
                    article_id=article.id,
                    version=article.version,
                )
            await _edit(uow, actor, article, changes, now=utcnow())
    except IntegrityError as exc:
        raise _slug_taken(changes) from exc
    return article


async def do_set_article_published(
    db: Database, actor: Principal, article_id: str, *, published: bool
) -> Article:
    authorize(actor, Permission.MANAGE_ARTICLES)
    now = utcnow()
    async with db.uow() as uow:
        article = await _get(uow, actor, article_id)
        if published:
            article.publish(now)
        else:
            article.unpublish(now)
        action = "article.published" if published else "article.unpublished"
        await _record(uow, actor, article, action, {"version": article.version})
        await uow.events.append(
            actor.tenant_id, EventType.ARTICLE_UPDATED, article_payload(article)
        )
    return article


async def do_delete_article(db: Database, actor: Principal, article_id: str) -> None:
    authorize(actor, Permission.MANAGE_ARTICLES)
    async with db.uow() as uow:
        article = await _get(uow, actor, article_id)
        payload = article_payload(article)
        await _record(uow, actor, article, "article.deleted", {"slug": article.slug})
        await uow.articles.delete(article)
        await uow.events.append(actor.tenant_id, EventType.ARTICLE_DELETED, payload)


async def do_upsert_article(
    db: Database, actor: Principal, fields: Mapping[str, Any], *, status: ArticleStatus | None
) -> Upserted:
    """Create the article with `fields["slug"]` (or the title's slug), or update the one that
    has it; `status` publishes or unpublishes it too. Unchanged files change nothing."""
    authorize(actor, Permission.MANAGE_ARTICLES)
    slug = clean_slug(str(fields.get("slug") or slugify(str(fields.get("title") or ""))))
    fields = {**fields, "slug": slug}
    now = utcnow()
    try:
        async with db.uow() as uow:
            article = await uow.articles.by_slug(actor.tenant_id, slug)
            if article is None:
                publish = status is ArticleStatus.PUBLISHED
                created = await _create(uow, actor, fields, publish=publish, now=now)
                return Upserted(created, created=True, changed=True)
            changed = await _edit(uow, actor, article, fields, now=now)
            if status is not None and status is not article.status:
                if status is ArticleStatus.PUBLISHED:
                    article.publish(now)
                else:
                    article.unpublish(now)
                await _record(uow, actor, article, f"article.{status.value}", {})
                await uow.events.append(
                    actor.tenant_id, EventType.ARTICLE_UPDATED, article_payload(article)
                )
                changed = True
    except IntegrityError as exc:
        raise _slug_taken(fields) from exc
    return Upserted(article, created=False, changed=changed)


def article_payload(article: Article) -> dict[str, Any]:
    return {
        "article_id": article.id,
        "slug": article.slug,
        "title": article.title,
        "status": article.status.value,
        "locale": article.locale,
        "version": article.version,
        "updated_at": article.updated_at.isoformat(),
    }


async def _create(
    uow: UnitOfWork,
    actor: Principal,
    fields: Mapping[str, Any],
    *,
    publish: bool,
    now: datetime,
) -> Article:
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"unknown article fields: {', '.join(sorted(unknown))}")
    if not fields.get("title") or not fields.get("body"):
        raise InvalidInput("an article needs a title and a body", field="body")
    title = clean_title(str(fields["title"]))
    body = clean_body(str(fields["body"]))
    article = Article(
        tenant_id=actor.tenant_id,
        slug=clean_slug(str(fields.get("slug") or slugify(title))),
        title=title,
        body=body,
        search_text=plain_text(body),
        created_at=now,
        updated_at=now,
    )
    _apply_labels(article, fields)
    if publish:
        article.status = ArticleStatus.PUBLISHED
        article.published_at = now
    uow.articles.add(article)
    await _record(uow, actor, article, "article.created", {"slug": article.slug})
    await uow.events.append(actor.tenant_id, EventType.ARTICLE_CREATED, article_payload(article))
    return article


async def _edit(
    uow: UnitOfWork,
    actor: Principal,
    article: Article,
    changes: Mapping[str, Any],
    *,
    now: datetime,
) -> bool:
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"unknown article fields: {', '.join(sorted(unknown))}")
    before = {name: getattr(article, name) for name in EDITABLE}
    if "slug" in changes:
        article.slug = clean_slug(str(changes["slug"]))
    if "title" in changes:
        article.title = clean_title(str(changes["title"]))
    if "body" in changes:
        article.body = clean_body(str(changes["body"]))
        article.search_text = plain_text(article.body)
    _apply_labels(article, changes)
    changed = sorted(name for name in EDITABLE if getattr(article, name) != before[name])
    if not changed:
        return False
    article.version += 1
    article.updated_at = now
    await _record(uow, actor, article, "article.updated", {"fields": changed})
    await uow.events.append(actor.tenant_id, EventType.ARTICLE_UPDATED, article_payload(article))
    return True


def _apply_labels(article: Article, fields: Mapping[str, Any]) -> None:
    if "category" in fields:
        article.category = clean_category(fields["category"])
    if "intents" in fields:
        article.intents = clean_labels(_listed(fields["intents"]), field="intents")
    if "tags" in fields:
        article.tags = clean_labels(_listed(fields["tags"]), field="tags")
    if "locale" in fields:
        article.locale = clean_locale(str(fields["locale"]))
    if "channels" in fields:
        article.channels = clean_channels(_listed(fields["channels"]))


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.split(",")) if part]
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    raise InvalidInput("expected a list of names")


async def _get(uow: UnitOfWork, actor: Principal, article_id: str) -> Article:
    return scoped(actor, await uow.articles.get(actor.tenant_id, article_id), "article")


async def _record(
    uow: UnitOfWork, actor: Principal, article: Article, action: str, data: dict[str, Any]
) -> None:
    await uow.audit.record(
        AuditEntry(
            tenant_id=actor.tenant_id,
            actor=actor.actor,
            action=action,
            subject=article.id,
            data=data,
        )
    )


def _slug_taken(fields: Mapping[str, Any]) -> Conflict:
    return Conflict(
        f"another article already has the slug {fields.get('slug')!r}; choose another",
        field="slug",
    )
