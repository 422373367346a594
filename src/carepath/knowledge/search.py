"""Article search with BM25-style ranking behind one interface: SQLite FTS5 or PostgreSQL.

SQLite ranks with FTS5's `bm25()` (title weighted over tags over body) and cuts `snippet()`s;
PostgreSQL matches a weighted tsvector (title A, tags B, body C) under a GIN index, ranks with
`ts_rank_cd` and cuts `ts_headline`s. Both index the same text, kept in step with article writes
in the writer's own transaction (SQLite: triggers; PostgreSQL: an expression index), so a search
in any process sees exactly what has been committed. Queries are OR-ed terms (a customer's words
rarely all appear in the answer); ranking does the rest.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from carepath.domain.contacts import Channel
from carepath.ids import TenantId
from carepath.knowledge.articles import ArticleStatus
from carepath.knowledge.render import HIGHLIGHT_END, HIGHLIGHT_START, highlighted_html
from carepath.knowledge.text import query_terms
from carepath.storage import Database, UnitOfWork

MAX_LIMIT = 50
SNIPPET_WORDS = 24
# Title, tags, body: a word in the title says far more about what an article is for.
SQLITE_WEIGHTS = (10.0, 4.0, 1.0)
# Scores are the backend's own (FTS5 BM25, or ts_rank_cd): comparable within one result list and
# one backend. A query word in the title, or several in the body, clears these; one common word
# somewhere in a body does not (measured on tests/api/articles_fixture.py). Tune with the gaps.
GOOD_SCORE = {"sqlite": 2.0, "postgresql": 1.0}

# The same expression as the GIN index of migration 0011: change both or neither.
POSTGRES_DOCUMENT = (
    "setweight(to_tsvector('english'::regconfig, a.title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, CAST(a.tags AS text)), 'B') || "
    "setweight(to_tsvector('english'::regconfig, a.search_text), 'C')"
)


@dataclass(frozen=True)
class Hit:
    """One found article. `snippet` is HTML: escaped text with the matched words in <mark>."""

    article_id: str
    slug: str
    title: str
    snippet: str
    score: float

    @property
    def snippet_text(self) -> str:
        """The snippet as plain text (for chat and SMS answers)."""
        return html.unescape(self.snippet.replace("<mark>", "").replace("</mark>", ""))


async def search(
    source: UnitOfWork | Database,
    tenant_id: TenantId,
    query: str,
    *,
    locale: str | None = None,
    channel: Channel | None = None,
    limit: int = 10,
    include_drafts: bool = False,
) -> list[Hit]:
    """The best articles for `query`, best first.

    Customers and the assistant pass their `channel` and see only published articles visible
    there; agents pass `include_drafts=True` and no channel to see everything.
    """
    terms = query_terms(query)
    if not terms:
        return []
    limit = max(1, min(limit, MAX_LIMIT))
    if isinstance(source, Database):
        async with source.uow(write=False) as uow:
            return await _search(uow, tenant_id, terms, locale, channel, limit, include_drafts)
    return await _search(source, tenant_id, terms, locale, channel, limit, include_drafts)


def is_good(hits: list[Hit], *, dialect: str) -> bool:
    """Did the search find an answer worth showing first (not just a shared common word)?"""
    return bool(hits) and hits[0].score >= GOOD_SCORE.get(dialect, 0.0)


def dialect_of(uow: UnitOfWork) -> str:
    return "sqlite" if uow.is_sqlite else "postgresql"


async def _search(
    uow: UnitOfWork,
    tenant_id: TenantId,
    terms: list[str],
    locale: str | None,
    channel: Channel | None,
    limit: int,
    include_drafts: bool,
) -> list[Hit]:
    params: dict[str, Any] = {"tenant_id": tenant_id, "limit": limit}
    filters = ["a.tenant_id = :tenant_id"]
    if not include_drafts:
        filters.append("a.status = :published")
        params["published"] = ArticleStatus.PUBLISHED.value
    if locale is not None:
        filters.append("a.locale = :locale")
        params["locale"] = locale
    if channel is not None:
        params["channel"] = channel.value
        filters.append(
            "EXISTS (SELECT 1 FROM json_each(a.channels) WHERE value = :channel)"
            if uow.is_sqlite
            else "jsonb_exists(CAST(a.channels AS jsonb), :channel)"
        )
    where = " AND ".join(filters)
    params["start"], params["end"] = HIGHLIGHT_START, HIGHLIGHT_END
    if uow.is_sqlite:
        # Each term quoted: FTS5 query syntax in a customer's words is just words.
        params["match"] = " OR ".join(f'"{term}"' for term in terms)
        sql = SQLITE_SEARCH.format(where=where)
    else:
        # Terms are \w+ only, so joined with | they make a valid tsquery.
        params["tsquery"] = " | ".join(terms)
        params["options"] = HEADLINE_OPTIONS
        sql = POSTGRES_SEARCH.format(where=where)
    rows = (await uow.session.execute(text(sql), params)).all()
    return [
        Hit(
            article_id=row.id,
            slug=row.slug,
            title=row.title,
            snippet=highlighted_html(row.snip or ""),
            score=round(float(row.score), 6),
        )
        for row in rows
    ]


# Only constants and the filter list above are formatted in; every value is a bound parameter.
SQLITE_SEARCH = f"""
    SELECT a.id, a.slug, a.title,
           snippet(article_search, 3, :start, :end, '…', {SNIPPET_WORDS}) AS snip,
           -bm25(article_search, 0.0, {", ".join(map(str, SQLITE_WEIGHTS))}) AS score
    FROM article_search JOIN articles AS a ON a.id = article_search.article_id
    WHERE article_search MATCH :match AND {{where}}
    ORDER BY score DESC, a.id
    LIMIT :limit
"""  # noqa: S608
HEADLINE_OPTIONS = (
    f"StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_END}, MaxWords={SNIPPET_WORDS}, "
    'MinWords=8, MaxFragments=2, FragmentDelimiter=" … "'
)
POSTGRES_SEARCH = f"""
    WITH q AS (SELECT to_tsquery('english'::regconfig, :tsquery) AS query)
    SELECT a.id, a.slug, a.title,
           ts_headline('english'::regconfig, a.search_text, q.query, :options) AS snip,
           ts_rank_cd({POSTGRES_DOCUMENT}, q.query) AS score
    FROM articles AS a, q
    WHERE ({POSTGRES_DOCUMENT}) @@ q.query AND {{where}}
    ORDER BY score DESC, a.id
    LIMIT :limit
"""  # noqa: S608
