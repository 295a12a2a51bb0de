"""Repositories of the audit context: the audit trail, idempotency keys, the event log and
its named consumers."""

from agentkeel.repositories.audit.commands import IdempotencyKeysTable
from agentkeel.repositories.audit.consumers import EventConsumersTable
from agentkeel.repositories.audit.entries import AuditLogsTable
from agentkeel.repositories.audit.events import EventLogTable, log_rows

__all__ = [
    "AuditLogsTable",
    "EventConsumersTable",
    "EventLogTable",
    "IdempotencyKeysTable",
    "log_rows",
]
