"""early delivery statuses (reports that came before the provider id), and the customer who
made a knowledge-base search (so erasure finds their words)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNELS = ("web", "chat", "app", "email", "sms", "whatsapp", "messenger", "instagram", "voice")
STATUSES = ("queued", "sent", "delivered", "read", "failed")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        "early_delivery_statuses",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("channel", _enum("channel", *CHANNELS), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("status", _enum("deliverystatus", *STATUSES), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_early_delivery_statuses_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_early_delivery_statuses")),
    )
    with op.batch_alter_table("early_delivery_statuses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_early_delivery_statuses_tenant_id_channel_external_id",
            ["tenant_id", "channel", "external_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_early_delivery_statuses_received_at", ["received_at"], unique=False
        )
    with op.batch_alter_table("kb_searches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_id", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_kb_searches_customer_id_customers"),
            "customers",
            ["customer_id"],
            ["id"],
        )
        batch_op.create_index(
            "ix_kb_searches_tenant_id_customer_id", ["tenant_id", "customer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("kb_searches", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_searches_tenant_id_customer_id")
        batch_op.drop_constraint(
            batch_op.f("fk_kb_searches_customer_id_customers"), type_="foreignkey"
        )
        batch_op.drop_column("customer_id")
    with op.batch_alter_table("early_delivery_statuses", schema=None) as batch_op:
        batch_op.drop_index("ix_early_delivery_statuses_received_at")
        batch_op.drop_index("ix_early_delivery_statuses_tenant_id_channel_external_id")
    op.drop_table("early_delivery_statuses")
