"""routing: agent profiles and work items

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        "agent_profiles",
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("capacity", sa.JSON(), nullable=False),
        sa.Column("total_capacity", sa.Integer(), nullable=False),
        sa.Column("presence", _enum("presence", "online", "away", "offline"), nullable=False),
        sa.Column("presence_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idle_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_agent_profiles_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_agent_profiles_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agent_profiles")),
    )
    with op.batch_alter_table("agent_profiles", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agent_profiles_tenant_id_presence", ["tenant_id", "presence"], unique=False
        )

    op.create_table(
        "work_items",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("kind", _enum("workkind", "case", "callback"), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("skill", sa.String(length=60), nullable=False),
        sa.Column("fallback_skill", sa.String(length=60), nullable=True),
        sa.Column("queue", sa.String(length=60), nullable=True),
        sa.Column("channel_kind", _enum("channelkind", "messaging", "voice"), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("sla_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("preferred_agent_id", sa.String(length=40), nullable=True),
        sa.Column("declined_by", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            _enum("workstatus", "waiting", "offered", "assigned", "done", "cancelled"),
            nullable=False,
        ),
        sa.Column("offered_to", sa.String(length=40), nullable=True),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_to", sa.String(length=40), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sla_breached", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_to"],
            ["users.id"],
            name=op.f("fk_work_items_assigned_to_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_work_items_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["offered_to"],
            ["users.id"],
            name=op.f("fk_work_items_offered_to_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["preferred_agent_id"],
            ["users.id"],
            name=op.f("fk_work_items_preferred_agent_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_work_items_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_items")),
    )
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_work_items_status_tenant_id_enqueued_at",
            ["status", "tenant_id", "enqueued_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_work_items_assigned_to_status", ["assigned_to", "status"], unique=False
        )
        batch_op.create_index(
            "ix_work_items_offered_to_status", ["offered_to", "status"], unique=False
        )
        batch_op.create_index(
            "ix_work_items_tenant_id_case_id", ["tenant_id", "case_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.drop_index("ix_work_items_tenant_id_case_id")
        batch_op.drop_index("ix_work_items_offered_to_status")
        batch_op.drop_index("ix_work_items_assigned_to_status")
        batch_op.drop_index("ix_work_items_status_tenant_id_enqueued_at")
    op.drop_table("work_items")

    with op.batch_alter_table("agent_profiles", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_profiles_tenant_id_presence")
    op.drop_table("agent_profiles")
