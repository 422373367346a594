"""The relational schema (SQLAlchemy Core) and its imperative mapping onto the domain classes.

The domain stays free of SQLAlchemy: its dataclasses are mapped here, from the outside.
"""

from __future__ import annotations

import enum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import registry

from carepath.domain import ApiToken, AuditEntry, LoginSession, Tenant, User
from carepath.domain.assistant import AssistantTurn, HandoffReason, TurnOutcome
from carepath.domain.callbacks import Callback, CallbackSource, CallbackStatus
from carepath.domain.calls import Call, CallDirection, CallStatus, IvrChoice
from carepath.domain.cases import Case, CaseStatus, Priority
from carepath.domain.channel_accounts import ChannelAccount
from carepath.domain.contacts import Channel, Contact, Handler
from carepath.domain.customers import Customer, CustomerMerge
from carepath.domain.events import Event
from carepath.domain.identities import Identity, IdentityKind
from carepath.domain.journey import JourneyEvent, JourneyEventType
from carepath.domain.messages import AuthorKind, DeliveryStatus, Direction, Message
from carepath.domain.outbox import OutboxItem, OutboxStatus
from carepath.domain.surveys import Survey
from carepath.domain.tenant_configs import TenantConfigVersion
from carepath.domain.webhooks import WebhookEndpoint
from carepath.knowledge.articles import Article, ArticleStatus
from carepath.knowledge.gaps import SearchOutcome, SearchRecord, SearchSource
from carepath.routing.model import ChannelKind, Presence
from carepath.routing.records import AgentProfile, WorkKind, WorkRecord, WorkStatus
from carepath.storage.types import UTCDateTime
from carepath.types import Role

# Deterministic constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(40)


def str_enum(enum_class: type[enum.StrEnum]) -> Enum:
    """A StrEnum stored as its value in a VARCHAR (no native ENUM type to migrate on PostgreSQL)."""
    return Enum(enum_class, native_enum=False, length=20, values_callable=_enum_values)


def _enum_values(enum_class: type[enum.StrEnum]) -> list[str]:
    return [member.value for member in enum_class]


