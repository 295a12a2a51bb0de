"""step runners: workflow_steps.runner_agent_id and runner_pid, who runs a step

Recovery fails a running step only when its recorded runner is gone; before this revision
nothing recorded one. Existing steps get no runner (NULL): recovery leaves them alone.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 04:55:33.688113
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workflow_steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("runner_agent_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("runner_pid", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            "ix_workflow_steps_runner_agent_id", ["runner_agent_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_workflow_steps_runner_agent_id_agents"),
            "agents",
            ["runner_agent_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("workflow_steps", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_workflow_steps_runner_agent_id_agents"), type_="foreignkey"
        )
        batch_op.drop_index("ix_workflow_steps_runner_agent_id")
        batch_op.drop_column("runner_pid")
        batch_op.drop_column("runner_agent_id")
