"""retention: named event-log consumers, the log's purge horizon, indexes for the purges

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 05:00:00.000000

`event_consumers` holds each named consumer's position (the retention purge keeps every
event after the lowest); `log_horizons` how far a log table has been purged (a reader below
it has missed events). The purges of agent log chunks, idempotency keys and metrics remove
the oldest rows first, in bounded batches: each gets an index on the time it is purged by
(the audit trail has had one on `timestamp` since 0002; the event log is purged by its
primary key).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_consumers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_version", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_consumers")),
        sa.UniqueConstraint("name", name=op.f("uq_event_consumers_name")),
    )
    op.create_table(
        "log_horizons",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("purged_through", sa.BigInteger(), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_horizons")),
    )
    with op.batch_alter_table("agent_log_chunks", schema=None) as batch_op:
        batch_op.create_index("ix_agent_log_chunks_created_at", ["created_at"], unique=False)
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index("ix_idempotency_keys_created_at", ["created_at"], unique=False)
    with op.batch_alter_table("metrics", schema=None) as batch_op:
        batch_op.create_index("ix_metrics_timestamp", ["timestamp"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("metrics", schema=None) as batch_op:
        batch_op.drop_index("ix_metrics_timestamp")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_idempotency_keys_created_at")
    with op.batch_alter_table("agent_log_chunks", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_log_chunks_created_at")
    op.drop_table("log_horizons")
    op.drop_table("event_consumers")
