"""row versions everywhere: every table whose rows can change counts its writes

Requirements, sub-features and the link and dependency tables (a workflow's or an
initiative's repositories, a requirement's features, phase and task dependencies) change
through `update` too, and had no row version: an update made from a stale read silently
overwrote a newer one. They now have `row_version`, as every other changing table has since
0004, so such an update is refused with Conflict. Existing rows start at version 1. The
tables left without one are append-only (audit entries, log chunks, metrics, checkpoints,
chat messages, change set entries, idempotency keys, the event log): their rows never change.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED = (
    "initiative_repositories",
    "phase_dependencies",
    "task_dependencies",
    "workflow_repositories",
    "sub_features",
    "requirements",
    "requirement_features",
)


def upgrade() -> None:
    for table in VERSIONED:
        # The server default fills the existing rows; the library always writes the column,
        # so the default is dropped again (the metadata has none).
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(
                sa.Column("row_version", sa.BigInteger(), nullable=False, server_default="1")
            )
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("row_version", server_default=None)


def downgrade() -> None:
    for table in reversed(VERSIONED):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("row_version")
