"""The audit context: a trail of what happened, which outlives what it describes."""

from __future__ import annotations

from agentkeel.domain.audit.commands import CommandRecord
from agentkeel.domain.audit.consumers import EventConsumer
from agentkeel.domain.audit.entries import (
    AuditEntry,
    EventCategory,
    EventSource,
    Severity,
)
from agentkeel.domain.audit.events import (
    AuditLogsPurged,
    EventLogPurged,
    RecordsPurged,
)

__all__ = [
    "AuditEntry",
    "AuditLogsPurged",
    "CommandRecord",
    "EventCategory",
    "EventConsumer",
    "EventLogPurged",
    "EventSource",
    "RecordsPurged",
    "Severity",
]
