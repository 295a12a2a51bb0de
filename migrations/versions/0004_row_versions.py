"""row versions: every entity that changes after it is stored counts its writes

An UPDATE now requires the row version that was read (and sets the next one), so an update
based on a stale read is refused with Conflict on every backend instead of silently
overwriting a concurrent change. Existing rows start at version 1.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED = (
    "projects",
    "repositories",
    "worktrees",
    "settings",
    "templates",
    "template_placeholders",
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
