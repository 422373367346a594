"""Search records: each help-centre search and unanswered assistant turn, and whether it found a
good answer; the content-gap report groups the ones that did not."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from carepath.domain.clock import utcnow
from carepath.ids import TenantId, new_id
from carepath.knowledge.text import clean_query, gap_key


class SearchSource(enum.StrEnum):
    HELP_CENTRE = "help_centre"
    ASSISTANT = "assistant"
    AGENT = "agent"
    FEEDBACK = "feedback"


class SearchOutcome(enum.StrEnum):
    """`answered`: a hit scored at least the threshold; `weak`: hits, none good enough;
    `no_hit`: nothing; `not_helpful`: the reader said the article did not help."""

    ANSWERED = "answered"
    WEAK = "weak"
    NO_HIT = "no_hit"
    NOT_HELPFUL = "not_helpful"

    @property
    def is_gap(self) -> bool:
        return self is not SearchOutcome.ANSWERED


@dataclass(eq=False)
class SearchRecord:
    tenant_id: TenantId
    source: SearchSource
    query: str
    words: str
    outcome: SearchOutcome
    hits: int = 0
    best_score: float | None = None
    article_id: str | None = None
    intent: str | None = None
    id: str = field(default_factory=lambda: new_id("kb_search"))
    created_at: datetime = field(default_factory=utcnow)
    # Who searched, when known (a known visitor, the assistant's customer): erasure finds the
    # person's words by it.
    customer_id: str | None = None

    @classmethod
    def of(
        cls,
        *,
        tenant_id: TenantId,
        source: SearchSource,
        text: str,
        outcome: SearchOutcome,
        hits: int = 0,
        best_score: float | None = None,
        article_id: str | None = None,
        intent: str | None = None,
        customer_id: str | None = None,
        now: datetime | None = None,
    ) -> SearchRecord:
        return cls(
            tenant_id=tenant_id,
            source=source,
            query=clean_query(text),
            words=gap_key(text)[:500],
            outcome=outcome,
            hits=hits,
            best_score=best_score,
            article_id=article_id,
            intent=intent[:80] if intent else None,
            created_at=now or utcnow(),
            customer_id=customer_id,
        )

    def mark_not_helpful(self) -> None:
        self.outcome = SearchOutcome.NOT_HELPFUL
