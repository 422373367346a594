"""Delivery reports that came before the provider's id was stored with our message."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table

from carepath.domain.contacts import Channel
from carepath.domain.messages import DeliveryStatus
from carepath.storage.tables.base import ID, metadata, str_enum
from carepath.storage.types import UTCDateTime

# A provider can report on a message before the send that made it has recorded the provider's
# id (the callback overtakes the API's answer). The report was acknowledged, so it is kept here
# and applied when the id is stored; rows that never match are purged after a day.
early_delivery_statuses = Table(
    "early_delivery_statuses",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", ID, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("channel", str_enum(Channel), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("status", str_enum(DeliveryStatus), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Index(
        "ix_early_delivery_statuses_tenant_id_channel_external_id",
        "tenant_id",
        "channel",
        "external_id",
    ),
    Index("ix_early_delivery_statuses_received_at", "received_at"),
)
