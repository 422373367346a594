"""The relational schema (SQLAlchemy Core) and its imperative mapping onto the domain classes.

The domain stays free of SQLAlchemy: its dataclasses are mapped here, from the outside.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Enum,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import registry

from carepath.domain import ApiToken, AuditEntry, LoginSession, Tenant, User
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


def role_type() -> Enum:
    return Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


tenants = Table(
    "tenants",
    metadata,
    Column("id", ID, primary_key=True),
    Column("slug", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(320), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("role", role_type(), nullable=False),
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
    Column("role", role_type(), nullable=False),
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
    _mapped = True
