"""audit: the audit log, with a subject (entity_type, entity_id) that has no foreign key

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_logs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=100), nullable=True),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("event_category", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("event_data", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("before_state", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("after_state", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "event_category IN ('workflow', 'step', 'file', 'worktree', 'quality', 'user_action', 'record')",
            name=op.f("ck_audit_logs_event_category"),
        ),
        sa.CheckConstraint(
            "severity IN ('debug', 'info', 'warning', 'error')", name=op.f("ck_audit_logs_severity")
        ),
        sa.CheckConstraint(
            "source IN ('system', 'user', 'cli')", name=op.f("ck_audit_logs_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_logs")),
    )
    with op.batch_alter_table("audit_logs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_logs_entity_type_entity_id", ["entity_type", "entity_id"], unique=False
        )
        batch_op.create_index("ix_audit_logs_event_category", ["event_category"], unique=False)
        batch_op.create_index("ix_audit_logs_event_type", ["event_type"], unique=False)
        batch_op.create_index("ix_audit_logs_timestamp", ["timestamp"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_logs_timestamp")
        batch_op.drop_index("ix_audit_logs_event_type")
        batch_op.drop_index("ix_audit_logs_event_category")
        batch_op.drop_index("ix_audit_logs_entity_type_entity_id")

    op.drop_table("audit_logs")
