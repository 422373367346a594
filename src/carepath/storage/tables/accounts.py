"""Tenants and who acts in them: users, sessions, tokens, audit, configuration, channel accounts."""

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
    UniqueConstraint,
    false,
)

from carepath.domain.contacts import Channel

# Deterministic constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
from carepath.storage.tables.base import ID, metadata, str_enum
from carepath.storage.types import UTCDateTime
from carepath.types import Role

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
