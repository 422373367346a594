"""What readers do with the knowledge base: searches (recorded for the content-gap report),
article views on a known visitor's journey, helpful / not helpful votes, unanswered assistant
turns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from carepath.actions.payloads import journey_payload
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.events import EventType
from carepath.domain.identities import IdentityKind
from carepath.domain.journey import JourneyEvent, JourneyEventType
from carepath.errors import NotFound
from carepath.ids import CustomerId, TenantId
from carepath.knowledge.articles import Article, ArticleStatus
from carepath.knowledge.gaps import SearchOutcome, SearchRecord, SearchSource
from carepath.knowledge.search import Hit, dialect_of, is_good, search
from carepath.storage import Database, UnitOfWork

MAX_VISITOR_ID = 200


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    record: SearchRecord


async def record_search(
    uow: UnitOfWork,
    tenant_id: TenantId,
    text: str,
    hits: list[Hit],
    *,
    source: SearchSource,
    intent: str | None = None,
    customer_id: str | None = None,
) -> SearchRecord:
    """Record a search and whether it found a good answer, inside the caller's transaction;
    `customer_id` when the searcher is known (so erasing them finds their words)."""
    if not hits:
        outcome = SearchOutcome.NO_HIT
    elif is_good(hits, dialect=dialect_of(uow)):
        outcome = SearchOutcome.ANSWERED
    else:
        outcome = SearchOutcome.WEAK
    record = SearchRecord.of(
        tenant_id=tenant_id,
        source=source,
        text=text,
        outcome=outcome,
        hits=len(hits),
        best_score=hits[0].score if hits else None,
        article_id=hits[0].article_id if hits else None,
        intent=intent,
        customer_id=customer_id,
    )
    uow.kb_searches.add(record)
    return record


async def record_unanswered(
    uow: UnitOfWork,
    tenant_id: TenantId,
    text: str,
    intent: str | None,
    *,
    customer_id: str | None = None,
) -> SearchRecord:
    """For the assistant: a customer's turn it could not answer from the knowledge base."""
    record = SearchRecord.of(
        tenant_id=tenant_id,
        source=SearchSource.ASSISTANT,
        text=text,
        outcome=SearchOutcome.NO_HIT,
        intent=intent,
        customer_id=customer_id,
    )
    uow.kb_searches.add(record)
    return record


async def do_search_help_centre(
    db: Database,
    tenant_id: TenantId,
    query: str,
    *,
    channel: Channel = Channel.WEB,
    locale: str | None = None,
    visitor: str | None = None,
    limit: int = 10,
) -> SearchResult:
    """A customer's search: the hits, recorded for the gap report and on a known visitor's
    journey, all in one transaction."""
    async with db.uow() as uow:
        hits = await search(uow, tenant_id, query, locale=locale, channel=channel, limit=limit)
        customer_id = await _known_visitor(uow, tenant_id, visitor)
        record = await record_search(
            uow, tenant_id, query, hits, source=SearchSource.HELP_CENTRE, customer_id=customer_id
        )
        if customer_id is not None:
            properties = {"query": record.query, "hits": len(hits), "search_id": record.id}
            await _journey(
                uow, tenant_id, customer_id, JourneyEventType.SEARCH, "help_search", properties
            )
    return SearchResult(hits=hits, record=record)


async def do_record_article_view(
    db: Database, tenant_id: TenantId, article: Article, visitor: str | None
) -> bool:
    """An article read by a visitor carepath knows goes on their journey; others are not
    tracked. True when it was recorded."""
    if not visitor:
        return False
    async with db.uow() as uow:
        customer_id = await _known_visitor(uow, tenant_id, visitor)
        if customer_id is None:
            return False
        properties = {"article_id": article.id, "slug": article.slug, "title": article.title}
        await _journey(
            uow, tenant_id, customer_id, JourneyEventType.ARTICLE_VIEW, article.slug, properties
        )
    return True


async def do_rate_article(
    db: Database,
    tenant_id: TenantId,
    article_id: str,
    *,
    helpful: bool,
    search_id: str | None = None,
) -> None:
    """A reader's vote: a counter, and a not-helpful answer to a search becomes a content gap."""
    async with db.uow() as uow:
        article = await uow.articles.get(tenant_id, article_id)
        if article is None or article.status is not ArticleStatus.PUBLISHED:
            raise NotFound("article not found", kind="article")
        await uow.articles.count_feedback(tenant_id, article.id, helpful=helpful)
        if helpful:
            return
        record = await uow.kb_searches.get(tenant_id, search_id) if search_id else None
        if record is not None:
            record.mark_not_helpful()
            record.article_id = article.id
            return
        uow.kb_searches.add(
            SearchRecord.of(
                tenant_id=tenant_id,
                source=SearchSource.FEEDBACK,
                text=article.title,
                outcome=SearchOutcome.NOT_HELPFUL,
                hits=1,
                article_id=article.id,
                intent=article.intents[0] if article.intents else None,
            )
        )


async def _known_visitor(
    uow: UnitOfWork, tenant_id: TenantId, visitor: str | None
) -> CustomerId | None:
    if not visitor or len(visitor) > MAX_VISITOR_ID:
        return None
    identity = await uow.identities.find(tenant_id, IdentityKind.WEB_VISITOR, visitor.strip())
    if identity is None:
        return None
    customer = await uow.customers.live(tenant_id, identity.customer_id)
    return customer.id if customer is not None else None


async def _journey(
    uow: UnitOfWork,
    tenant_id: TenantId,
    customer_id: CustomerId,
    type_: JourneyEventType,
    name: str,
    properties: Mapping[str, object],
) -> None:
    event = JourneyEvent.record(
        tenant_id=tenant_id,
        customer_id=customer_id,
        type=type_,
        name=name,
        channel=Channel.WEB,
        properties=properties,
        now=utcnow(),
    )
    uow.journey.add(event)
    await uow.flush()
    await uow.events.append(tenant_id, EventType.JOURNEY_EVENT, journey_payload(event))
