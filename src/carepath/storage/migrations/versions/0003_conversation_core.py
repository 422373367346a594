"""customers, identities, cases, contacts, messages, journey events, surveys

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 16:23:15.689213
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("segment", sa.String(length=80), nullable=True),
        sa.Column("traits", sa.JSON(), nullable=False),
        sa.Column("merged_into", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_into"], ["customers.id"], name=op.f("fk_customers_merged_into_customers")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_customers_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customers_tenant_id_merged_into", ["tenant_id", "merged_into"], unique=False
        )

    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "web",
                "chat",
                "app",
                "email",
                "sms",
                "whatsapp",
                "messenger",
                "instagram",
                "voice",
                name="channel",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "bot",
                "queued",
                "assigned",
                "pending_customer",
                "resolved",
                "closed",
                name="casestatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("intent", sa.String(length=80), nullable=True),
        sa.Column(
            "priority",
            sa.Enum(
                "low", "normal", "high", "urgent", name="priority", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("segment", sa.String(length=80), nullable=True),
        sa.Column("assignee_id", sa.String(length=40), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("sla_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["users.id"],
            name=op.f("fk_cases_assignee_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_cases_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_cases_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cases_tenant_id_assignee_id", ["tenant_id", "assignee_id"], unique=False
        )
        batch_op.create_index(
            "ix_cases_tenant_id_customer_id", ["tenant_id", "customer_id"], unique=False
        )
        batch_op.create_index("ix_cases_tenant_id_status", ["tenant_id", "status"], unique=False)

    op.create_table(
        "customer_merges",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("survivor_id", sa.String(length=40), nullable=False),
        sa.Column("merged_id", sa.String(length=40), nullable=False),
        sa.Column("moved_identity_ids", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["merged_id"], ["customers.id"], name=op.f("fk_customer_merges_merged_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["survivor_id"], ["customers.id"], name=op.f("fk_customer_merges_survivor_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_customer_merges_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_merges")),
    )
    with op.batch_alter_table("customer_merges", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customer_merges_tenant_id_merged_id", ["tenant_id", "merged_id"], unique=False
        )

    op.create_table(
        "identities",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "email",
                "phone",
                "whatsapp",
                "web_visitor",
                "app_user",
                "external",
                name="identitykind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_identities_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_identities_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identities")),
        sa.UniqueConstraint(
            "tenant_id", "kind", "value", name=op.f("uq_identities_tenant_id_kind_value")
        ),
    )
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.create_index("ix_identities_customer_id", ["customer_id"], unique=False)

    op.create_table(
        "contacts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "web",
                "chat",
                "app",
                "email",
                "sms",
                "whatsapp",
                "messenger",
                "instagram",
                "voice",
                name="channel",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "handled_by",
            sa.Enum(
                "self_service", "assistant", "agent", name="handler", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assistant_involved", sa.Boolean(), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=True),
        sa.Column("abandoned", sa.Boolean(), nullable=False),
        sa.Column("wait_s", sa.Float(), nullable=True),
        sa.Column("handle_s", sa.Float(), nullable=True),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.Column("nps", sa.Integer(), nullable=True),
        sa.Column("ces", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_contacts_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_contacts_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_contacts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contacts_tenant_id_case_id", ["tenant_id", "case_id"], unique=False
        )
        batch_op.create_index(
            "ix_contacts_tenant_id_customer_id_started_at",
            ["tenant_id", "customer_id", "started_at"],
            unique=False,
        )

    op.create_table(
        "journey_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "page_view",
                "article_view",
                "search",
                "app_step",
                "form_started",
                "form_completed",
                "form_abandoned",
                "custom",
                "message",
                "call",
                "callback",
                "handoff",
                "resolution",
                "survey",
                name="journeyeventtype",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "web",
                "chat",
                "app",
                "email",
                "sms",
                "whatsapp",
                "messenger",
                "instagram",
                "voice",
                name="channel",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=True),
        sa.Column("contact_id", sa.String(length=40), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_journey_events_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_journey_events_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_journey_events_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_journey_events_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_events")),
    )
    with op.batch_alter_table("journey_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_journey_events_tenant_id_customer_id_occurred_at",
            ["tenant_id", "customer_id", "occurred_at"],
            unique=False,
        )

    op.create_table(
        "messages",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("contact_id", sa.String(length=40), nullable=True),
        sa.Column(
            "channel",
            sa.Enum(
                "web",
                "chat",
                "app",
                "email",
                "sms",
                "whatsapp",
                "messenger",
                "instagram",
                "voice",
                name="channel",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "direction",
            sa.Enum("inbound", "outbound", name="direction", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "author_kind",
            sa.Enum(
                "customer",
                "agent",
                "assistant",
                "system",
                name="authorkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("author_id", sa.String(length=40), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("is_internal_note", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column(
            "delivery_status",
            sa.Enum(
                "queued",
                "sent",
                "delivered",
                "read",
                "failed",
                name="deliverystatus",
                native_enum=False,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_messages_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_messages_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_messages_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_messages_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint(
            "tenant_id",
            "channel",
            "external_id",
            name=op.f("uq_messages_tenant_id_channel_external_id"),
        ),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_tenant_id_case_id", ["tenant_id", "case_id"], unique=False
        )
        batch_op.create_index(
            "ix_messages_tenant_id_external_id", ["tenant_id", "external_id"], unique=False
        )

    op.create_table(
        "surveys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("contact_id", sa.String(length=40), nullable=True),
        sa.Column(
            "channel",
            sa.Enum(
                "web",
                "chat",
                "app",
                "email",
                "sms",
                "whatsapp",
                "messenger",
                "instagram",
                "voice",
                name="channel",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_surveys_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_surveys_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_surveys_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_surveys_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
    )
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.create_index(
            "ix_surveys_tenant_id_case_id", ["tenant_id", "case_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_index("ix_surveys_tenant_id_case_id")

    op.drop_table("surveys")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_tenant_id_external_id")
        batch_op.drop_index("ix_messages_tenant_id_case_id")

    op.drop_table("messages")
    with op.batch_alter_table("journey_events", schema=None) as batch_op:
        batch_op.drop_index("ix_journey_events_tenant_id_customer_id_occurred_at")

    op.drop_table("journey_events")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_tenant_id_customer_id_started_at")
        batch_op.drop_index("ix_contacts_tenant_id_case_id")

    op.drop_table("contacts")
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_index("ix_identities_customer_id")

    op.drop_table("identities")
    with op.batch_alter_table("customer_merges", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_merges_tenant_id_merged_id")

    op.drop_table("customer_merges")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_tenant_id_status")
        batch_op.drop_index("ix_cases_tenant_id_customer_id")
        batch_op.drop_index("ix_cases_tenant_id_assignee_id")

    op.drop_table("cases")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_tenant_id_merged_into")

    op.drop_table("customers")
