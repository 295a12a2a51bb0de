"""finder indexes: (what a finder filters on, its order) for agents, conversations, messages,
metrics, audit entries and workflow steps

The finders an orchestrator calls in its loop (agents by status or profile, the listen poll,
unread and unanswered messages, a thread's replies, metrics by agent or task, an entity's
audit trail, steps by status) filter on one or two columns and read in time order. With an
index on the filter alone the database finds the rows, then sorts all of them before it can
return the first: a page of the newest entries cost a sort of the entity's whole trail.
Each new index leads with the columns of the index it replaces (a foreign key's, for the
agent and parent references), so cascades and joins find rows by it as before, and ends
with the finder's order column; the replaced index is dropped, not kept beside it.
`conversations (status, created_at)` is new: listing conversations by status scanned the
table. tests/contract/test_finder_indexes.py checks every finder's plan on SQLite and
PostgreSQL.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 17:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, the new index's columns, the columns of the index it replaces, or None)
_INDEXES: list[tuple[str, list[str], list[str] | None]] = [
    ("agents", ["profile_id", "spawned_at"], ["profile_id"]),
    ("agents", ["status", "spawned_at"], ["status"]),
    ("conversations", ["from_agent_id", "created_at"], ["from_agent_id"]),
    ("conversations", ["to_agent_id", "status", "created_at"], ["to_agent_id", "status"]),
    ("conversations", ["status", "created_at"], None),
    (
        "messages",
        ["recipient_agent_id", "responded_at", "created_at"],
        ["recipient_agent_id"],
    ),
    ("messages", ["parent_message_id", "created_at"], ["parent_message_id"]),
    ("messages", ["recipient_type", "read_at", "created_at"], ["recipient_type", "read_at"]),
    ("metrics", ["agent_id", "timestamp"], ["agent_id"]),
    ("metrics", ["task_id", "timestamp"], ["task_id"]),
    (
        "audit_logs",
        ["entity_type", "entity_id", "timestamp"],
        ["entity_type", "entity_id"],
    ),
    ("audit_logs", ["event_type", "timestamp"], ["event_type"]),
    ("audit_logs", ["event_category", "timestamp"], ["event_category"]),
    ("workflow_steps", ["status", "workflow_id", "step_number"], ["status"]),
]


def _name(table: str, columns: list[str]) -> str:
    return f"ix_{table}_{'_'.join(columns)}"


def upgrade() -> None:
    for table, columns, replaced in _INDEXES:
        op.create_index(_name(table, columns), table, columns)
        if replaced is not None:
            op.drop_index(_name(table, replaced), table_name=table)


def downgrade() -> None:
    for table, columns, replaced in reversed(_INDEXES):
        if replaced is not None:
            op.create_index(_name(table, replaced), table, replaced)
        op.drop_index(_name(table, columns), table_name=table)
