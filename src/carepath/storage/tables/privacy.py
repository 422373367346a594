"""The case access trail: who read or changed which case, when (personal-data accountability)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table

from carepath.storage.tables.base import ID, metadata
from carepath.storage.types import UTCDateTime

# Its own table rather than audit_log: every case view writes a row, so it grows far faster than
# the admin audit trail, is read only per case (the index), and can be pruned on its own terms.
case_audit = Table(
    "case_audit",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("case_id", ID, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("actor", String(80), nullable=False),
    Column("action", String(40), nullable=False),
    # Where it was read (api, workspace) or what changed (field names, an assignee id); never
    # customer text, so the trail holds no personal data beyond the ids.
    Column("detail", String(200), nullable=True),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_case_audit_tenant_id_case_id_id", "tenant_id", "case_id", "id"),
)
