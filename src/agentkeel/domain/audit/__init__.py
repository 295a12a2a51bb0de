"""The audit context: a trail of what happened, which outlives what it describes."""

from __future__ import annotations

from agentkeel.domain.audit.commands import CommandRecord
from agentkeel.domain.audit.entries import (
    AuditEntry,
    EventCategory,
    EventSource,
    Severity,
)
from agentkeel.domain.audit.events import (
    AuditLogsPurged,
)

__all__ = [
    "AuditEntry",
    "AuditLogsPurged",
    "CommandRecord",
    "EventCategory",
    "EventSource",
    "Severity",
]
