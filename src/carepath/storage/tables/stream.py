"""The event stream, the outbox and webhook endpoints."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from carepath.domain.outbox import OutboxStatus

# Deterministic constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
from carepath.storage.tables.base import ID, metadata, str_enum
from carepath.storage.types import UTCDateTime

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
