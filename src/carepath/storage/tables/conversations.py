"""Customers and their identities, cases, contacts, messages, journey events, surveys, callbacks
and calls."""

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

from carepath.domain.callbacks import CallbackSource, CallbackStatus
from carepath.domain.calls import CallDirection, CallStatus, IvrChoice
from carepath.domain.cases import CaseStatus, Priority
from carepath.domain.contacts import Channel, Handler
from carepath.domain.identities import IdentityKind
from carepath.domain.journey import JourneyEventType
from carepath.domain.messages import AuthorKind, DeliveryStatus, Direction

# Deterministic constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
from carepath.storage.tables.base import ID, metadata, str_enum
from carepath.storage.types import UTCDateTime

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
    # Set when the person's data was erased: the row stays as an anonymous key for analytics.
    Column("erased_at", UTCDateTime(), nullable=True),
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
