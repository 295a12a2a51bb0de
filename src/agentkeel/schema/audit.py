"""Tables of the audit context."""

from agentkeel.domain.audit import AuditEntry, CommandRecord
from agentkeel.schema.base import entity_table, index, references

audit_logs = entity_table(
    AuditEntry,
    "audit_logs",
    # The trail is read by time: each filter's index ends with `timestamp`.
    index("entity_type", "entity_id", "timestamp"),
    index("event_type", "timestamp"),
    index("event_category", "timestamp"),
    index("timestamp"),
    references("workflow_id", "workflows", on_delete="SET NULL", index=False),
    references("workflow_step_id", "workflow_steps", on_delete="SET NULL"),
    index("workflow_id", "timestamp"),
)

# What each idempotency key created (see TableRepository._once). No foreign key:
# a key stays used after what it created is deleted.
# The retention purge removes keys by age (index on created_at).
idempotency_keys = entity_table(CommandRecord, "idempotency_keys", index("created_at"))