tenants = Table(
    "tenants",
    metadata,
    Column("id", ID, primary_key=True),
    Column("slug", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("public_key", String(40), nullable=False, unique=True),
    Column("identity_secret", String(64), nullable=False),
    Column("verification_required", Boolean, nullable=False, server_default=false()),
    Column("reopen_window_days", Integer, nullable=False, server_default="7"),
    Column("contact_gap_minutes", Integer, nullable=False, server_default="30"),
    Column("survey_kinds", JSON, nullable=False, server_default='["csat"]'),
)

users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(320), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("role", str_enum(Role), nullable=False),
    Column("password_hash", Text, nullable=True),
    Column("is_active", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_login_at", UTCDateTime(), nullable=True),
    UniqueConstraint("tenant_id", "email"),
)

login_sessions = Table(
    "login_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Index("ix_login_sessions_expires_at", "expires_at"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("role", str_enum(Role), nullable=False),
    Column("secret_digest", String(64), nullable=False),
    Column("created_by", ID, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime(), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
    Index("ix_api_tokens_tenant_id", "tenant_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("actor", String(80), nullable=False),
    Column("action", String(80), nullable=False),
    Column("subject", String(80), nullable=False),
    Column("data", JSON, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_audit_log_tenant_id_at", "tenant_id", "at"),
)

# The per-tenant event counter. Incrementing it takes a row lock held until commit, so events of
# one tenant commit in seq order and a reader resuming "after seq N" can never skip one.
event_counters = Table(
    "event_counters",
    metadata,
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(60), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # Whose event it is, when it is about one customer: a customer's own stream (the widget)
    # reads only theirs through this index instead of filtering the tenant's whole stream.
    Column("customer_id", ID, nullable=True),
    Index("ix_events_tenant_id_customer_id_seq", "tenant_id", "customer_id", "seq"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(60), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", str_enum(OutboxStatus), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("available_at", UTCDateTime(), nullable=False),
    Column("locked_until", UTCDateTime(), nullable=True),
    Column("locked_by", String(80), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("done_at", UTCDateTime(), nullable=True),
    Index("ix_outbox_status_available_at", "status", "available_at"),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("secret", String(80), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_webhook_endpoints_tenant_id", "tenant_id"),
)

customers = Table(
    "customers",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=True),
    Column("segment", String(80), nullable=True),
    Column("traits", JSON, nullable=False),
    Column("merged_into", ID, ForeignKey("customers.id"), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_customers_tenant_id_merged_into", "tenant_id", "merged_into"),
)

identities = Table(
    "identities",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("kind", str_enum(IdentityKind), nullable=False),
    Column("value", String(320), nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # Resolution of every inbound contact is one lookup on this constraint's index.
    UniqueConstraint("tenant_id", "kind", "value"),
    Index("ix_identities_customer_id", "customer_id"),
)

customer_merges = Table(
    "customer_merges",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("survivor_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("merged_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("moved_identity_ids", JSON, nullable=False),
    Column("actor", String(80), nullable=False),
    Column("reason", String(500), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("undone_at", UTCDateTime(), nullable=True),
    Column("undone_by", String(80), nullable=True),
    Index("ix_customer_merges_tenant_id_merged_id", "tenant_id", "merged_id"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("channel", str_enum(Channel), nullable=False),
    Column("status", str_enum(CaseStatus), nullable=False),
    Column("intent", String(80), nullable=True),
    Column("priority", str_enum(Priority), nullable=False),
    Column("segment", String(80), nullable=True),
    Column("assignee_id", ID, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("subject", String(300), nullable=True),
    Column("sla_due_at", UTCDateTime(), nullable=True),
    Column("reopen_count", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("resolved_at", UTCDateTime(), nullable=True),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("handoff", JSON, nullable=True),
    Index("ix_cases_tenant_id_customer_id", "tenant_id", "customer_id"),
    Index("ix_cases_tenant_id_status", "tenant_id", "status"),
    Index("ix_cases_tenant_id_assignee_id", "tenant_id", "assignee_id"),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("case_id", ID, ForeignKey("cases.id"), nullable=False),
    Column("channel", str_enum(Channel), nullable=False),
    Column("handled_by", str_enum(Handler), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("last_activity_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime(), nullable=True),
    Column("assistant_involved", Boolean, nullable=False),
    Column("resolved", Boolean, nullable=True),
    Column("abandoned", Boolean, nullable=False),
    Column("wait_s", Float, nullable=True),
    Column("handle_s", Float, nullable=True),
    Column("csat", Integer, nullable=True),
    Column("nps", Integer, nullable=True),
    Column("ces", Integer, nullable=True),
    Index("ix_contacts_tenant_id_case_id", "tenant_id", "case_id"),
    Index("ix_contacts_tenant_id_customer_id_started_at", "tenant_id", "customer_id", "started_at"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("case_id", ID, ForeignKey("cases.id"), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("contact_id", ID, ForeignKey("contacts.id"), nullable=True),
    Column("channel", str_enum(Channel), nullable=False),
    Column("direction", str_enum(Direction), nullable=False),
    Column("author_kind", str_enum(AuthorKind), nullable=False),
    Column("author_id", ID, nullable=True),
    Column("text", Text, nullable=False),
    Column("is_internal_note", Boolean, nullable=False),
    Column("external_id", String(255), nullable=True),
    Column("attachments", JSON, nullable=False),
    Column("properties", JSON, nullable=False),
    Column("delivery_status", str_enum(DeliveryStatus), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    # Provider retries: one message per (tenant, channel, provider id). NULLs never collide.
    UniqueConstraint("tenant_id", "channel", "external_id"),
    Index("ix_messages_tenant_id_case_id", "tenant_id", "case_id"),
    Index("ix_messages_tenant_id_external_id", "tenant_id", "external_id"),
)

journey_events = Table(
    "journey_events",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("type", str_enum(JourneyEventType), nullable=False),
    Column("name", String(100), nullable=False),
    Column("channel", str_enum(Channel), nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("properties", JSON, nullable=False),
    Column("case_id", ID, ForeignKey("cases.id"), nullable=True),
    Column("contact_id", ID, ForeignKey("contacts.id"), nullable=True),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Index(
        "ix_journey_events_tenant_id_customer_id_occurred_at",
        "tenant_id",
        "customer_id",
        "occurred_at",
    ),
)

surveys = Table(
    "surveys",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("case_id", ID, ForeignKey("cases.id"), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("contact_id", ID, ForeignKey("contacts.id"), nullable=True),
    Column("channel", str_enum(Channel), nullable=False),
    Column("kinds", JSON, nullable=False),
    Column("sent_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("answered_at", UTCDateTime(), nullable=True),
    Column("answers", JSON, nullable=False),
    Index("ix_surveys_tenant_id_case_id", "tenant_id", "case_id"),
)

channel_accounts = Table(
    "channel_accounts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("channel", str_enum(Channel), nullable=False),
    Column("name", String(200), nullable=False),
    # Globally unique: an inbound email or provider callback names the address, not the tenant.
    Column("address", String(320), nullable=False),
    Column("config", JSON, nullable=False),
    Column("secrets_sealed", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("channel", "address"),
    Index("ix_channel_accounts_tenant_id_channel", "tenant_id", "channel"),
)

# How far IMAP polling got in each mailbox, and which poller holds it (a lease, so that several
# worker processes never poll one mailbox at once). Plain Core: a cursor is not a domain object.
imap_cursors = Table(
    "imap_cursors",
    metadata,
    Column(
        "account_id",
        ID,
        ForeignKey("channel_accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("uidvalidity", BigInteger, nullable=True),
    Column("last_uid", BigInteger, nullable=False),
    Column("locked_by", String(80), nullable=True),
    Column("locked_until", UTCDateTime(), nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
)

callbacks = Table(
    "callbacks",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("case_id", ID, ForeignKey("cases.id"), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("phone", String(40), nullable=False),
    Column("requested_for", UTCDateTime(), nullable=False),
    Column("status", str_enum(CallbackStatus), nullable=False),
    Column("source", str_enum(CallbackSource), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # Routing picks due work by status and time; a case shows its callbacks.
    Index("ix_callbacks_tenant_id_status_requested_for", "tenant_id", "status", "requested_for"),
    Index("ix_callbacks_tenant_id_case_id", "tenant_id", "case_id"),
)

tenant_configs = Table(
    "tenant_configs",
    metadata,
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("document", JSON, nullable=False),
    Column("source", Text, nullable=False),
    Column("applied_by", String(80), nullable=False),
    Column("applied_at", UTCDateTime(), nullable=False),
)

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
    Index("ix_kb_searches_tenant_id_outcome_created_at", "tenant_id", "outcome", "created_at"),
)

# Phone calls on cases (inbound and callbacks placed); the provider's CallSid finds a call again.
calls = Table(
    "calls",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("case_id", ID, ForeignKey("cases.id"), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("contact_id", ID, ForeignKey("contacts.id"), nullable=True),
    Column("callback_id", ID, ForeignKey("callbacks.id"), nullable=True),
    Column("placed_by", ID, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("direction", str_enum(CallDirection), nullable=False),
    Column("provider_sid", String(64), nullable=True),
    Column("from_number", String(40), nullable=False),
    Column("to_number", String(40), nullable=False),
    Column("status", str_enum(CallStatus), nullable=False),
    Column("queue", String(64), nullable=True),
    Column("ivr_choice", str_enum(IvrChoice), nullable=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("answered_at", UTCDateTime(), nullable=True),
    Column("enqueued_at", UTCDateTime(), nullable=True),
    Column("ended_at", UTCDateTime(), nullable=True),
    Column("queue_result", String(40), nullable=True),
    Column("duration_s", Float, nullable=True),
    Column("wait_s", Float, nullable=True),
    Column("talk_s", Float, nullable=True),
    Column("abandoned", Boolean, nullable=False),
    Column("recordings", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "provider_sid"),
    Index("ix_calls_tenant_id_case_id", "tenant_id", "case_id"),
    Index("ix_calls_tenant_id_callback_id", "tenant_id", "callback_id"),
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

mapper_registry = registry(metadata=metadata)
_mapped = False


def map_domain() -> None:
    """Map the domain dataclasses onto the tables once per process (idempotent)."""
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(Tenant, tenants)
    mapper_registry.map_imperatively(User, users)
    mapper_registry.map_imperatively(LoginSession, login_sessions)
    mapper_registry.map_imperatively(ApiToken, api_tokens)
    mapper_registry.map_imperatively(AuditEntry, audit_log)
    mapper_registry.map_imperatively(Event, events)
    mapper_registry.map_imperatively(OutboxItem, outbox)
    mapper_registry.map_imperatively(WebhookEndpoint, webhook_endpoints)
    mapper_registry.map_imperatively(Customer, customers)
    mapper_registry.map_imperatively(Identity, identities)
    mapper_registry.map_imperatively(CustomerMerge, customer_merges)
    mapper_registry.map_imperatively(Case, cases)
    mapper_registry.map_imperatively(Contact, contacts)
    mapper_registry.map_imperatively(Message, messages)
    mapper_registry.map_imperatively(JourneyEvent, journey_events)
    mapper_registry.map_imperatively(Survey, surveys)
    mapper_registry.map_imperatively(ChannelAccount, channel_accounts)
    mapper_registry.map_imperatively(TenantConfigVersion, tenant_configs)
    mapper_registry.map_imperatively(Callback, callbacks)
    mapper_registry.map_imperatively(Call, calls)
    mapper_registry.map_imperatively(AgentProfile, agent_profiles)
    mapper_registry.map_imperatively(WorkRecord, work_items)
    mapper_registry.map_imperatively(Article, articles)
    mapper_registry.map_imperatively(SearchRecord, kb_searches)
    mapper_registry.map_imperatively(AssistantTurn, assistant_turns)
    _mapped = True
