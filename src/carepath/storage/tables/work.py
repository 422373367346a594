"""Routing (agent profiles, work items), the assistant's turns and the knowledge base."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from carepath.domain.assistant import HandoffReason, TurnOutcome
from carepath.domain.contacts import Channel
from carepath.knowledge.articles import ArticleStatus
from carepath.knowledge.gaps import SearchOutcome, SearchSource
from carepath.routing.model import ChannelKind, Presence
from carepath.routing.records import WorkKind, WorkStatus

# Deterministic constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
from carepath.storage.tables.base import ID, metadata, str_enum
from carepath.storage.types import UTCDateTime

# Who takes routed work: skills, capacity per channel kind, presence. An agent's load is not a
# column: it is the open work they hold, counted while this row is locked (routing/records.py).
agent_profiles = Table(
    "agent_profiles",
    metadata,
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("skills", JSON, nullable=False),
    Column("capacity", JSON, nullable=False),
    Column("total_capacity", Integer, nullable=False),
    Column("presence", str_enum(Presence), nullable=False),
    Column("presence_changed_at", UTCDateTime(), nullable=False),
    Column("idle_since", UTCDateTime(), nullable=False),
    Column("last_assigned_at", UTCDateTime(), nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_agent_profiles_tenant_id_presence", "tenant_id", "presence"),
)


# Cases and callbacks that need an agent, from queued to done. The dispatcher claims waiting
# rows with FOR UPDATE SKIP LOCKED; offers expire, so a dispatcher that dies leaves nothing held.
work_items = Table(
    "work_items",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("kind", str_enum(WorkKind), nullable=False),
    Column("subject_id", ID, nullable=False),
    Column("case_id", ID, ForeignKey("cases.id"), nullable=False),
    Column("skill", String(60), nullable=False),
    Column("fallback_skill", String(60), nullable=True),
    Column("queue", String(60), nullable=True),
    Column("channel_kind", str_enum(ChannelKind), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("sla_due_at", UTCDateTime(), nullable=True),
    Column("enqueued_at", UTCDateTime(), nullable=False),
    Column("preferred_agent_id", ID, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("declined_by", JSON, nullable=False),
    Column("status", str_enum(WorkStatus), nullable=False),
    Column("offered_to", ID, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("offer_expires_at", UTCDateTime(), nullable=True),
    Column("assigned_to", ID, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("assigned_at", UTCDateTime(), nullable=True),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("sla_breached", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # The dispatcher's scan (open work per tenant), an agent's load, a case's work.
    Index("ix_work_items_status_tenant_id_enqueued_at", "status", "tenant_id", "enqueued_at"),
    Index("ix_work_items_assigned_to_status", "assigned_to", "status"),
    Index("ix_work_items_offered_to_status", "offered_to", "status"),
    Index("ix_work_items_tenant_id_case_id", "tenant_id", "case_id"),
)


assistant_turns = Table(
    "assistant_turns",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("case_id", ID, ForeignKey("cases.id"), nullable=False),
    Column("contact_id", ID, ForeignKey("contacts.id"), nullable=True),
    Column("message_id", ID, ForeignKey("messages.id"), nullable=False),
    Column("channel", str_enum(Channel), nullable=False),
    Column("outcome", str_enum(TurnOutcome), nullable=False),
    Column("intent", String(80), nullable=True),
    Column("confidence", Float, nullable=True),
    Column("treatment", String(20), nullable=True),
    Column("reason", str_enum(HandoffReason), nullable=True),
    Column("article_id", ID, nullable=True),
    Column("flow", String(80), nullable=True),
    Column("state", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "message_id"),
    Index("ix_assistant_turns_tenant_id_case_id", "tenant_id", "case_id"),
    Index("ix_assistant_turns_tenant_id_created_at", "tenant_id", "created_at"),
)


# Help articles. The search index over them (SQLite FTS5 table kept by triggers, PostgreSQL GIN
# expression index) is made by migration 0011 outside this metadata: storage/search_index.py.
articles = Table(
    "articles",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("slug", String(80), nullable=False),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("search_text", Text, nullable=False),
    Column("category", String(80), nullable=True),
    Column("intents", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("locale", String(20), nullable=False),
    Column("channels", JSON, nullable=False),
    Column("status", str_enum(ArticleStatus), nullable=False),
    Column("helpful_count", Integer, nullable=False),
    Column("not_helpful_count", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("published_at", UTCDateTime(), nullable=True),
    UniqueConstraint("tenant_id", "slug"),
    Index("ix_articles_tenant_id_status_category", "tenant_id", "status", "category"),
)


# Searches and unanswered assistant turns, for the content-gap report.
kb_searches = Table(
    "kb_searches",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("source", str_enum(SearchSource), nullable=False),
    Column("query", String(500), nullable=False),
    Column("words", String(500), nullable=False),
    Column("intent", String(80), nullable=True),
    Column("outcome", str_enum(SearchOutcome), nullable=False),
    Column("hits", Integer, nullable=False),
    Column("best_score", Float, nullable=True),
    Column("article_id", ID, ForeignKey("articles.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    # Who searched, when carepath knows (a known visitor, the assistant's customer): erasure
    # finds their words by it. Anonymous searches have none.
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=True),
    Index("ix_kb_searches_tenant_id_outcome_created_at", "tenant_id", "outcome", "created_at"),
    Index("ix_kb_searches_tenant_id_customer_id", "tenant_id", "customer_id"),
)
