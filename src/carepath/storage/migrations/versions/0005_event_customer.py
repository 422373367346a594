"""customer id on events

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 16:51:27.841914
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_id", sa.String(length=40), nullable=True))
        batch_op.create_index(
            "ix_events_tenant_id_customer_id_seq", ["tenant_id", "customer_id", "seq"], unique=False
        )
    # Events written before this revision learn whose they are from their payload.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE events SET customer_id = json_extract(payload, '$.customer_id')")
    else:
        op.execute("UPDATE events SET customer_id = payload->>'customer_id'")


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_tenant_id_customer_id_seq")
        batch_op.drop_column("customer_id")
