"""calls: phone calls on cases, with wait and talk time, abandonment and recordings

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("contact_id", sa.String(length=40), nullable=True),
        sa.Column("callback_id", sa.String(length=40), nullable=True),
        sa.Column("placed_by", sa.String(length=40), nullable=True),
        sa.Column("direction", _enum("calldirection", "inbound", "outbound"), nullable=False),
        sa.Column("provider_sid", sa.String(length=64), nullable=True),
        sa.Column("from_number", sa.String(length=40), nullable=False),
        sa.Column("to_number", sa.String(length=40), nullable=False),
        sa.Column(
            "status",
            _enum(
                "callstatus",
                "queued",
                "ringing",
                "in_progress",
                "completed",
                "busy",
                "no_answer",
                "failed",
                "canceled",
            ),
            nullable=False,
        ),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column(
            "ivr_choice", _enum("ivrchoice", "continue_in_chat", "callback", "queue"), nullable=True
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("queue_result", sa.String(length=40), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("wait_s", sa.Float(), nullable=True),
        sa.Column("talk_s", sa.Float(), nullable=True),
        sa.Column("abandoned", sa.Boolean(), nullable=False),
        sa.Column("recordings", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["callback_id"], ["callbacks.id"], name=op.f("fk_calls_callback_id_callbacks")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_calls_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_calls_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_calls_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["placed_by"],
            ["users.id"],
            name=op.f("fk_calls_placed_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_calls_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint(
            "tenant_id", "provider_sid", name=op.f("uq_calls_tenant_id_provider_sid")
        ),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index("ix_calls_tenant_id_case_id", ["tenant_id", "case_id"], unique=False)
        batch_op.create_index(
            "ix_calls_tenant_id_callback_id", ["tenant_id", "callback_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_tenant_id_callback_id")
        batch_op.drop_index("ix_calls_tenant_id_case_id")
    op.drop_table("calls")
