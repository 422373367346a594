"""assistant: the hand-off packet on cases, and a record of every bot turn

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNELS = ("web", "chat", "app", "email", "sms", "whatsapp", "messenger", "instagram", "voice")
OUTCOMES = ("answered", "asked", "handed_off", "contained")
REASONS = (
    "customer_request",
    "frustration",
    "not_helpful",
    "low_confidence",
    "sales_opportunity",
    "live_treatment",
    "no_answer",
    "flow_failed",
    "no_model",
)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handoff", sa.JSON(), nullable=True))
    op.create_table(
        "assistant_turns",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("contact_id", sa.String(length=40), nullable=True),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("channel", _enum("channel", *CHANNELS), nullable=False),
        sa.Column("outcome", _enum("turnoutcome", *OUTCOMES), nullable=False),
        sa.Column("intent", sa.String(length=80), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("treatment", sa.String(length=20), nullable=True),
        sa.Column("reason", _enum("handoffreason", *REASONS), nullable=True),
        sa.Column("article_id", sa.String(length=40), nullable=True),
        sa.Column("flow", sa.String(length=80), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_assistant_turns_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_assistant_turns_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_assistant_turns_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_assistant_turns_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_turns")),
        sa.UniqueConstraint(
            "tenant_id", "message_id", name=op.f("uq_assistant_turns_tenant_id_message_id")
        ),
    )
    with op.batch_alter_table("assistant_turns", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assistant_turns_tenant_id_case_id", ["tenant_id", "case_id"], unique=False
        )
        batch_op.create_index(
            "ix_assistant_turns_tenant_id_created_at", ["tenant_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("assistant_turns", schema=None) as batch_op:
        batch_op.drop_index("ix_assistant_turns_tenant_id_created_at")
        batch_op.drop_index("ix_assistant_turns_tenant_id_case_id")
    op.drop_table("assistant_turns")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("handoff")
